package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"strconv"
	"time"

	"go.etcd.io/bbolt"
)

var (
	_ Settings = (*Bolt)(nil)
	_ Roster   = (*Bolt)(nil)
)

// dayCountPrunePerAdmit bounds how many day counts of past days one
// admission deletes: more than the one or two it adds, so the bucket
// holds about two days' worth.
const dayCountPrunePerAdmit = 4

// dayCountKey names a count of day's admissions: the bot's when guildID
// is empty, else the guild's. The day comes first, so the bucket walks
// oldest first and pruning starts at its front.
func dayCountKey(day, guildID string) []byte {
	k := append([]byte(day), 0)
	if guildID == "" {
		return append(k, "bot"...)
	}
	k = append(k, "guild"...)
	k = append(k, 0)
	return append(k, guildID...)
}

// dayCount reads a count; a damaged one reads as zero.
func (g gateTx) dayCount(key []byte) int {
	n, _ := parseCount(string(g.dayCounts.Get(key)))
	return n
}

// addDayCount adds delta to a count, never below zero; a count of zero
// is deleted.
func (g gateTx) addDayCount(key []byte, delta int) error {
	n := max(g.dayCount(key)+delta, 0)
	if n == 0 {
		return g.dayCounts.Delete(key)
	}
	return g.dayCounts.Put(key, []byte(strconv.Itoa(n)))
}

// pruneDayCounts deletes up to dayCountPrunePerAdmit counts of days
// before keep (YYYYMMDD).
func (g gateTx) pruneDayCounts(keep string) error {
	c := g.dayCounts.Cursor()
	for range dayCountPrunePerAdmit {
		k, _ := c.First()
		if k == nil || string(k[:min(len(k), len(keep))]) >= keep {
			return nil
		}
		if err := g.dayCounts.Delete(bytes.Clone(k)); err != nil {
			return err
		}
	}
	return nil
}

// settingsOf is what Admit reads of a guild's settings: damaged fields
// read as unset, so that a damaged record never blocks admissions.
func (g gateTx) settingsOf(guildID string) GuildSettings {
	if guildID == "" {
		return GuildSettings{}
	}
	f, err := parseFields(g.settings.Get([]byte(guildID)))
	if err != nil {
		return GuildSettings{}
	}
	gs, _ := decodeGuildSettings(f, false)
	return gs
}

// GuildSettings implements Settings.
func (b *Bolt) GuildSettings(ctx context.Context, guildID string) (GuildSettings, error) {
	if err := checkGuild(ctx, "guild settings", guildID); err != nil {
		return GuildSettings{}, err
	}
	var gs GuildSettings
	err := b.db.View(func(tx *bbolt.Tx) error {
		var err error
		gs, err = readSettings(tx.Bucket(bucketSettings), guildID)
		return err
	})
	return gs, wrapErr("guild settings", err)
}

func readSettings(b *bbolt.Bucket, guildID string) (GuildSettings, error) {
	raw := b.Get([]byte(guildID))
	if raw == nil {
		return GuildSettings{}, nil
	}
	f, err := parseFields(raw)
	if err != nil {
		return GuildSettings{}, err
	}
	return decodeGuildSettings(f, true)
}

// UpdateGuildSettings implements Settings in one write transaction; change
// runs once.
func (b *Bolt) UpdateGuildSettings(ctx context.Context, guildID string, change func(*GuildSettings)) (GuildSettings, error) {
	const op = "update guild settings"
	if err := checkGuild(ctx, op, guildID); err != nil {
		return GuildSettings{}, err
	}
	var stored GuildSettings
	err := b.update(func(t boltTx) error {
		gs, err := readSettings(t.gate.settings, guildID)
		if err != nil {
			return err
		}
		change(&gs)
		pairs := encodeGuildSettings(gs)
		if len(pairs) == 0 {
			stored = GuildSettings{}
			return t.gate.settings.Delete([]byte(guildID))
		}
		f := pairsToMap(pairs)
		if stored, err = decodeGuildSettings(f, true); err != nil {
			return err
		}
		raw, err := json.Marshal(f)
		if err != nil {
			return err
		}
		return t.gate.settings.Put([]byte(guildID), raw)
	})
	if err != nil {
		return GuildSettings{}, wrapErr(op, err)
	}
	return stored, nil
}

// putAdmitted stores an admitted job: its request with the day whose
// counts it raised, its state with, when queued, the place its reply
// shows at nowMs, and when running its due entry.
func (t boltTx) putAdmitted(job Job, run bool, day string, position int, nowMs int64) error {
	req := pairsToMap(encodeRequest(job.Request))
	req[fieldAdmittedDay] = day
	if err := t.putRequestFields(job.ID, req); err != nil {
		return err
	}
	state := pairsToMap(encodeState(job.State))
	if !run {
		state[fieldShownPosition] = strconv.Itoa(position)
		state[fieldShownAt] = strconv.FormatInt(nowMs, 10)
	}
	return t.putState(job.ID, boltRecord{}, state, run)
}

