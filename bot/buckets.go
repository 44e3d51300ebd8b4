package bot

import (
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// tokenBuckets are the rate-limit buckets of per-interaction requests (the
// interaction callback and the edits of @original), one per interaction
// token, owned by the bot so they can be dropped.
//
// Why not discordgo's own: its RateLimiter keys buckets by URL and never
// deletes one (discordgo issue 1333), so every interaction token would stay
// in memory for the life of the process; it also puts every JSON webhook
// edit of the process in one bucket, and makes interaction requests wait
// out a global 429 that Discord does not apply to them.
//
// Each bucket comes from its own discordgo.NewRatelimiter, so its global
// pointer is set (discordgo's Release writes through it) and a global
// header on one interaction's answer holds back that interaction only. A
// bucket is dropped when its last request is done unless Discord asked the
// token to wait; such a bucket, idle for longer than idle (a token's
// lifetime: nothing can be sent with it afterwards), is evicted by the
// next lock after a sweep is due.
type tokenBuckets struct {
	now  func() time.Time
	idle time.Duration

	mu        sync.Mutex
	m         map[string]*tokenBucket
	lastSweep time.Time
}

// tokenBucket is one token's bucket and the limiter that made it.
type tokenBucket struct {
	rl     *discordgo.RateLimiter
	b      *discordgo.Bucket
	users  int       // requests holding or waiting for it
	lastAt time.Time // when the last request let go of it
}

// sweepEvery bounds how often lock scans the map for idle buckets, so a
// request costs O(1) on average however many tokens are held.
const sweepEvery = time.Minute

func newTokenBuckets(now func() time.Time, idle time.Duration) *tokenBuckets {
	return &tokenBuckets{now: now, idle: idle, m: map[string]*tokenBucket{}, lastSweep: now()}
}

// lock returns token's bucket locked for one request, waiting while
// Discord's limits for it say so; the request's discordgo call releases
// the bucket with the response headers, and done must be called after it.
func (t *tokenBuckets) lock(token string) (b *discordgo.Bucket, done func()) {
	t.mu.Lock()
	now := t.now()
	if now.Sub(t.lastSweep) >= sweepEvery {
		t.sweepLocked(now)
	}
	tb := t.m[token]
	if tb == nil {
		rl := discordgo.NewRatelimiter()
		tb = &tokenBucket{rl: rl, b: rl.GetBucket(token)}
		t.m[token] = tb
	}
	tb.users++
	t.mu.Unlock()

	tb.rl.LockBucketObject(tb.b)
	return tb.b, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		tb.users--
		tb.lastAt = t.now()
		// A bucket with no wait pending tells the next request of its
		// token nothing, so it goes at once: the bot then holds buckets
		// only for requests in flight and tokens Discord is limiting, not
		// one for every interaction of the last 15 minutes.
		if tb.users == 0 && t.m[token] == tb && tb.rl.GetWaitTime(tb.b, 1) == 0 {
			delete(t.m, token)
		}
	}
}

// sweepLocked drops the buckets nobody used for idle. The caller holds mu.
func (t *tokenBuckets) sweepLocked(now time.Time) {
	t.lastSweep = now
	for token, tb := range t.m {
		if tb.users == 0 && now.Sub(tb.lastAt) > t.idle {
			delete(t.m, token)
		}
	}
}

// size is how many tokens have a bucket now (for tests and benchmarks).
func (t *tokenBuckets) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}
