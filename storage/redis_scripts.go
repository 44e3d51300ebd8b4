package storage

import "github.com/redis/go-redis/v9"

// The Lua scripts below make each multi-key step atomic and one round trip.
// Keys a script knows in advance come in KEYS; job hashes that Claim and
// moveBad find in the sorted set are built in the script from the job key
// prefix in ARGV. That is allowed on Redis Cluster because every key of the
// layout carries the same hash tag, so they all live in KEYS[1]'s slot.
// Scores and times are unix milliseconds.

// claimScript leases up to limit due jobs and returns them as a flat array:
// id, HGETALL of its hash, id, HGETALL, ... It raises attempts and sets
// next_poll_at to the lease end in the hash and in the reply. A due entry
// whose hash has expired is removed. A key that is not a hash comes back
// with no fields, so that the caller moves it aside; an attempts field that
// is not an integer is left alone, so the caller's decode fails for that one
// job rather than the whole script. Two commands per job, and the sorted set
// is updated in chunks (unpack has a limit): this script is the cost of a
// batch.
//
//	KEYS[1] due sorted set
//	ARGV[1] now, ARGV[2] lease end, ARGV[3] limit, ARGV[4] job key prefix
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
		local attempts, next_poll_at
		for i = 1, #fields, 2 do
			if fields[i] == 'attempts' then
				attempts = i + 1
			elseif fields[i] == 'next_poll_at' then
				next_poll_at = i + 1
			end
		end
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
			redis.call('HSET', key, 'attempts', fields[attempts], 'next_poll_at', ARGV[2])
		else
			redis.call('HSET', key, 'next_poll_at', ARGV[2])
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
end
return out
`)

// rescheduleScript writes a job back only if its hash still exists, so a
// finished job is never resurrected, and keeps the stored attempts (the
// caller leaves that field out). It returns 1 when written, 0 when the job
// is gone and -1 when the stored record is not one this version can update.
//
//	KEYS[1] job hash, KEYS[2] due sorted set
//	ARGV[1] id, ARGV[2] due time, ARGV[3] TTL (0 = none), ARGV[4] record
//	version, ARGV[5...] field, value, field, value...
var rescheduleScript = redis.NewScript(`
local cur = redis.pcall('HMGET', KEYS[1], 'v', 'attempts')
if cur.err then
	return -1
end
if not cur[1] then
	return redis.call('EXISTS', KEYS[1]) == 1 and -1 or 0
end
if cur[1] ~= ARGV[4] or (cur[2] and not string.match(cur[2], '^%-?%d+$')) then
	return -1
end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
if tonumber(ARGV[3]) > 0 then
	redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
`)

// moveBadScript moves undecodable records aside: each goes into the bad hash
// as JSON built by the caller, and its job hash and due entry are removed.
// The bad hash expires TTL after the last move, if TTL is set.
//
//	KEYS[1] due sorted set, KEYS[2] bad hash
//	ARGV[1] job key prefix, ARGV[2] TTL (0 = none), ARGV[3...] id, JSON, ...
var moveBadScript = redis.NewScript(`
for i = 3, #ARGV - 1, 2 do
	local id = ARGV[i]
	redis.call('HSET', KEYS[2], id, ARGV[i + 1])
	redis.call('DEL', ARGV[1] .. id)
	redis.call('ZREM', KEYS[1], id)
end
if tonumber(ARGV[2]) > 0 then
	redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return 1
`)
