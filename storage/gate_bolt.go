package storage

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"maps"
	"strconv"
	"time"

	"go.etcd.io/bbolt"
)

var _ Gate = (*Bolt)(nil)

// Gate buckets; see the package documentation. OpenBolt creates them.
var (
	bucketRunning     = []byte("running")        // job id -> empty
	bucketQueue       = []byte("queue")          // 8-byte big-endian sequence -> job id
	bucketQueueIndex  = []byte("queue_index")    // job id -> its key in queue
	bucketUserActive  = []byte("user_active")    // user id 0x00 job id -> empty
	bucketGuildActive = []byte("guild_active")   // guild id 0x00 job id -> empty
	bucketUserLimits  = []byte("user_limits")    // user id -> JSON userLimits
	bucketSeen        = []byte("seen")           // admitted id -> 8-byte expiry ms
	bucketSeenExpiry  = []byte("seen_expiry")    // 8-byte expiry ms, then id -> empty
	bucketSettings    = []byte("guild_settings") // guild id -> JSON settings
	bucketDayCounts   = []byte("day_counts")     // YYYYMMDD 0x00 "bot" or "guild" 0x00 guild id -> decimal count
)

var gateBuckets = [][]byte{
	bucketRunning, bucketQueue, bucketQueueIndex, bucketUserActive, bucketGuildActive, bucketUserLimits,
	bucketSeen, bucketSeenExpiry, bucketSettings, bucketDayCounts,
}

// gateTx holds the gate's buckets of one transaction.
type gateTx struct {
	running, queue, queueIndex, userActive, guildActive, userLimits *bbolt.Bucket
	seen, seenExpiry, settings, dayCounts                           *bbolt.Bucket
}

func gateBucketsOf(tx *bbolt.Tx) gateTx {
	return gateTx{
		running:     tx.Bucket(bucketRunning),
		queue:       tx.Bucket(bucketQueue),
		queueIndex:  tx.Bucket(bucketQueueIndex),
		userActive:  tx.Bucket(bucketUserActive),
		guildActive: tx.Bucket(bucketGuildActive),
		userLimits:  tx.Bucket(bucketUserLimits),
		seen:        tx.Bucket(bucketSeen),
		seenExpiry:  tx.Bucket(bucketSeenExpiry),
		settings:    tx.Bucket(bucketSettings),
		dayCounts:   tx.Bucket(bucketDayCounts),
	}
}

// userLimits is what the cooldown and the daily limit remember of a user:
// the last admission (unix ms; 0 when the cooldown was off), when the
// cooldown it started ends (unix ms; absent in older entries and when the
// cooldown was off) and the count of admissions on Day (YYYYMMDD, UTC). A
// count of an earlier day reads as zero; an entry that remembers nothing
// any more is pruned by later admissions of other users.
type userLimits struct {
	Last  int64  `json:"last"`
	Until int64  `json:"until,omitempty"`
	Day   string `json:"day"`
	N     int    `json:"n"`
}

// stale reports whether u can no longer refuse anything on day at nowMs.
// An entry that knows when its cooldown ends is kept until then, whatever
// the cooldown of the admission that prunes it (a server's override may
// differ); an older one is judged by that admission's cooldown.
func (u userLimits) stale(day string, nowMs, cooldownMs int64) bool {
	if u.Until > 0 {
		return u.Day < day && u.Until <= nowMs
	}
	return u.Day < day && u.Last+cooldownMs <= nowMs
}

// memberKey is an active bucket's key: the owner, a 0 byte, the job id.
func memberKey(owner, id string) []byte {
	k := make([]byte, 0, len(owner)+1+len(id))
	k = append(k, owner...)
	k = append(k, 0)
	return append(k, id...)
}

// Admit implements Gate in one write transaction, which concurrent
// Admits share (see groupCommit); it returns once the job is on disk.
func (b *Bolt) Admit(ctx context.Context, now time.Time, job Job, limits Limits) (Admission, error) {
	if err := ctx.Err(); err != nil {
		return Admission{}, wrapErr("admit", err)
	}
	if err := checkAdmit(job); err != nil {
		return Admission{}, err
	}
	l := limits.normalized()
	var adm Admission
	err := b.batch(func(t boltTx) error {
		gs := t.gate.settingsOf(job.GuildID)
		eff := effective(l, gs.Overrides)
		var err error
		adm, err = t.admitOnce(now, job, eff, gs)
		adm.Limits = eff
		return err
	})
	if err != nil {
		return Admission{}, wrapErr("admit", err)
	}
	return adm, nil
}

