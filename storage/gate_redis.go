package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

var _ Gate = (*Redis)(nil)

// activeTTL is the lifetime of a user's or guild's active set after its
// last change: 48 hours or the job TTL, whichever is longer, so the set
// outlives its jobs as long as none lasts longer than that.
func (r *Redis) activeTTL() time.Duration { return max(r.ttl, minActiveTTL) }

// userKey is one of a user's gate keys: "active", "last" or "day:<YYYYMMDD>".
func (r *Redis) userKey(userID, what string) string {
	return r.keys.base + "user:" + userID + ":" + what
}

// seenKey marks an admitted interaction id for SeenTTL.
func (r *Redis) seenKey(id string) string { return r.keys.base + "seen:" + id }

func (r *Redis) guildActiveKey(guildID string) string { return r.guildKey(guildID, "active") }

// guildKey is one of a guild's keys: "active", "settings" or
// "day:<YYYYMMDD>".
func (r *Redis) guildKey(guildID, what string) string {
	return r.keys.base + "guild:" + guildID + ":" + what
}

// botDayKey counts the whole bot's admissions of one UTC day.
func (r *Redis) botDayKey(day string) string { return r.keys.base + "day:" + day }

// Admit implements Gate in one script call: every check and every write of
// an admission happen in one atomic step, the read of the server's
// settings among them, so processes racing on one Redis never pass a
// limit together and a pause applies to the next admission everywhere.
func (r *Redis) Admit(ctx context.Context, now time.Time, job Job, limits Limits) (Admission, error) {
	return r.admit(ctx, now, job, "", limits)
}

// AdmitFromSong implements Gate: the same script reads the song's prompt.
func (r *Redis) AdmitFromSong(ctx context.Context, now time.Time, job Job, ref string, limits Limits) (Admission, error) {
	if ref == "" {
		return Admission{}, errors.New("storage: admit from song: empty song ref")
	}
	return r.admit(ctx, now, job, ref, limits)
}

// admit is Admit, and AdmitFromSong when ref names a song.
func (r *Redis) admit(ctx context.Context, now time.Time, job Job, ref string, limits Limits) (Admission, error) {
	if err := ctx.Err(); err != nil {
		return Admission{}, wrapErr("admit", err)
	}
	if err := checkAdmit(job); err != nil {
		return Admission{}, err
	}
	l := limits.normalized()
	day := utcDay(now)
	keys := []string{
		r.jobKey(job.ID), r.keys.due, r.keys.running, r.keys.queue,
		r.userKey(job.UserID, "active"), r.userKey(job.UserID, "last"),
		r.userKey(job.UserID, "day:"+day), r.guildActiveKey(job.GuildID),
		r.seenKey(job.ID), r.guildKey(job.GuildID, "settings"), r.guildKey(job.GuildID, "day:"+day),
		r.botDayKey(day), r.userKey(job.UserID, "cooldown_until"), r.songKeyPrefix() + ref,
	}
	fields := append(encodeRecord(job), fieldAdmittedDay, day)
	args := make([]any, 0, 20+len(fields))
	args = append(args,
		job.ID, dueMillis(now), dueMillis(job.NextPollAt), r.ttl.Milliseconds(),
		r.activeTTL().Milliseconds(), NextUTCMidnight(now).UnixMilli(), dayCountTTL.Milliseconds(),
		r.keys.job, job.GuildID,
		l.MaxRunning, l.MaxQueued, l.UserMaxActive, l.cooldownMillis(), l.UserDailyLimit, l.GuildMaxActive,
		SeenTTL.Milliseconds(), l.GuildDailyLimit, l.DailyLimit, ref != "")
	for _, f := range fields {
		args = append(args, f)
	}
	res, err := admitScript.Run(ctx, r.client, keys, args...).Slice()
	if err != nil {
		return Admission{}, wrapErr("admit", err)
	}
	adm, err := admissionFrom(res, l)
	return adm, wrapErr("admit", err)
}

