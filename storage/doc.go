// Package storage keeps the bot's pending jobs outside the process, so that a
// restart, a redeploy or a second process loses nothing a user asked for and
// delivers nothing twice.
//
// Two stores implement [Store] with the same semantics, checked by one
// contract suite (package storagetest): [Redis], for any number of processes,
// and [Bolt], a file for a single process on one machine.
//
// The poll loop claims due jobs under a lease ([Store.Claim]), polls them,
// then either finishes them ([Store.Finish], whose result says whether this
// caller sends the final edit) or reschedules them ([Store.Reschedule] or
// [RescheduleAll] for a batch). A process that dies holding a lease loses
// nothing: its jobs become due again when the lease runs out.
//
// # Records
//
// A job is stored as flat string fields with a version field "v" (now 1), so
// that a later songbot can still read records written by this one. Times are
// unix milliseconds, empty for the zero time; Ephemeral is "0" or "1". A
// record that cannot be decoded (an unknown version, a damaged field) is
// moved aside by Claim, logged at error level with its id, and never fails
// the call; Get and Reschedule return an error wrapping [ErrCorrupt].
//
// # Redis key layout
//
// All keys start with the prefix (default "songbot:") followed by a hash tag
// made of the prefix without its trailing colons, so every key of one bot
// lands in one Redis Cluster slot, as the Lua scripts need, while bots with
// different prefixes spread over the cluster:
//
//	songbot:{songbot}:job:<id>  hash, one per pending job: v, whisul_id,
//	                            interaction_token, next_poll_at, attempts...
//	                            Expires JobTTL after the last Save or Reschedule.
//	songbot:{songbot}:due       sorted set: member = job id, score = unix ms
//	                            when it is due (while claimed: its lease end)
//	songbot:{songbot}:bad       hash: job id -> JSON {reason, moved_at, fields}
//	                            of records moved aside; if JobTTL is set,
//	                            expires 7 days (or JobTTL, if longer) after
//	                            the last move
//
// The id is the Discord interaction id. To look around (quote the keys, the
// braces matter to some shells):
//
//	redis-cli ZRANGE 'songbot:{songbot}:due' 0 9 WITHSCORES
//	redis-cli HGETALL 'songbot:{songbot}:job:1234567890'
//	redis-cli HGETALL 'songbot:{songbot}:bad'
//
// Claim, Reschedule and the move aside are Lua scripts (EVALSHA). The due
// key comes in KEYS; the job keys Claim finds in the sorted set are built in
// the script from the prefix, which Cluster allows because they share the
// due key's slot. A due entry whose hash has expired is dropped by the next
// Claim that reaches it; until then Count includes it.
//
// # Bolt layout
//
// One file, DATA_DIR/songbot.db by default, with three buckets: "jobs" (id
// -> the record as a JSON object of strings), "due" (8-byte big-endian unix
// ms, then the id -> empty), walked in order by Claim, and "bad" (id -> JSON
// {reason, moved_at, raw}). The record's next_poll_at names its due key.
// Bolt has no TTL: the bot finishes every job by JOB_TIMEOUT. A second
// process opening the file gets [ErrLocked] after BoltOptions.LockTimeout.
package storage
