package storage

import (
	"bytes"
	"encoding/json"

	"go.etcd.io/bbolt"
)

// The Bolt gate's bookkeeping: counting, pruning and releasing the places
// jobs hold in the gate's buckets, inside the caller's write transaction.

// pruneUserLimits deletes the entries after user's, at most two, that
// remember nothing any more, so that over many admissions the bucket is
// swept without any one admission paying for a full scan.
func (g gateTx) pruneUserLimits(user, day string, nowMs, cooldownMs int64) error {
	var drop [][]byte
	c := g.userLimits.Cursor()
	c.Seek([]byte(user))
	for range 2 {
		k, v := c.Next()
		if k == nil {
			k, v = c.First()
		}
		if k == nil || string(k) == user {
			break
		}
		var u userLimits
		if json.Unmarshal(v, &u) != nil || u.stale(day, nowMs, cooldownMs) {
			drop = append(drop, bytes.Clone(k))
		}
	}
	for _, k := range drop {
		if err := g.userLimits.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// liveMembers counts owner's keys in an active bucket. Like the Redis
// script, it looks for members whose job record has gone, and deletes
// them, only when the count reaches limit.
func (t boltTx) liveMembers(b *bbolt.Bucket, owner string, limit int) (int, error) {
	prefix := memberKey(owner, "")
	var members [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		members = append(members, bytes.Clone(k))
	}
	if len(members) < limit {
		return len(members), nil
	}
	n := 0
	for _, k := range members {
		if t.jobs.Get(k[len(prefix):]) != nil {
			n++
			continue
		}
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// liveIDs counts the jobs in b, the running bucket or the queue, as
// liveMembers counts a user's: only when the count reaches limit does it
// look for jobs whose record has gone, and release them. idOf picks the job
// id out of an entry: the running bucket's key, the queue's value.
func (t boltTx) liveIDs(b *bbolt.Bucket, idOf func(k, v []byte) []byte, limit int) (int, error) {
	n := countKeys(b)
	if n < limit {
		return n, nil
	}
	var gone []string
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if id := idOf(k, v); t.jobs.Get(id) == nil {
			gone = append(gone, string(id))
		}
	}
	for _, id := range gone {
		if err := t.release(id, nil); err != nil {
			return 0, err
		}
	}
	return n - len(gone), nil
}

func runningID(k, _ []byte) []byte { return k }
func queuedID(_, v []byte) []byte  { return v }

func countKeys(b *bbolt.Bucket) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

// position is id's 1-based place in the queue, 0 when it is not queued. It
// walks the queue up to id, which is short: the queue is bounded by
// MaxQueued.
func (g gateTx) position(id []byte) int {
	key := g.queueIndex.Get(id)
	if key == nil {
		return 0
	}
	n := 0
	c := g.queue.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
		if bytes.Equal(k, key) {
			return n
		}
	}
	return 0
}

// release removes id from the running set, the queue and its owners'
// active buckets. raw is the job's record (its request), which names its
// user and guild; when it cannot (nil, or too damaged to parse) the active
// buckets are scanned for the id, which only damaged or lost records pay.
// A nil raw means the record has gone, so its state goes too.
func (t boltTx) release(id string, raw []byte) error {
	g := t.gate
	if err := g.running.Delete([]byte(id)); err != nil {
		return err
	}
	if err := g.leaveQueue(id); err != nil {
		return err
	}
	if raw == nil {
		if err := t.state.Delete([]byte(id)); err != nil {
			return err
		}
	}
	f, err := parseFields(raw)
	if raw == nil || err != nil {
		for _, b := range []*bbolt.Bucket{g.userActive, g.guildActive} {
			if err := deleteMember(b, id); err != nil {
				return err
			}
		}
		return nil
	}
	if u := f[fieldUserID]; u != "" {
		if err := g.userActive.Delete(memberKey(u, id)); err != nil {
			return err
		}
	}
	if gid := f[fieldGuildID]; gid != "" {
		if err := g.guildActive.Delete(memberKey(gid, id)); err != nil {
			return err
		}
	}
	return nil
}

// leaveQueue takes id out of the queue and its index, if it is queued.
func (g gateTx) leaveQueue(id string) error {
	key := g.queueIndex.Get([]byte(id))
	if key == nil {
		return nil
	}
	if err := g.queue.Delete(bytes.Clone(key)); err != nil {
		return err
	}
	return g.queueIndex.Delete([]byte(id))
}

// deleteMember deletes every key of b that ends in 0x00 id.
func deleteMember(b *bbolt.Bucket, id string) error {
	suffix := memberKey("", id)
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if bytes.HasSuffix(k, suffix) {
			keys = append(keys, bytes.Clone(k))
		}
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// join counts a job stored by Save as running, under its user and guild:
// it leaves the queue and the owners of the record it replaced (old, nil
// when new).
func (t boltTx) join(job Job, old []byte) error {
	if old != nil {
		if err := t.release(job.ID, old); err != nil {
			return err
		}
	}
	g := t.gate
	if err := g.running.Put([]byte(job.ID), nil); err != nil {
		return err
	}
	if job.UserID != "" {
		if err := g.userActive.Put(memberKey(job.UserID, job.ID), nil); err != nil {
			return err
		}
	}
	if job.GuildID != "" {
		return g.guildActive.Put(memberKey(job.GuildID, job.ID), nil)
	}
	return nil
}

// markRunning is what Reschedule adds: a due job runs, so it joins the
// running set and leaves the queue if it was queued.
func (t boltTx) markRunning(id string) error {
	g := t.gate
	if err := g.leaveQueue(id); err != nil {
		return err
	}
	if g.running.Get([]byte(id)) != nil {
		return nil
	}
	return g.running.Put([]byte(id), nil)
}