// Cancel implements Roster in one write transaction, which Promote's
// cannot interleave with.
func (b *Bolt) Cancel(ctx context.Context, now time.Time, id string) (Job, error) {
	if err := ctx.Err(); err != nil {
		return Job{}, wrapErr("cancel", err)
	}
	var (
		job    Job
		result error
	)
	err := b.batch(func(t boltTx) error {
		var err error
		job, result, err = t.cancel(id)
		return err
	})
	if err != nil {
		return Job{}, wrapErr("cancel", err)
	}
	return job, wrapErr("cancel", result)
}

// cancel returns the job, or its outcome (ErrNotFound, ErrNotQueued, or
// ErrCorrupt for a record it removed but cannot return), apart from an
// error that must abort the transaction.
func (t boltTx) cancel(id string) (job Job, result, abort error) {
	g := t.gate
	raw := t.jobs.Get([]byte(id))
	if raw == nil {
		if g.queueIndex.Get([]byte(id)) != nil { // a lost record's place
			if err := t.release(id, nil); err != nil {
				return Job{}, nil, err
			}
		}
		return Job{}, ErrNotFound, nil
	}
	if g.queueIndex.Get([]byte(id)) == nil {
		return Job{}, ErrNotQueued, nil
	}
	raw = bytes.Clone(raw)
	rec, _, err := t.load(id)
	if err == nil {
		job, err = rec.job(id)
	}
	result = err
	if err := t.deleteDue(id); err != nil {
		return Job{}, nil, err
	}
	if err := t.release(id, raw); err != nil {
		return Job{}, nil, err
	}
	if day := rec.req[fieldAdmittedDay]; day != "" {
		if err := t.takeAdmission(rec.req[fieldUserID], rec.req[fieldGuildID], day); err != nil {
			return Job{}, nil, err
		}
	}
	if err := t.deleteRecord(id); err != nil {
		return Job{}, nil, err
	}
	if result != nil {
		return Job{}, result, nil
	}
	return job, nil, nil
}

// takeAdmission takes one admission of day off the user's, the guild's
// and the bot's counts, never below zero. The user's count is of one day
// only: one of an earlier day has been replaced and needs nothing.
func (t boltTx) takeAdmission(userID, guildID, day string) error {
	g := t.gate
	if userID != "" {
		var ul userLimits
		if raw := g.userLimits.Get([]byte(userID)); raw != nil && json.Unmarshal(raw, &ul) == nil && ul.Day == day && ul.N > 0 {
			ul.N--
			raw, err := json.Marshal(ul)
			if err != nil {
				return err
			}
			if err := g.userLimits.Put([]byte(userID), raw); err != nil {
				return err
			}
		}
	}
	if guildID != "" {
		if err := g.addDayCount(dayCountKey(day, guildID), -1); err != nil {
			return err
		}
	}
	return g.addDayCount(dayCountKey(day, ""), -1)
}

// GuildJobs implements Roster.
func (b *Bolt) GuildJobs(ctx context.Context, guildID string) ([]ActiveJob, error) {
	return b.activeJobs(ctx, "guild jobs", bucketGuildActive, guildID)
}

// UserJobs implements Roster.
func (b *Bolt) UserJobs(ctx context.Context, userID string) ([]ActiveJob, error) {
	return b.activeJobs(ctx, "user jobs", bucketUserActive, userID)
}