// admissionFrom reads admitScript's reply: refusal, retry at, queued,
// position, duplicate, pause reason, then the five overrides it applied
// (-1 for unset), from which the limits it applied are l's with them in
// place, then the prompt read from the song. The refusals song_gone and
// song_bad are errors: the song to make again is not there, or not one
// this version reads.
func admissionFrom(res []any, l Limits) (Admission, error) {
	if len(res) != 12 {
		return Admission{}, fmt.Errorf("the script returned %d values; want 12", len(res))
	}
	switch res[0] {
	case "song_gone":
		return Admission{}, errSongNotFound
	case "song_bad":
		return Admission{}, fmt.Errorf("%w: the song to make again is not a version %d song record", ErrCorrupt, songRecordVersion)
	}
	prompt, ok := res[11].(string)
	if !ok {
		return Admission{}, fmt.Errorf("the script returned prompt %v; want a string", res[11])
	}
	refused, ok1 := res[0].(string)
	retryAt, ok2 := res[1].(int64)
	queued, ok3 := res[2].(int64)
	pos, ok4 := res[3].(int64)
	dup, ok5 := res[4].(int64)
	reason, ok6 := res[5].(string)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return Admission{}, fmt.Errorf("the script returned %v; want a string, four integers and a string", res)
	}
	var ov [5]*int
	for i := range ov {
		n, ok := res[6+i].(int64)
		if !ok {
			return Admission{}, fmt.Errorf("the script returned override %v; want an integer", res[6+i])
		}
		if n >= 0 {
			v := int(n)
			ov[i] = &v
		}
	}
	o := Overrides{UserMaxActive: ov[0], UserDailyLimit: ov[2], GuildMaxActive: ov[3], GuildDailyLimit: ov[4]}
	if ov[1] != nil {
		d := time.Duration(*ov[1]) * time.Millisecond
		o.UserCooldown = &d
	}
	adm := Admission{
		Refused: Refusal(refused), Queued: queued == 1, Position: int(pos), Duplicate: dup == 1,
		Limits: effective(l, o), Prompt: prompt,
	}
	if adm.Refused == RefusedPaused {
		adm.PauseReason = reason
	}
	if retryAt > 0 {
		adm.RetryAt = time.UnixMilli(retryAt).UTC()
	}
	return adm, nil
}

// Promote implements Gate in one script call, so that of several processes
// promoting at once each queued job is moved by exactly one.
func (r *Redis) Promote(ctx context.Context, now time.Time, limits Limits) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrapErr("promote", err)
	}
	l := limits.normalized()
	ids, err := promoteScript.Run(ctx, r.client, []string{r.keys.due, r.keys.running, r.keys.queue},
		dueMillis(now), l.MaxRunning, r.keys.job, r.ttl.Milliseconds()).StringSlice()
	if err != nil {
		return nil, wrapErr("promote", err)
	}
	return ids, nil
}

// QueuePosition implements Gate with ZRANK.
func (r *Redis) QueuePosition(ctx context.Context, id string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, wrapErr("queue position", err)
	}
	rank, err := r.client.ZRank(ctx, r.keys.queue, id).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, wrapErr("queue position", err)
	}
	return int(rank) + 1, nil
}

// Counts implements Gate: SCARD and ZCARD in one transaction.
func (r *Redis) Counts(ctx context.Context) (running, queued int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, wrapErr("counts", err)
	}
	var run, queue *redis.IntCmd
	_, err = r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		run = p.SCard(ctx, r.keys.running)
		queue = p.ZCard(ctx, r.keys.queue)
		return nil
	})
	if err != nil {
		return 0, 0, wrapErr("counts", err)
	}
	return int(run.Val()), int(queue.Val()), nil
}

// luaLive counts the members of a set or the queue that still hold a
// place: a member whose job hash has gone (it expired, or an operator
// deleted it) is removed. Below the limit a stale member cannot cause a
// refusal, so only a count that reaches the limit pays for the look.
const luaLive = `
local function live_count(set, limit, job_prefix)
	local n = redis.call('SCARD', set)
	if n < limit then
		return n
	end
	for _, id in ipairs(redis.call('SMEMBERS', set)) do
		if redis.call('EXISTS', job_prefix .. id) == 0 then
			redis.call('SREM', set, id)
			n = n - 1
		end
	end
	return n
end
local function live_queue(queue, limit, job_prefix)
	local n = redis.call('ZCARD', queue)
	if n < limit then
		return n
	end
	for _, id in ipairs(redis.call('ZRANGE', queue, 0, -1)) do
		if redis.call('EXISTS', job_prefix .. id) == 0 then
			redis.call('ZREM', queue, id)
			n = n - 1
		end
	end
	return n
end
`

