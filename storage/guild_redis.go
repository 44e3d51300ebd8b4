package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	_ Settings = (*Redis)(nil)
	_ Roster   = (*Redis)(nil)
)

// settingsTries bounds UpdateGuildSettings' optimistic retries: each
// retry means another admin's change landed in between, which two admins
// clicking at once cause a few times at most.
const settingsTries = 50

// GuildSettings implements Settings with one HGETALL.
func (r *Redis) GuildSettings(ctx context.Context, guildID string) (GuildSettings, error) {
	if err := checkGuild(ctx, "guild settings", guildID); err != nil {
		return GuildSettings{}, err
	}
	f, err := r.client.HGetAll(ctx, r.guildKey(guildID, "settings")).Result()
	if redis.HasErrorPrefix(err, "WRONGTYPE") {
		err = fmt.Errorf("%w: the key is not a hash", ErrCorrupt)
	}
	if err != nil {
		return GuildSettings{}, wrapErr("guild settings", err)
	}
	gs, err := decodeGuildSettings(f, true)
	return gs, wrapErr("guild settings", err)
}

// UpdateGuildSettings implements Settings with WATCH, MULTI and EXEC: it
// reads the hash, applies change and writes the whole hash back only if
// nobody wrote it meanwhile, else it reads again and change runs again,
// so change must only edit the settings it is given.
func (r *Redis) UpdateGuildSettings(ctx context.Context, guildID string, change func(*GuildSettings)) (GuildSettings, error) {
	const op = "update guild settings"
	if err := checkGuild(ctx, op, guildID); err != nil {
		return GuildSettings{}, err
	}
	key := r.guildKey(guildID, "settings")
	var stored GuildSettings
	update := func(tx *redis.Tx) error {
		f, err := tx.HGetAll(ctx, key).Result()
		if err != nil {
			return err
		}
		gs, err := decodeGuildSettings(f, true)
		if err != nil {
			return err
		}
		change(&gs)
		pairs := encodeGuildSettings(gs)
		if stored, err = decodeGuildSettings(pairsToMap(pairs), true); err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, key)
			if len(pairs) > 0 {
				args := make([]any, len(pairs))
				for i, s := range pairs {
					args[i] = s
				}
				p.HSet(ctx, key, args...)
			}
			return nil
		})
		return err
	}
	for range settingsTries {
		err := r.client.Watch(ctx, update, key)
		if errors.Is(err, redis.TxFailedErr) {
			if err := ctx.Err(); err != nil {
				return GuildSettings{}, wrapErr(op, err)
			}
			continue
		}
		if err != nil {
			return GuildSettings{}, wrapErr(op, err)
		}
		return stored, nil
	}
	return GuildSettings{}, fmt.Errorf("storage: %s: other writers changed the settings %d times in a row; try again", op, settingsTries)
}

// checkGuild refuses a settings call without a guild: settings exist for
// guilds only.
func checkGuild(ctx context.Context, op, guildID string) error {
	if err := ctx.Err(); err != nil {
		return wrapErr(op, err)
	}
	if guildID == "" {
		return fmt.Errorf("storage: %s: empty guild ID", op)
	}
	return nil
}

// Cancel implements Roster in one script call, so it and Promote, also a
// script, never both take one job.
func (r *Redis) Cancel(ctx context.Context, now time.Time, id string) (Job, error) {
	if err := ctx.Err(); err != nil {
		return Job{}, wrapErr("cancel", err)
	}
	keys := []string{r.jobKey(id), r.keys.due, r.keys.running, r.keys.queue}
	res, err := cancelScript.Run(ctx, r.client, keys, id, r.keys.base).Slice()
	if err != nil {
		return Job{}, wrapErr("cancel", err)
	}
	outcome, _ := res[0].(string)
	switch {
	case outcome == "not_found":
		return Job{}, wrapErr("cancel", ErrNotFound)
	case outcome == "not_queued":
		return Job{}, wrapErr("cancel", ErrNotQueued)
	case outcome != "ok" || len(res) != 2:
		return Job{}, fmt.Errorf("storage: cancel: the script returned %v", res)
	}
	// A record that cannot be decoded has left the queue and its counts
	// all the same; the error says why it cannot be returned.
	job, err := decodeRecord(id, fieldMap(res[1]), recordV1)
	if err != nil {
		return Job{}, wrapErr("cancel", err)
	}
	return job, nil
}

// GuildJobs implements Roster in one script call.
func (r *Redis) GuildJobs(ctx context.Context, guildID string) ([]ActiveJob, error) {
	return r.activeJobs(ctx, "guild jobs", r.guildActiveKey(guildID))
}