// activeJobs reads the owner's members in a read transaction; members
// whose record has gone are then deleted in a write one, which checks
// again that the record is still gone.
func (b *Bolt) activeJobs(ctx context.Context, op string, bucket []byte, owner string) ([]ActiveJob, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrapErr(op, err)
	}
	var (
		jobs  []ActiveJob
		stale []string
	)
	err := b.db.View(func(tx *bbolt.Tx) error {
		t := b.txOf(tx)
		prefix := memberKey(owner, "")
		var positions map[string]int
		c := tx.Bucket(bucket).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			id := string(k[len(prefix):])
			aj, found := b.activeJob(ctx, t, op, id)
			if !found {
				stale = append(stale, id)
				continue
			}
			if aj == nil {
				continue
			}
			if t.gate.queueIndex.Get([]byte(id)) != nil {
				if positions == nil {
					positions = t.queuePositions()
				}
				aj.Queued, aj.Position = true, positions[id]
			}
			jobs = append(jobs, *aj)
		}
		return nil
	})
	if err != nil {
		return nil, wrapErr(op, err)
	}
	if len(stale) > 0 {
		err := b.update(func(t boltTx) error {
			for _, id := range stale {
				if t.jobs.Get([]byte(id)) != nil {
					continue
				}
				if err := activeBucket(t, bucket).Delete(memberKey(owner, id)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, wrapErr(op, err)
		}
	}
	SortActive(jobs)
	return jobs, nil
}

// activeBucket picks the active bucket named bucket out of t.
func activeBucket(t boltTx, bucket []byte) *bbolt.Bucket {
	if bytes.Equal(bucket, bucketGuildActive) {
		return t.gate.guildActive
	}
	return t.gate.userActive
}

// activeJob loads one job for the roster. found is false when its record
// has gone; a nil job with found true is a record that cannot be decoded,
// left out and logged (Claim moves it aside when it comes due).
func (b *Bolt) activeJob(ctx context.Context, t boltTx, op, id string) (aj *ActiveJob, found bool) {
	rec, found, err := t.load(id)
	if !found {
		return nil, false
	}
	var job Job
	if err == nil {
		job, err = rec.job(id)
	}
	if err != nil {
		b.log.ErrorContext(ctx, "storage: "+op+": leaving out an undecodable job", "id", id, "err", err)
		return nil, true
	}
	return &ActiveJob{Job: job, ShownPosition: shownOf(rec.state)}, true
}

// queuePositions walks the queue once: each queued id's 1-based place,
// counting only jobs whose record exists, as Queue numbers them.
func (t boltTx) queuePositions() map[string]int {
	pos := map[string]int{}
	c := t.gate.queue.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if t.jobs.Get(v) != nil {
			pos[string(v)] = len(pos) + 1
		}
	}
	return pos
}

// Usage implements Roster in one read transaction.
func (b *Bolt) Usage(ctx context.Context, now time.Time, userID, guildID string) (Usage, error) {
	if err := ctx.Err(); err != nil {
		return Usage{}, wrapErr("usage", err)
	}
	day, nowMs := utcDay(now), dueMillis(now)
	var u Usage
	err := b.db.View(func(tx *bbolt.Tx) error {
		g := gateBucketsOf(tx)
		var ul userLimits
		if raw := g.userLimits.Get([]byte(userID)); raw != nil {
			json.Unmarshal(raw, &ul) // damaged: remember nothing
		}
		if ul.Day == day {
			u.UserToday = ul.N
		}
		if ul.Until > nowMs {
			u.CooldownUntil = time.UnixMilli(ul.Until).UTC()
		}
		if guildID != "" {
			u.GuildToday = g.dayCount(dayCountKey(day, guildID))
		}
		u.BotToday = g.dayCount(dayCountKey(day, ""))
		return nil
	})
	return u, wrapErr("usage", err)
}

// Queue implements Roster in one read transaction.
func (b *Bolt) Queue(ctx context.Context, limit int) ([]ActiveJob, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrapErr("queue", err)
	}
	var jobs []ActiveJob
	err := b.db.View(func(tx *bbolt.Tx) error {
		t := b.txOf(tx)
		c := t.gate.queue.Cursor()
		pos := 0
		for k, v := c.First(); k != nil && (limit <= 0 || len(jobs) < limit); k, v = c.Next() {
			aj, found := b.activeJob(ctx, t, "queue", string(v))
			if !found {
				continue // Promote releases it when it reaches it
			}
			pos++
			if aj != nil {
				aj.Queued, aj.Position = true, pos
				jobs = append(jobs, *aj)
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrapErr("queue", err)
	}
	return jobs, nil
}

// ClaimPositionEdit implements Roster in one write transaction; it
// rewrites only the job's small state value.
func (b *Bolt) ClaimPositionEdit(ctx context.Context, now time.Time, id string, position int, every time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, wrapErr("claim position edit", err)
	}
	nowMs := dueMillis(now)
	var claimed bool
	err := b.batch(func(t boltTx) error {
		claimed = false
		if t.gate.queueIndex.Get([]byte(id)) == nil {
			return nil
		}
		rec, found, err := t.load(id)
		if !found || err != nil {
			return nil // gone, or Claim's to move aside
		}
		if shownOf(rec.state) == position {
			return nil
		}
		if at, err := parseTime(rec.state, fieldShownAt); err == nil && every > 0 && !at.IsZero() &&
			nowMs-at.UnixMilli() < every.Milliseconds() {
			return nil
		}
		state := maps.Clone(rec.state)
		state[fieldShownPosition] = strconv.Itoa(position)
		state[fieldShownAt] = strconv.FormatInt(nowMs, 10)
		if err := t.putState(id, rec, state, false); err != nil {
			return err
		}
		claimed = true
		return nil
	})
	if err != nil {
		return false, wrapErr("claim position edit", err)
	}
	return claimed, nil
}
