// Package storage keeps the bot's pending jobs outside the process, so that a
// restart, a redeploy or a second process loses nothing a user asked for and
// delivers nothing twice.
//
// Two stores implement [Store] with the same semantics, checked by one
// contract suite (package storagetest): [Redis], for any number of processes,
// and [Bolt], a file for a single process on one machine.
//
// The poll loop claims due jobs under a short lease held by its token
// ([Store.Claim]), renews the leases of the jobs it is working on while
// the work lasts ([Store.Extend], one round trip for all of them), then
// either finishes them ([Store.Finish], whose result says whether this
// caller sends the final edit) or reschedules them ([Store.Reschedule], or
// [Store.RescheduleMany] for a batch in one round trip), which releases
// the lease: between polls a job is scheduled, held by nobody. A process
// that dies holding a lease loses nothing: its jobs become due again when
// the lease runs out, and Bolt, which only one process can open, releases
// every lease when it opens the file. A Reschedule by a process whose lease
// another has taken since fails with [ErrLeaseLost] and writes nothing.
//
// # Fair-use limits
//
// Both stores also implement [Gate]. Admit checks a new job against the
// [Limits] and stores it, running or queued, in one atomic step (one Lua
// script in Redis, one write transaction in Bolt), so the limits hold across
// processes and restarts. The counts are sets of job ids, not integers: a
// job holds its place from Admit until Finish, whatever the outcome, and
// finishing twice cannot release twice. A job stored by Save, which applies
// no limits, counts as running too, and so does a queued job that Save or
// Reschedule makes due: every job in the due set is in the running set,
// every other job is in the queue.
//
// Admit checks, in order: whether the guild's admins paused the bot there,
// the user's active jobs, the user's cooldown, the user's admissions of the
// UTC day, the guild's active jobs and its admissions of the day (neither
// in DMs), the whole bot's admissions of the day, then the running slots.
// The guild's [GuildSettings] are read in the same atomic step, and their
// [Overrides] replace the operator's per-user and per-guild limits there;
// the verdict carries the limits applied. With MaxRunning set, a job that finds every slot
// taken, or finds jobs already waiting, joins the back of the queue (unless
// the queue is full), so nobody overtakes them; Promote moves jobs from the
// front into free slots. With MaxRunning 0 every job runs at once.
// Admitting an id that holds a place again, or one admitted within
// [SeenTTL], returns Duplicate (with the verdict while the job is pending)
// and changes nothing: a retried Admit is safe, and one interaction
// delivered to several processes makes one song.
//
// Both stores also implement [Slots], named reservations that expire
// (nothing to do with the gate's running slots), which pace something
// across processes: the gateway shards' IDENTIFYs.
//
// Both stores also implement [Settings] and [Roster]. Cancel removes a
// queued job in one atomic step that Promote cannot interleave with, and
// takes its admission off the user's, the guild's and the bot's counts of
// the day it was admitted (the cooldown stays, and so does the seen
// marker: a redelivered interaction is still a duplicate). GuildJobs,
// UserJobs, Usage and Queue are one round trip each in Redis (a script, or
// MGET), and drop ids whose job has gone as they meet them.
//
// # Records
//
// A job has two parts (see [Job]): the [Request], fixed when the
// interaction arrives and written once, by Admit or Save, and the [State],
// which Claim, Reschedule and Promote rewrite on every poll without
// touching the request. The request's fields are interaction_token,
// app_id, channel_id, guild_id, user_id, prompt, ephemeral,
// interaction_at, attachment_limit, locale and guild_locale (the last two
// absent in older records, which read as ""); the state's are whisul_id,
// poll_url, submitted_at, next_poll_at, attempts, last_status, last_error,
// lease (the token of the process holding the job, empty while it is only
// scheduled) and scheduled_at (when the job was due before its current
// lease; the base of its next due time). interaction_at is when the bot
// received the interaction (less a few seconds), on the bot's clock, from
// which the token's 15 minutes run. Admit adds admitted_day (YYYYMMDD, the
// UTC day whose counts it raised, which Cancel takes the admission off)
// to the request, and, for a queued job, shown_position and shown_at (the
// place the user's reply shows and when it was shown, unix ms; rewritten
// by ClaimPositionEdit) to the state. Records older than these fields read
// them as empty: Cancel then takes nothing off the counts, and no place
// counts as shown.
//
// Both are flat string fields with a version field "v", so that a later
// songbot can still read records written by this one: Redis writes
// version 1 (one hash per job, unchanged), Bolt version 2 (request and
// state in buckets of their own) and still reads version 1, splitting such
// a record on its first write. Times are unix milliseconds, empty for the
// zero time; Ephemeral is "0" or "1". A record that cannot be decoded (an
// unknown version, a damaged field) is moved aside by Claim, logged at
// error level with its id, and never fails the call; Get and Reschedule
// return an error wrapping [ErrCorrupt].
//
// # Redis key layout
//
// All keys start with the prefix (default "songbot:") followed by a hash tag
// made of the prefix without its trailing colons, so every key of one bot
// lands in one Redis Cluster slot, as the Lua scripts need, while bots with
// different prefixes spread over the cluster:
//
//	songbot:{songbot}:job:<id>  hash, one per pending job: v (1), the
//	                            request's fields, written by Admit or Save
//	                            only, and the state's, which Claim,
//	                            Reschedule and Promote HSET on their own.
//	                            Expires JobTTL after the last Save, Admit,
//	                            Reschedule or Promote.
//	songbot:{songbot}:due       sorted set: member = job id, score = unix ms
//	                            when it is due (while leased: its lease end,
//	                            which Extend moves on)
//	songbot:{songbot}:bad       hash: job id -> JSON {reason, moved_at, fields}
//	                            of records moved aside; if JobTTL is set,
//	                            expires 7 days (or JobTTL, if longer) after
//	                            the last move
//
// and the gate's:
//
//	songbot:{songbot}:running   set of running job ids (SCARD: how many run)
//	songbot:{songbot}:queue     sorted set of queued job ids; score = a
//	                            sequence (the tail's plus one), so ZRANGE
//	                            lists the queue in order and ZRANK+1 is a
//	                            job's place
//	songbot:{songbot}:user:<id>:active
//	songbot:{songbot}:guild:<id>:active
//	                            sets of the user's or guild's running and
//	                            queued job ids; expire 48 hours (or JobTTL,
//	                            if longer) after their last change, so they
//	                            outlive their jobs while no job lasts longer
//	                            than that (the bot's JOB_TIMEOUT is far
//	                            shorter)
//	songbot:{songbot}:user:<id>:last
//	                            unix ms of the user's last admission;
//	                            expires when the cooldown ends
//	songbot:{songbot}:user:<id>:cooldown_until
//	                            unix ms when the cooldown of that admission
//	                            ends (the guild's override or the
//	                            operator's), for Usage; expires then
//	songbot:{songbot}:user:<id>:day:<YYYYMMDD>
//	songbot:{songbot}:guild:<id>:day:<YYYYMMDD>
//	songbot:{songbot}:day:<YYYYMMDD>
//	                            the user's, the guild's and the whole
//	                            bot's admissions that UTC day (DMs count
//	                            for no guild); expire 48 hours after the
//	                            last change
//	songbot:{songbot}:guild:<id>:settings
//	                            hash of the guild's /songadmin settings,
//	                            without expiry: v (1), paused ("1"),
//	                            pause_reason, showcase_channel_id and the
//	                            overrides user_max_active, user_cooldown_ms,
//	                            user_daily_limit, guild_max_active and
//	                            guild_daily_limit (decimal). A field is
//	                            there only when set: no field keeps the
//	                            operator's limit, "0" switches it off. No
//	                            key at all is a guild nobody configured
//	songbot:{songbot}:seen:<id> "1": the interaction id was admitted;
//	                            expires after SeenTTL (1 hour), so a second
//	                            delivery of it, to any process, is answered
//	                            as a duplicate and makes no second song
//	songbot:{songbot}:slot:<name>
//	                            "1": the slot name is reserved ([Slots]);
//	                            expires when the reservation ends. The bot
//	                            reserves identify:<bucket> (shard id modulo
//	                            max_concurrency) before each gateway
//	                            shard's IDENTIFY, so processes sharing the
//	                            Redis start their shards at Discord's pace
//
// The id is the Discord interaction id. To look around (quote the keys, the
// braces matter to some shells):
//
//	redis-cli ZRANGE 'songbot:{songbot}:due' 0 9 WITHSCORES
//	redis-cli HGETALL 'songbot:{songbot}:job:1234567890'
//	redis-cli HMGET 'songbot:{songbot}:job:1234567890' next_poll_at lease attempts last_status
//	redis-cli HGETALL 'songbot:{songbot}:bad'
//	redis-cli SCARD 'songbot:{songbot}:running'
//	redis-cli ZRANGE 'songbot:{songbot}:queue' 0 -1
//	redis-cli SMEMBERS 'songbot:{songbot}:user:1234:active'
//	redis-cli HGETALL 'songbot:{songbot}:guild:5678:settings'
//	redis-cli MGET 'songbot:{songbot}:day:20250601' 'songbot:{songbot}:guild:5678:day:20250601'
//	redis-cli PTTL 'songbot:{songbot}:slot:identify:0'
//
// Save, Claim, Extend, Reschedule, Finish, the move aside, Admit, Promote,
// Cancel, GuildJobs, UserJobs, Queue, ClaimPositionEdit and Reserve (SET NX
// PX, else PTTL) are Lua scripts
// (EVALSHA); UpdateGuildSettings is WATCH, HGETALL, then MULTI (DEL, HSET)
// EXEC, retried when another admin's change landed in between. The keys a script knows in advance come in KEYS;
// the job keys Claim and Promote find in the sorted sets, and the user and
// guild sets Save, Finish and the move aside learn from a job hash, are
// built in the script from the prefix, which Cluster allows because they
// share the due key's slot. A due entry whose hash has expired is dropped
// by the next Claim that reaches it, from the running set too; until then
// Count includes it. A queued one is dropped by Promote. The user and guild
// sets do not name a job whose hash expired; Admit drops such ids from a
// set (and from the running set and queue) when that set reaches its limit,
// the only time they could refuse a job; GuildJobs and UserJobs drop them
// too, and Queue drops queued ids whose hash expired.
//
// # Bolt layout
//
// One file, DATA_DIR/songbot.db by default. Jobs use four buckets:
// "jobs" (id -> the request as a JSON object of strings with "v": "2",
// written once; a version 1 record there holds the whole job),
// "job_state" (id -> the state as a JSON object of strings, the small
// value every poll rewrites), "due" (8-byte big-endian unix ms, then the
// id -> empty), walked in order by Claim, and "bad" (id -> JSON {reason,
// moved_at, raw, state}). The state's next_poll_at names its due key. The gate adds "running" (id -> empty), "queue" (8-byte
// big-endian sequence from NextSequence -> id, so a walk is FIFO),
// "queue_index" (id -> its queue key), "user_active" and "guild_active"
// (user or guild id, a 0 byte, job id -> empty) and "user_limits" (user id
// -> JSON {last, until, day, n}: the last admission and the end of its
// cooldown in unix ms, and the count of admissions on day, YYYYMMDD in
// UTC; a count of an earlier day reads as zero, and entries that remember
// nothing are pruned by later admissions), "day_counts" (YYYYMMDD, a 0
// byte, then "bot", or "guild", a 0 byte and the guild id -> the day's
// admissions as a decimal string; each admission deletes up to 4 counts
// of days before yesterday), "guild_settings" (guild id -> JSON object of
// the same fields as the Redis hash; absent for a guild nobody
// configured),
// "seen" (admitted id -> 8-byte expiry ms) and "seen_expiry" (expiry, then
// id -> empty; each admission deletes up to 4 expired markers).
// Bolt has no TTL: the bot finishes every job by JOB_TIMEOUT. OpenBolt
// releases every lease in the file (each leased job is due again at its
// scheduled_at), since the process that held it is gone. Concurrent
// Admit, Reschedule, RescheduleMany, Finish, Cancel and ClaimPositionEdit
// calls share one write transaction and its fsync (a group commit), and each returns once its
// write is on disk; a lone call commits at once. A second
// process opening the file gets [ErrLocked] after BoltOptions.LockTimeout.
// Reserve keeps its slots in memory, not in the file: with one process
// there is nobody to share them with.
//
// # History
//
// Finished songs are kept for /songs and the Regenerate button (see
// [History]) for the TTL given to AddSong. In Redis,
// songbot:{songbot}:song:<ref> is a hash (v, user_id, prompt, title,
// duration, song_url, image_url, created_at, expires_at) that expires after
// the TTL; songbot:{songbot}:user:<id>:songs is a sorted set of refs scored
// by created_at in unix ms, keeping the newest 100 created within the TTL
// and expiring with the last add; songbot:{songbot}:meta is a hash without
// expiry (for example the registered commands' hash):
//
//	redis-cli ZREVRANGE 'songbot:{songbot}:user:<id>:songs' 0 9 WITHSCORES
//
// Bolt keeps them in the buckets "songs" (ref -> JSON object of the same
// fields), "user_songs" (user id, a 0 byte, 8-byte created ms, a 0 byte,
// ref -> empty; walked backwards, newest first), "songs_expiry" (8-byte
// expiry ms, then ref; each AddSong deletes up to 100 expired songs) and
// "meta", created on first use. Reads skip expired songs.
package storage
