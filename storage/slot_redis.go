package storage

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

var _ Slots = (*Redis)(nil)

// slotKey is the key of the slot name, under the jobs' key base (prefix
// and hash tag); the layout is in doc.go.
func (r *Redis) slotKey(name string) string { return r.keys.base + "slot:" + name }

// Reserve implements Slots in one round trip, on the Redis server's clock,
// so every process sharing the server and prefix sees the same slots.
func (r *Redis) Reserve(ctx context.Context, name string, ttl time.Duration) (time.Duration, error) {
	if done, err := checkReserve(ctx, name, ttl); done {
		return 0, err
	}
	ms := max(ttl.Milliseconds(), 1)
	if time.Duration(ms)*time.Millisecond < ttl {
		ms++ // whole milliseconds, never shorter than asked
	}
	left, err := reserveScript.Run(ctx, r.client, []string{r.slotKey(name)}, ms).Int64()
	if err != nil {
		return 0, wrapErr("reserve", err)
	}
	return time.Duration(left) * time.Millisecond, nil
}

// reserveScript takes KEYS[1] for ARGV[1] ms and returns 0, or, when it is
// taken, the ms left (at least 1, since 0 means taken). A key without
// expiry, which only a hand edit can leave, gets the ttl, so it cannot
// block the slot for ever.
var reserveScript = redis.NewScript(`
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
	return 0
end
local left = redis.call('PTTL', KEYS[1])
if left == -1 then
	redis.call('PEXPIRE', KEYS[1], ARGV[1])
	return tonumber(ARGV[1])
end
if left < 1 then
	return 1
end
return left
`)
