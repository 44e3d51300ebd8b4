package storage

import (
	"github.com/redis/go-redis/v9"
	"go.etcd.io/bbolt"
)

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

// BoltPut writes val under key in the named bucket.
func BoltPut(b *Bolt, bucket, key string, val []byte) error {
	return b.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bucket)).Put([]byte(key), val)
	})
}

// BoltDelete deletes key from the named bucket.
func BoltDelete(b *Bolt, bucket, key string) error {
	return b.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bucket)).Delete([]byte(key))
	})
}

// BoltGet reads key from the named bucket; nil if absent.
func BoltGet(b *Bolt, bucket, key string) []byte {
	var v []byte
	b.db.View(func(tx *bbolt.Tx) error {
		if got := tx.Bucket([]byte(bucket)).Get([]byte(key)); got != nil {
			v = append([]byte(nil), got...)
		}
		return nil
	})
	return v
}

// BoltLen counts the keys of the named bucket.
func BoltLen(b *Bolt, bucket string) int {
	var n int
	b.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket([]byte(bucket)).Stats().KeyN
		return nil
	})
	return n
}

// BoltCountWrites makes b count the puts and bytes it gives each job
// bucket, and returns a function that reports them since the last call.
// Call it before b is shared.
func BoltCountWrites(b *Bolt) func() (puts, bytes map[string]int) {
	b.writes = &boltWrites{puts: map[string]int{}, bytes: map[string]int{}}
	return b.writes.take
}

// leading and queued let the groupCommit test wait until writes queue.
func (g *groupCommit) leading() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.busy
}

func (g *groupCommit) queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}
