package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

var _ History = (*Redis)(nil)

// History keys start with the jobs' key base, so they share the prefix and
// hash tag (one Cluster slot). The layout is in doc.go.

// songKeyPrefix starts each song hash's key; the ref follows.
func (r *Redis) songKeyPrefix() string { return r.keys.base + "song:" }

func (r *Redis) userSongsKey(userID string) string {
	return r.keys.base + "user:" + userID + ":songs"
}

func (r *Redis) metaKey() string { return r.keys.base + "meta" }

// AddSong implements History in one script call: the song hash
// (replaced, with its TTL), and the user's sorted set, trimmed to the songs
// created within ttl and to the newest historyPerUser.
func (r *Redis) AddSong(ctx context.Context, song Song, ttl time.Duration) error {
	return r.addSong(ctx, time.Now(), song, ttl)
}

func (r *Redis) addSong(ctx context.Context, now time.Time, song Song, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return wrapErr("add song", err)
	}
	if err := CheckSong(song); err != nil {
		return err
	}
	ttl = max(ttl, 0)
	oldest := "-inf" // with no TTL, no song is too old
	if ttl > 0 {
		oldest = "(" + strconv.FormatInt(now.Add(-ttl).UnixMilli(), 10)
	}
	ttlMillis := ttl.Milliseconds()
	if ttl > 0 && ttlMillis == 0 {
		ttlMillis = 1 // as go-redis's PExpire rounds it: a TTL, not none
	}
	args := []any{song.Ref, dueMillis(song.CreatedAt), ttlMillis, oldest, historyPerUser}
	for _, f := range encodeSong(song, songExpiry(now, ttl)) {
		args = append(args, f)
	}
	keys := []string{r.songKeyPrefix() + song.Ref, r.userSongsKey(song.UserID)}
	return wrapErr("add song", addSongScript.Run(ctx, r.client, keys, args...).Err())
}

// addSongScript replaces a song's hash and files it in its user's sorted
// set, which it trims to the songs newer than a cutoff and to the newest
// few. A TTL of 0 keeps both for ever.
//
//	KEYS[1] song hash, KEYS[2] the user's sorted set
//	ARGV[1] ref, ARGV[2] created at (unix ms), ARGV[3] TTL in ms (0: none),
//	ARGV[4] cutoff score ("(<unix ms>", or "-inf"), ARGV[5] songs kept,
//	ARGV[6..] the hash's fields and values
var addSongScript = redis.NewScript(`
local ttl = tonumber(ARGV[3])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[5]) - 1)
if ttl > 0 then
	redis.call('PEXPIRE', KEYS[1], ttl)
	redis.call('PEXPIRE', KEYS[2], ttl)
else
	redis.call('PERSIST', KEYS[2])
end
return 1
`)

// Song implements History.
func (r *Redis) Song(ctx context.Context, ref string) (Song, error) {
	if err := ctx.Err(); err != nil {
		return Song{}, wrapErr("song", err)
	}
	fields, err := r.client.HGetAll(ctx, r.songKeyPrefix()+ref).Result()
	if redis.HasErrorPrefix(err, "WRONGTYPE") {
		err = fmt.Errorf("%w: the key is not a hash", ErrCorrupt)
	}
	if err != nil {
		return Song{}, wrapErr("song", err)
	}
	if len(fields) == 0 {
		return Song{}, wrapErr("song", errSongNotFound)
	}
	song, _, err := decodeSong(ref, fields)
	if err != nil {
		return Song{}, wrapErr("song", err)
	}
	return song, nil
}

// Songs implements History in one script call, which also removes the refs
// whose song hash has expired from the user's set. Records that cannot be
// decoded are logged and left out.
func (r *Redis) Songs(ctx context.Context, userID string, limit int) ([]Song, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrapErr("songs", err)
	}
	if limit <= 0 || userID == "" {
		return nil, nil
	}
	res, err := songsScript.Run(ctx, r.client, []string{r.userSongsKey(userID)},
		r.songKeyPrefix(), limit, strconv.Itoa(songRecordVersion)).Slice()
	if err != nil {
		return nil, wrapErr("songs", err)
	}
	songs := make([]Song, 0, min(len(res)/2, limit))
	for i := 0; i+1 < len(res); i += 2 {
		ref, _ := res[i].(string)
		song, _, err := decodeSong(ref, fieldMap(res[i+1]))
		if err == nil && song.UserID != userID {
			err = fmt.Errorf("%w: the song belongs to another user", ErrCorrupt)
		}
		if err != nil {
			r.log.ErrorContext(ctx, "storage: leaving an undecodable song out of a list", "ref", ref, "err", err)
			continue
		}
		songs = append(songs, song)
	}
	return songs, nil
}

// Meta implements History.
func (r *Redis) Meta(ctx context.Context, key string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", wrapErr("meta", err)
	}
	v, err := r.client.HGet(ctx, r.metaKey(), key).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return v, wrapErr("meta", err)
}

// SetMeta implements History.
func (r *Redis) SetMeta(ctx context.Context, key, value string) error {
	if err := ctx.Err(); err != nil {
		return wrapErr("set meta", err)
	}
	if key == "" {
		return errEmptyMetaKey
	}
	return wrapErr("set meta", r.client.HSet(ctx, r.metaKey(), key, value).Err())
}

// songsScript returns a user's songs newest first as a flat array: ref,
// HGETALL of its hash, ref, HGETALL, ... It stops after limit hashes of the
// current version, so a damaged record does not shorten the list, and
// removes the refs whose hash has expired. A key that is not a hash comes
// back with no fields, for the caller to log. The song hashes are built from
// the prefix in ARGV, which Cluster allows because they share the set's
// hash tag.
//
//	KEYS[1] the user's sorted set
//	ARGV[1] song key prefix, ARGV[2] limit, ARGV[3] record version
var songsScript = redis.NewScript(`
local limit = tonumber(ARGV[2])
local out, gone, found, start = {}, {}, 0, 0
while found < limit do
	local refs = redis.call('ZREVRANGE', KEYS[1], start, start + limit - 1)
	for _, ref in ipairs(refs) do
		local fields = redis.pcall('HGETALL', ARGV[1] .. ref)
		if fields.err then
			out[#out + 1] = ref
			out[#out + 1] = {}
		elseif #fields == 0 then
			gone[#gone + 1] = ref
		else
			for i = 1, #fields, 2 do
				if fields[i] == 'v' and fields[i + 1] == ARGV[3] then
					found = found + 1
				end
			end
			out[#out + 1] = ref
			out[#out + 1] = fields
		end
		if found == limit then
			break
		end
	end
	if #refs < limit then
		break
	end
	start = start + limit
end
for i = 1, #gone, 500 do
	redis.call('ZREM', KEYS[1], unpack(gone, i, math.min(i + 499, #gone)))
end
return out
`)