// UserJobs implements Roster in one script call.
func (r *Redis) UserJobs(ctx context.Context, userID string) ([]ActiveJob, error) {
	return r.activeJobs(ctx, "user jobs", r.userKey(userID, "active"))
}

func (r *Redis) activeJobs(ctx context.Context, op, set string) ([]ActiveJob, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrapErr(op, err)
	}
	res, err := activeJobsScript.Run(ctx, r.client, []string{set, r.keys.queue}, r.keys.job).Slice()
	if err != nil {
		return nil, wrapErr(op, err)
	}
	jobs := r.activeFrom(ctx, op, res)
	SortActive(jobs)
	return jobs, nil
}

// activeFrom reads a reply of id, position (0 when running), fields
// triples. A record that cannot be decoded is left out and logged: Claim
// moves it aside when it comes due, and a queue view must not fail for it.
func (r *Redis) activeFrom(ctx context.Context, op string, res []any) []ActiveJob {
	jobs := make([]ActiveJob, 0, len(res)/3)
	for i := 0; i+2 < len(res); i += 3 {
		id, _ := res[i].(string)
		pos, _ := res[i+1].(int64)
		f := fieldMap(res[i+2])
		job, err := decodeRecord(id, f, recordV1)
		if err != nil {
			r.log.ErrorContext(ctx, "storage: "+op+": leaving out an undecodable job", "id", id, "err", err)
			continue
		}
		jobs = append(jobs, ActiveJob{Job: job, Queued: pos > 0, Position: int(pos), ShownPosition: shownOf(f)})
	}
	return jobs
}

// Usage implements Roster with one MGET.
func (r *Redis) Usage(ctx context.Context, now time.Time, userID, guildID string) (Usage, error) {
	if err := ctx.Err(); err != nil {
		return Usage{}, wrapErr("usage", err)
	}
	day := utcDay(now)
	keys := []string{r.userKey(userID, "day:"+day), r.botDayKey(day), r.userKey(userID, "cooldown_until")}
	if guildID != "" {
		keys = append(keys, r.guildKey(guildID, "day:"+day))
	}
	vals, err := r.client.MGet(ctx, keys...).Result()
	if err != nil {
		return Usage{}, wrapErr("usage", err)
	}
	num := func(i int) int64 {
		if i >= len(vals) {
			return 0
		}
		s, _ := vals[i].(string)
		n, _ := strconv.ParseInt(s, 10, 64)
		return n
	}
	u := Usage{UserToday: int(num(0)), BotToday: int(num(1)), GuildToday: int(num(3))}
	if until := num(2); until > dueMillis(now) {
		u.CooldownUntil = time.UnixMilli(until).UTC()
	}
	return u, nil
}

// Queue implements Roster in one script call.
func (r *Redis) Queue(ctx context.Context, limit int) ([]ActiveJob, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrapErr("queue", err)
	}
	res, err := queueScript.Run(ctx, r.client, []string{r.keys.queue}, r.keys.job, max(limit, 0)).Slice()
	if err != nil {
		return nil, wrapErr("queue", err)
	}
	return r.activeFrom(ctx, "queue", res), nil
}

// ClaimPositionEdit implements Roster in one script call, so of callers
// in every process one gets true for a change of place.
func (r *Redis) ClaimPositionEdit(ctx context.Context, now time.Time, id string, position int, every time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, wrapErr("claim position edit", err)
	}
	n, err := claimPositionScript.Run(ctx, r.client, []string{r.jobKey(id), r.keys.queue},
		id, position, dueMillis(now), max(every, 0).Milliseconds()).Int()
	if err != nil {
		return false, wrapErr("claim position edit", err)
	}
	return n == 1, nil
}