// AdmitFromSong implements Gate: the song is read from the file, which
// costs no round trip, and then the job is admitted with its prompt.
// Songs leave the history only by expiring, so none can go in between.
func (b *Bolt) AdmitFromSong(ctx context.Context, now time.Time, job Job, ref string, limits Limits) (Admission, error) {
	if ref == "" {
		return Admission{}, errors.New("storage: admit from song: empty song ref")
	}
	song, err := b.Song(ctx, ref)
	if err != nil {
		return Admission{}, err
	}
	job.Prompt = song.Prompt
	adm, err := b.Admit(ctx, now, job, limits)
	if err == nil && !adm.Duplicate {
		adm.Prompt = song.Prompt
	}
	return adm, err
}

// admit is Admit's transaction; it checks in the order the Redis script
// does and returns the same verdicts. l are the limits with the server's
// overrides in place; gs says whether the server is paused.
func (t boltTx) admit(now time.Time, job Job, l Limits, gs GuildSettings) (Admission, error) {
	g, id := t.gate, []byte(job.ID)
	old := t.jobs.Get(id)
	if old != nil {
		if pos := g.position(id); pos > 0 {
			return Admission{Queued: true, Position: pos}, nil
		}
		if g.running.Get(id) != nil {
			return Admission{}, nil
		}
	}
	if gs.Paused {
		return Admission{Refused: RefusedPaused, PauseReason: gs.PauseReason}, nil
	}
	if l.UserMaxActive > 0 {
		if n, err := t.liveMembers(g.userActive, job.UserID, l.UserMaxActive); err != nil || n >= l.UserMaxActive {
			return Admission{Refused: RefusedUserActive}, err
		}
	}
	var ul userLimits
	if raw := g.userLimits.Get([]byte(job.UserID)); raw != nil {
		json.Unmarshal(raw, &ul) // damaged: remember nothing
	}
	nowMs, cooldown, day := dueMillis(now), l.cooldownMillis(), utcDay(now)
	if cooldown > 0 && ul.Last > 0 && ul.Last+cooldown > nowMs {
		return Admission{Refused: RefusedCooldown, RetryAt: time.UnixMilli(ul.Last + cooldown).UTC()}, nil
	}
	if ul.Day != day {
		ul.Day, ul.N = day, 0
	}
	if l.UserDailyLimit > 0 && ul.N >= l.UserDailyLimit {
		return Admission{Refused: RefusedDaily, RetryAt: NextUTCMidnight(now)}, nil
	}
	if job.GuildID != "" && l.GuildMaxActive > 0 {
		if n, err := t.liveMembers(g.guildActive, job.GuildID, l.GuildMaxActive); err != nil || n >= l.GuildMaxActive {
			return Admission{Refused: RefusedGuildActive}, err
		}
	}
	guildDay, botDay := dayCountKey(day, job.GuildID), dayCountKey(day, "")
	if job.GuildID != "" && l.GuildDailyLimit > 0 && g.dayCount(guildDay) >= l.GuildDailyLimit {
		return Admission{Refused: RefusedGuildDaily, RetryAt: NextUTCMidnight(now)}, nil
	}
	if l.DailyLimit > 0 && g.dayCount(botDay) >= l.DailyLimit {
		return Admission{Refused: RefusedBotDaily, RetryAt: NextUTCMidnight(now)}, nil
	}
	run := l.MaxRunning == 0
	if !run {
		if k, _ := g.queue.Cursor().First(); k == nil {
			n, err := t.liveIDs(g.running, runningID, l.MaxRunning)
			if err != nil {
				return Admission{}, err
			}
			run = n < l.MaxRunning
		}
	}
	if !run && l.MaxQueued > 0 {
		if n, err := t.liveIDs(g.queue, queuedID, l.MaxQueued); err != nil || n >= l.MaxQueued {
			return Admission{Refused: RefusedQueueFull}, err
		}
	}

	// Admitted: store the job, then count it.
	if old != nil { // a record no gate counted, written by an older songbot
		if err := t.deleteDue(job.ID); err != nil {
			return Admission{}, err
		}
		if err := t.release(job.ID, old); err != nil {
			return Admission{}, err
		}
	}
	var adm Admission
	if run {
		if err := g.running.Put(id, nil); err != nil {
			return Admission{}, err
		}
	} else {
		seq, err := g.queue.NextSequence()
		if err != nil {
			return Admission{}, err
		}
		key := binary.BigEndian.AppendUint64(nil, seq)
		if err := g.queue.Put(key, id); err != nil {
			return Admission{}, err
		}
		if err := g.queueIndex.Put(id, key); err != nil {
			return Admission{}, err
		}
		adm = Admission{Queued: true, Position: countKeys(g.queue)}
	}
	if err := t.putAdmitted(job, run, day, adm.Position, nowMs); err != nil { // a queued job has no due entry
		return Admission{}, err
	}
	if err := g.userActive.Put(memberKey(job.UserID, job.ID), nil); err != nil {
		return Admission{}, err
	}
	if job.GuildID != "" {
		if err := g.guildActive.Put(memberKey(job.GuildID, job.ID), nil); err != nil {
			return Admission{}, err
		}
	}
	if cooldown > 0 {
		ul.Last, ul.Until = nowMs, nowMs+cooldown
	}
	ul.N++
	raw, err := json.Marshal(ul)
	if err != nil {
		return Admission{}, err
	}
	if err := g.userLimits.Put([]byte(job.UserID), raw); err != nil {
		return Admission{}, err
	}
	if err := g.pruneUserLimits(job.UserID, day, nowMs, cooldown); err != nil {
		return Admission{}, err
	}
	if job.GuildID != "" {
		if err := g.addDayCount(guildDay, 1); err != nil {
			return Admission{}, err
		}
	}
	if err := g.addDayCount(botDay, 1); err != nil {
		return Admission{}, err
	}
	return adm, g.pruneDayCounts(utcDay(now.Add(-24 * time.Hour)))
}

