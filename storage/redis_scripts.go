package storage

import "github.com/redis/go-redis/v9"

// The Lua scripts below make each multi-key step atomic and one round trip.
// Keys a script knows in advance come in KEYS; job hashes that Claim and
// moveBad find in the sorted set are built in the script from the job key
// prefix in ARGV. That is allowed on Redis Cluster because every key of the
// layout carries the same hash tag, so they all live in KEYS[1]'s slot.
// Scores and times are unix milliseconds.
//
// The gate's per-user and per-guild keys are built the same way, from the
// key base ("<prefix>{<tag>}:") in ARGV, where the script learns the user or
// guild from a job hash (Save, Finish, moveBad); Admit knows them in advance
// and passes them in KEYS.

// luaActive is shared by the scripts that add a job to, or remove it from,
// its user's and guild's active sets. An empty or missing owner (a DM has
// no guild; a bare record no user) is skipped.
const luaActive = `
local function active_key(base, kind, owner)
	if owner and owner ~= '' then
		return base .. kind .. ':' .. owner .. ':active'
	end
end
local function leave(base, id, user, guild)
	local u, g = active_key(base, 'user', user), active_key(base, 'guild', guild)
	if u then redis.call('SREM', u, id) end
	if g then redis.call('SREM', g, id) end
end
local function join_set(key, id, ttl)
	redis.call('SADD', key, id)
	redis.call('PEXPIRE', key, ttl)
end
local function join(base, id, user, guild, ttl)
	local u, g = active_key(base, 'user', user), active_key(base, 'guild', guild)
	if u then join_set(u, id, ttl) end
	if g then join_set(g, id, ttl) end
end
`

// saveScript stores a job as running, bypassing the limits: its hash (the
// old one replaced), its due entry, the running set, its user's and guild's
// active sets; it leaves the queue, and the active sets of the user and
// guild an old record under the same id named, if they differ.
//
//	KEYS[1] job hash, KEYS[2] due sorted set, KEYS[3] running set,
//	KEYS[4] queue
//	ARGV[1] id, ARGV[2] due time, ARGV[3] TTL (0 = none), ARGV[4] key base,
//	ARGV[5] user id, ARGV[6] guild id, ARGV[7] active sets' TTL,
//	ARGV[8...] field, value, field, value...
var saveScript = redis.NewScript(luaActive + `
local id, base = ARGV[1], ARGV[4]
local old = redis.pcall('HMGET', KEYS[1], 'user_id', 'guild_id')
if not old.err then
	leave(base, id, old[1] ~= ARGV[5] and old[1], old[2] ~= ARGV[6] and old[2])
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 8))
if tonumber(ARGV[3]) > 0 then
	redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
redis.call('ZADD', KEYS[2], ARGV[2], id)
redis.call('ZREM', KEYS[4], id)
redis.call('SADD', KEYS[3], id)
join(base, id, ARGV[5], ARGV[6], ARGV[7])
return 1
`)

// finishScript removes a job and releases all it holds, in one step: its
// hash, due entry, running or queue entry, and its user's and guild's
// active set entries, which the hash names. It returns 1 only to the call
// that removed the hash, so a slot is released once however many finish.
//
//	KEYS[1] job hash, KEYS[2] due sorted set, KEYS[3] running set,
//	KEYS[4] queue
//	ARGV[1] id, ARGV[2] key base
var finishScript = redis.NewScript(luaActive + `
local owner = redis.pcall('HMGET', KEYS[1], 'user_id', 'guild_id')
if not owner.err then
	leave(ARGV[2], ARGV[1], owner[1], owner[2])
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
return redis.call('DEL', KEYS[1])
`)

