package storage

import "github.com/redis/go-redis/v9"

// Hooks for the tests in package storage_test, which damage records the way
// an operator or a newer songbot might.

func RedisClient(r *Redis) redis.UniversalClient { return r.client }

// RedisKeys returns the job key of id, the due key and the bad key.
func RedisKeys(r *Redis, id string) (job, due, bad string) {
	return r.jobKey(id), r.keys.due, r.keys.bad
}

// RedisKeysFor is the layout of prefix, as doc.go describes it.
func RedisKeysFor(prefix, id string) (job, due, bad string) {
	k := newRedisKeys(prefix)
	return k.job + id, k.due, k.bad
}