// Promote implements Gate in one write transaction.
func (b *Bolt) Promote(ctx context.Context, now time.Time, limits Limits) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrapErr("promote", err)
	}
	l := limits.normalized()
	// Every process calls this on every turn of its poll loop: an empty
	// queue must not cost a write transaction, which syncs the file.
	var empty bool
	err := b.db.View(func(tx *bbolt.Tx) error {
		k, _ := tx.Bucket(bucketQueue).Cursor().First()
		empty = k == nil
		return nil
	})
	if err != nil || empty {
		return nil, wrapErr("promote", err)
	}
	var ids []string
	err = b.update(func(t boltTx) error {
		var err error
		ids, err = t.promote(now, l)
		return err
	})
	if err != nil {
		return nil, wrapErr("promote", err)
	}
	return ids, nil
}

func (t boltTx) promote(now time.Time, l Limits) ([]string, error) {
	g := t.gate
	if k, _ := g.queue.Cursor().First(); k == nil {
		return nil, nil
	}
	free := -1
	if l.MaxRunning > 0 {
		n, err := t.liveIDs(g.running, runningID, l.MaxRunning)
		if err != nil {
			return nil, err
		}
		if free = l.MaxRunning - n; free <= 0 {
			return nil, nil
		}
	}
	// Collect first: the cursor must not see this transaction's deletes.
	var heads, gone []string
	c := g.queue.Cursor()
	for k, v := c.First(); k != nil && len(heads) != free; k, v = c.Next() {
		if t.jobs.Get(v) == nil {
			gone = append(gone, string(v))
		} else {
			heads = append(heads, string(v))
		}
	}
	for _, id := range gone {
		if err := t.release(id, nil); err != nil {
			return nil, err
		}
	}
	nowMs := dueMillis(now)
	for _, id := range heads {
		if err := t.markRunning(id); err != nil {
			return nil, err
		}
		rec, _, err := t.load(id)
		if err != nil { // Claim moves it aside
			if err := t.due.Put(dueKey(nowMs, id), nil); err != nil {
				return nil, err
			}
			continue
		}
		state := maps.Clone(rec.state)
		state[fieldNextPollAt] = strconv.FormatInt(nowMs, 10)
		if err := t.putState(id, rec, state, true); err != nil {
			return nil, err
		}
	}
	return heads, nil
}

// QueuePosition implements Gate.
func (b *Bolt) QueuePosition(ctx context.Context, id string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, wrapErr("queue position", err)
	}
	var pos int
	err := b.db.View(func(tx *bbolt.Tx) error {
		pos = gateBucketsOf(tx).position([]byte(id))
		return nil
	})
	return pos, wrapErr("queue position", err)
}

// Counts implements Gate.
func (b *Bolt) Counts(ctx context.Context) (running, queued int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, wrapErr("counts", err)
	}
	err = b.db.View(func(tx *bbolt.Tx) error {
		g := gateBucketsOf(tx)
		running, queued = countKeys(g.running), countKeys(g.queue)
		return nil
	})
	return running, queued, wrapErr("counts", err)
}