// admitScript applies the limits in the order Admit documents and, if none
// refuses, stores the job: running (hash, due entry, running set), or
// queued (hash, queue) when the queue is not empty or every slot is taken,
// so that nobody overtakes the queue. The queue's scores are a sequence:
// the tail's score plus one. First it reads the guild's settings: a paused
// guild refuses, and each override that is set (decimal digits; anything
// else reads as unset) replaces the caller's limit. An admission joins
// the user's and guild's active sets, sets the user's last admission and
// cooldown end (both expiring with the cooldown), counts one for the
// user's, the guild's and the bot's day, and remembers the id for SeenTTL.
// A queued job's hash also records the position its reply shows. Admitting
// an id that already holds a place, or that it remembers, changes nothing
// and returns duplicate 1 (with the verdict while the job is pending), so
// one interaction is admitted once across all processes. To make a song
// again (ARGV[19] 1), it reads the prompt of the song hash KEYS[14] first
// and stores the job with it, or refuses song_gone (no such song) or
// song_bad (not a version 1 song). It returns {refusal, retry at, queued
// 0 or 1, position, duplicate 0 or 1, pause reason, then the overrides of
// user max active, cooldown, user daily limit, guild max active and guild
// daily limit, -1 where unset, then the prompt read from the song}.
//
//	KEYS[1] job hash, KEYS[2] due sorted set, KEYS[3] running set,
//	KEYS[4] queue, KEYS[5] user's active set, KEYS[6] user's last
//	admission, KEYS[7] user's count of the day, KEYS[8] guild's active set,
//	KEYS[9] the id's seen marker, KEYS[10] guild's settings, KEYS[11]
//	guild's count of the day, KEYS[12] bot's count of the day, KEYS[13]
//	user's cooldown end, KEYS[14] the song hash to make again
//	ARGV[1] id, ARGV[2] now, ARGV[3] due time, ARGV[4] job TTL (0 = none),
//	ARGV[5] active sets' TTL, ARGV[6] next UTC midnight, ARGV[7] day
//	count's TTL, ARGV[8] job key prefix, ARGV[9] guild id ('' in a DM),
//	ARGV[10] max running, ARGV[11] max queued, ARGV[12] user max active,
//	ARGV[13] cooldown, ARGV[14] daily limit, ARGV[15] guild max active,
//	ARGV[16] seen marker's TTL, ARGV[17] guild daily limit, ARGV[18] bot
//	daily limit (limits: 0 = off), ARGV[19] 1 to take the prompt of
//	KEYS[14], ARGV[20...] field, value, field, value...
var admitScript = redis.NewScript(luaActive + luaLive + `
local id, now = ARGV[1], tonumber(ARGV[2])
local has_guild = ARGV[9] ~= ''
local ov = {-1, -1, -1, -1, -1}
local paused, reason = false, ''
if has_guild then
	local s = redis.pcall('HMGET', KEYS[10], 'paused', 'pause_reason', 'user_max_active',
		'user_cooldown_ms', 'user_daily_limit', 'guild_max_active', 'guild_daily_limit')
	if not s.err then
		paused = s[1] == '1'
		reason = s[2] or ''
		for i = 1, 5 do
			local v = s[i + 2]
			if v and string.match(v, '^%d+$') then
				ov[i] = tonumber(v)
			end
		end
	end
end
local function pick(i, arg)
	if ov[i] >= 0 then
		return ov[i]
	end
	return tonumber(arg)
end
local max_running, max_queued = tonumber(ARGV[10]), tonumber(ARGV[11])
local user_max, cooldown = pick(1, ARGV[12]), pick(2, ARGV[13])
local daily, guild_max = pick(3, ARGV[14]), pick(4, ARGV[15])
local guild_daily, bot_daily = pick(5, ARGV[17]), tonumber(ARGV[18])
local prompt = ''
local function verdict(refusal, retry_at, queued, position, dup)
	return {refusal, retry_at, queued, position, dup, refusal == 'paused' and reason or '',
		ov[1], ov[2], ov[3], ov[4], ov[5], prompt}
end
local function count(key)
	local v = redis.call('GET', key)
	return v and tonumber(v) or 0
end

if redis.call('EXISTS', KEYS[1]) == 1 then
	local rank = redis.call('ZRANK', KEYS[4], id)
	if rank then
		return verdict('', 0, 1, rank + 1, 1)
	end
	if redis.call('SISMEMBER', KEYS[3], id) == 1 then
		return verdict('', 0, 0, 0, 1)
	end
end
if redis.call('EXISTS', KEYS[9]) == 1 then
	return verdict('', 0, 0, 0, 1)
end
if ARGV[19] == '1' then
	local song = redis.pcall('HMGET', KEYS[14], 'v', 'prompt')
	if song.err then
		return verdict('song_bad', 0, 0, 0, 0)
	end
	if not song[1] then
		return verdict('song_gone', 0, 0, 0, 0)
	end
	if song[1] ~= '1' or not song[2] then
		return verdict('song_bad', 0, 0, 0, 0)
	end
	prompt = song[2]
end
if paused then
	return verdict('paused', 0, 0, 0, 0)
end
if user_max > 0 and live_count(KEYS[5], user_max, ARGV[8]) >= user_max then
	return verdict('user_active', 0, 0, 0, 0)
end
if cooldown > 0 then
	local v = redis.call('GET', KEYS[6])
	local last = v and tonumber(v)
	if last and last + cooldown > now then
		return verdict('cooldown', last + cooldown, 0, 0, 0)
	end
end
if daily > 0 and count(KEYS[7]) >= daily then
	return verdict('daily_limit', tonumber(ARGV[6]), 0, 0, 0)
end
if has_guild and guild_max > 0 and live_count(KEYS[8], guild_max, ARGV[8]) >= guild_max then
	return verdict('guild_active', 0, 0, 0, 0)
end
if has_guild and guild_daily > 0 and count(KEYS[11]) >= guild_daily then
	return verdict('guild_daily_limit', tonumber(ARGV[6]), 0, 0, 0)
end
if bot_daily > 0 and count(KEYS[12]) >= bot_daily then
	return verdict('bot_daily_limit', tonumber(ARGV[6]), 0, 0, 0)
end
local run = max_running == 0 or
	(redis.call('ZCARD', KEYS[4]) == 0 and live_count(KEYS[3], max_running, ARGV[8]) < max_running)
if not run and max_queued > 0 and live_queue(KEYS[4], max_queued, ARGV[8]) >= max_queued then
	return verdict('queue_full', 0, 0, 0, 0)
end

local position = 0
if run then
	redis.call('ZADD', KEYS[2], ARGV[3], id)
	redis.call('SADD', KEYS[3], id)
else
	redis.call('ZREM', KEYS[2], id)
	local tail = redis.call('ZRANGE', KEYS[4], -1, -1, 'WITHSCORES')
	local seq = 1
	if tail[2] then
		seq = tonumber(tail[2]) + 1
	end
	redis.call('ZADD', KEYS[4], seq, id)
	position = redis.call('ZCARD', KEYS[4])
end
local fields = {unpack(ARGV, 20)}
if ARGV[19] == '1' then
	fields[#fields + 1] = 'prompt'
	fields[#fields + 1] = prompt
end
if not run then
	fields[#fields + 1] = 'shown_position'
	fields[#fields + 1] = tostring(position)
	fields[#fields + 1] = 'shown_at'
	fields[#fields + 1] = ARGV[2]
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(fields))
if tonumber(ARGV[4]) > 0 then
	redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
join_set(KEYS[5], id, ARGV[5])
if has_guild then
	join_set(KEYS[8], id, ARGV[5])
end
if cooldown > 0 then
	redis.call('SET', KEYS[6], ARGV[2], 'PX', string.format('%d', cooldown))
	redis.call('SET', KEYS[13], string.format('%d', now + cooldown), 'PX', string.format('%d', cooldown))
end
redis.call('INCR', KEYS[7])
redis.call('PEXPIRE', KEYS[7], ARGV[7])
if has_guild then
	redis.call('INCR', KEYS[11])
	redis.call('PEXPIRE', KEYS[11], ARGV[7])
end
redis.call('INCR', KEYS[12])
redis.call('PEXPIRE', KEYS[12], ARGV[7])
redis.call('SET', KEYS[9], '1', 'PX', ARGV[16])
return verdict('', 0, run and 0 or 1, position, 0)
`)