// claimScript leases up to limit due jobs to a token and returns them as a
// flat array: id, HGETALL of its hash, id, HGETALL, ... It raises attempts,
// sets scheduled_at to the next_poll_at it found, next_poll_at to the
// lease end and lease to the token, in the hash and in the reply. A due entry
// whose hash has expired is removed, from the running set too. A key that
// is not a hash comes back
// with no fields, so that the caller moves it aside; an attempts field that
// is not an integer is left alone, so the caller's decode fails for that one
// job rather than the whole script. Two commands per job, and the sorted set
// is updated in chunks (unpack has a limit): this script is the cost of a
// batch.
//
//	KEYS[1] due sorted set, KEYS[2] running set
//	ARGV[1] now, ARGV[2] lease end, ARGV[3] limit, ARGV[4] job key prefix,
//	ARGV[5] lease token
var claimScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local out, leased, gone = {}, {}, {}
for _, id in ipairs(ids) do
	local key = ARGV[4] .. id
	local fields = redis.pcall('HGETALL', key)
	if fields.err then
		out[#out + 1] = id
		out[#out + 1] = {}
		leased[#leased + 1] = id
	elseif #fields == 0 then
		gone[#gone + 1] = id
	else
		local attempts, next_poll_at, lease, scheduled_at
		for i = 1, #fields, 2 do
			if fields[i] == 'attempts' then
				attempts = i + 1
			elseif fields[i] == 'next_poll_at' then
				next_poll_at = i + 1
			elseif fields[i] == 'lease' then
				lease = i + 1
			elseif fields[i] == 'scheduled_at' then
				scheduled_at = i + 1
			end
		end
		local was_due = ''
		if next_poll_at then
			was_due = fields[next_poll_at]
		end
		if not lease then
			fields[#fields + 1] = 'lease'
			fields[#fields + 1] = ''
			lease = #fields
		end
		if not scheduled_at then
			fields[#fields + 1] = 'scheduled_at'
			fields[#fields + 1] = ''
			scheduled_at = #fields
		end
		fields[lease] = ARGV[5]
		fields[scheduled_at] = was_due
		if not attempts then
			fields[#fields + 1] = 'attempts'
			fields[#fields + 1] = '0'
			attempts = #fields
		end
		if not next_poll_at then
			fields[#fields + 1] = 'next_poll_at'
			next_poll_at = #fields + 1
		end
		fields[next_poll_at] = ARGV[2]
		local n = fields[attempts]
		if n == '' then
			n = '0'
		end
		if string.match(n, '^%-?%d+$') then
			fields[attempts] = string.format('%d', tonumber(n) + 1)
			redis.call('HSET', key, 'attempts', fields[attempts], 'next_poll_at', ARGV[2], 'lease', ARGV[5], 'scheduled_at', was_due)
		else
			redis.call('HSET', key, 'next_poll_at', ARGV[2], 'lease', ARGV[5], 'scheduled_at', was_due)
		end
		out[#out + 1] = id
		out[#out + 1] = fields
		leased[#leased + 1] = id
	end
end
for i = 1, #leased, 500 do
	local args = {}
	for j = i, math.min(i + 499, #leased) do
		args[#args + 1] = ARGV[2]
		args[#args + 1] = leased[j]
	end
	redis.call('ZADD', KEYS[1], unpack(args))
end
for i = 1, #gone, 500 do
	redis.call('ZREM', KEYS[1], unpack(gone, i, math.min(i + 499, #gone)))
	redis.call('SREM', KEYS[2], unpack(gone, i, math.min(i + 499, #gone)))
end
return out
`)

// rescheduleScript writes a job's state back only if its hash still
// exists, so a finished job is never resurrected; the caller sends the
// state's fields only, without attempts, so the request and the stored
// attempts stay as they are; the caller sends lease empty, releasing it.
// A due job runs, so the job joins the running set and leaves the queue,
// if it was queued. It returns 1 when written, 0 when the job is gone, -1
// when the stored record is not one this version can update and -2 when
// the caller's lease token is set and another holds the lease.
//
//	KEYS[1] job hash, KEYS[2] due sorted set, KEYS[3] running set,
//	KEYS[4] queue
//	ARGV[1] id, ARGV[2] due time, ARGV[3] TTL (0 = none), ARGV[4] record
//	version, ARGV[5] the caller's lease token (empty: no check),
//	ARGV[6...] state field, value, field, value...
var rescheduleScript = redis.NewScript(`
local cur = redis.pcall('HMGET', KEYS[1], 'v', 'attempts', 'lease')
if cur.err then
	return -1
end
if not cur[1] then
	return redis.call('EXISTS', KEYS[1]) == 1 and -1 or 0
end
if cur[1] ~= ARGV[4] or (cur[2] and not string.match(cur[2], '^%-?%d+$')) then
	return -1
end
if ARGV[5] ~= '' and (cur[3] or '') ~= ARGV[5] then
	return -2
end
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
if tonumber(ARGV[3]) > 0 then
	redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
`)

// extendScript renews the leases a token holds: each job whose hash names
// the token as its lease gets the new lease end as its next_poll_at and
// due score. It returns the ids the token does not hold.
//
//	KEYS[1] due sorted set
//	ARGV[1] token, ARGV[2] lease end, ARGV[3] job key prefix, ARGV[4...] ids
var extendScript = redis.NewScript(`
local lost = {}
for i = 4, #ARGV do
	local id = ARGV[i]
	local key = ARGV[3] .. id
	local holder = redis.pcall('HGET', key, 'lease')
	if type(holder) == 'string' and holder == ARGV[1] then
		redis.call('HSET', key, 'next_poll_at', ARGV[2])
		redis.call('ZADD', KEYS[1], ARGV[2], id)
	else
		lost[#lost + 1] = id
	end
end
return lost
`)

// moveBadScript moves undecodable records aside: each goes into the bad hash
// as JSON built by the caller, and its job hash and due entry are removed,
// and it is released like a finished job, as far as its hash names its user
// and guild. The bad hash expires TTL after the last move, if TTL is set.
//
//	KEYS[1] due sorted set, KEYS[2] bad hash, KEYS[3] running set
//	ARGV[1] job key prefix, ARGV[2] TTL (0 = none), ARGV[3] key base,
//	ARGV[4...] id, JSON, ...
var moveBadScript = redis.NewScript(luaActive + `
for i = 4, #ARGV - 1, 2 do
	local id = ARGV[i]
	local key = ARGV[1] .. id
	local owner = redis.pcall('HMGET', key, 'user_id', 'guild_id')
	if not owner.err then
		leave(ARGV[3], id, owner[1], owner[2])
	end
	redis.call('HSET', KEYS[2], id, ARGV[i + 1])
	redis.call('DEL', key)
	redis.call('ZREM', KEYS[1], id)
	redis.call('SREM', KEYS[3], id)
end
if tonumber(ARGV[2]) > 0 then
	redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return 1
`)