// cancelScript removes a queued job as Finish would, and takes its
// admission off the user's, the guild's and the bot's counts of the day
// the hash records (admitted_day; a record admitted before that field
// existed takes nothing off), never below zero. The seen marker stays, so
// a redelivered interaction is still a duplicate. It returns {'ok',
// HGETALL of the hash as it was}, {'not_queued'} for a job that holds no
// queue place, or {'not_found'} when the hash is gone (dropping a stale
// queue entry).
//
//	KEYS[1] job hash, KEYS[2] due sorted set, KEYS[3] running set,
//	KEYS[4] queue
//	ARGV[1] id, ARGV[2] key base
var cancelScript = redis.NewScript(luaActive + `
local id, base = ARGV[1], ARGV[2]
local queued = redis.call('ZSCORE', KEYS[4], id)
if redis.call('EXISTS', KEYS[1]) == 0 then
	if queued then
		redis.call('ZREM', KEYS[4], id)
	end
	return {'not_found'}
end
if not queued then
	return {'not_queued'}
end
local fields = redis.pcall('HGETALL', KEYS[1])
if fields.err then
	fields = {}
end
local f = {}
for i = 1, #fields, 2 do
	f[fields[i]] = fields[i + 1]
end
leave(base, id, f['user_id'], f['guild_id'])
local day = f['admitted_day']
if day and day ~= '' then
	local function take(key)
		local v = redis.pcall('GET', key)
		if type(v) == 'string' and (tonumber(v) or 0) > 0 then
			redis.call('DECR', key)
		end
	end
	if f['user_id'] and f['user_id'] ~= '' then
		take(base .. 'user:' .. f['user_id'] .. ':day:' .. day)
	end
	if f['guild_id'] and f['guild_id'] ~= '' then
		take(base .. 'guild:' .. f['guild_id'] .. ':day:' .. day)
	end
	take(base .. 'day:' .. day)
end
redis.call('ZREM', KEYS[4], id)
redis.call('ZREM', KEYS[2], id)
redis.call('SREM', KEYS[3], id)
redis.call('DEL', KEYS[1])
return {'ok', fields}
`)

// activeJobsScript lists a user's or guild's active set: for each member
// whose hash exists, its id, its 1-based queue place (0 when it runs) and
// its fields. A member whose hash is gone is dropped from the set.
//
//	KEYS[1] active set, KEYS[2] queue
//	ARGV[1] job key prefix
var activeJobsScript = redis.NewScript(`
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
	local fields = redis.pcall('HGETALL', ARGV[1] .. id)
	if fields.err then
		fields = {}
	end
	if #fields == 0 and redis.call('EXISTS', ARGV[1] .. id) == 0 then
		redis.call('SREM', KEYS[1], id)
	else
		local rank = redis.call('ZRANK', KEYS[2], id)
		out[#out + 1] = id
		out[#out + 1] = rank and rank + 1 or 0
		out[#out + 1] = fields
	end
end
return out
`)

// queueScript lists up to ARGV[2] queued jobs (0 = all) in order: id,
// 1-based place, fields. A queued id whose hash is gone is dropped from
// the queue, as Promote would drop it, and takes no place.
//
//	KEYS[1] queue
//	ARGV[1] job key prefix, ARGV[2] limit
var queueScript = redis.NewScript(`
local limit = tonumber(ARGV[2])
local page = 500
if limit > 0 and limit < page then
	page = limit
end
local out, gone = {}, {}
local pos, offset = 0, 0
while limit == 0 or pos < limit do
	local ids = redis.call('ZRANGE', KEYS[1], offset, offset + page - 1)
	if #ids == 0 then
		break
	end
	offset = offset + #ids
	for _, id in ipairs(ids) do
		if limit > 0 and pos >= limit then
			break
		end
		local fields = redis.pcall('HGETALL', ARGV[1] .. id)
		if fields.err then
			fields = {}
		end
		if #fields == 0 and redis.call('EXISTS', ARGV[1] .. id) == 0 then
			gone[#gone + 1] = id
		else
			pos = pos + 1
			out[#out + 1] = id
			out[#out + 1] = pos
			out[#out + 1] = fields
		end
	end
end
for i = 1, #gone, 500 do
	redis.call('ZREM', KEYS[1], unpack(gone, i, math.min(i + 499, #gone)))
end
return out
`)

// claimPositionScript records a queued job's new shown place, and returns
// 1, only when it differs from the one shown (shown_position) and that was
// shown at least ARGV[4] ms before now (shown_at; none recorded: long ago).
//
//	KEYS[1] job hash, KEYS[2] queue
//	ARGV[1] id, ARGV[2] position, ARGV[3] now, ARGV[4] least interval
var claimPositionScript = redis.NewScript(`
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) or redis.call('EXISTS', KEYS[1]) == 0 then
	return 0
end
local cur = redis.pcall('HMGET', KEYS[1], 'shown_position', 'shown_at')
if cur.err then
	return 0
end
if (tonumber(cur[1] or '') or 0) == tonumber(ARGV[2]) then
	return 0
end
local every, at = tonumber(ARGV[4]), tonumber(cur[2] or '')
if every > 0 and at and tonumber(ARGV[3]) - at < every then
	return 0
end
redis.call('HSET', KEYS[1], 'shown_position', ARGV[2], 'shown_at', ARGV[3])
return 1
`)