// promoteScript moves queued jobs, oldest first, into the free running
// slots: each becomes due at now (in its hash too) and joins the running
// set, and its hash's TTL starts again. A queued job whose hash has gone
// is dropped. It returns the ids it moved. An empty queue costs one ZCARD,
// since every process calls this on every turn of its poll loop.
//
//	KEYS[1] due sorted set, KEYS[2] running set, KEYS[3] queue
//	ARGV[1] now, ARGV[2] max running (0 = no limit), ARGV[3] job key
//	prefix, ARGV[4] job TTL (0 = none)
var promoteScript = redis.NewScript(luaLive + `
local moved = {}
if redis.call('ZCARD', KEYS[3]) == 0 then
	return moved
end
local max_running = tonumber(ARGV[2])
local free = -1
if max_running > 0 then
	free = max_running - live_count(KEYS[2], max_running, ARGV[3])
	if free <= 0 then
		return moved
	end
end
while free ~= 0 do
	local head = redis.call('ZPOPMIN', KEYS[3])
	if #head == 0 then
		break
	end
	local id = head[1]
	local key = ARGV[3] .. id
	if redis.call('EXISTS', key) == 1 then
		redis.pcall('HSET', key, 'next_poll_at', ARGV[1])
		if tonumber(ARGV[4]) > 0 then
			redis.call('PEXPIRE', key, ARGV[4])
		end
		redis.call('ZADD', KEYS[1], ARGV[1], id)
		redis.call('SADD', KEYS[2], id)
		moved[#moved + 1] = id
		free = free - 1
	end
end
return moved
`)
