package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/songbot-dev/songbot/internal/secret"
)

// DefaultRedisPrefix starts every key when RedisOptions.Prefix is empty.
const DefaultRedisPrefix = "songbot:"

// badRecordTTL is how long the bad hash is kept after the last record moved
// into it, when jobs have a TTL: long enough for an operator to look.
const badRecordTTL = 7 * 24 * time.Hour

// RedisOptions configures a Redis store.
type RedisOptions struct {
	// Prefix starts every key, so one Redis can serve several bots.
	// Empty means DefaultRedisPrefix. It must not contain { or }, which
	// would break the hash tag the keys share.
	Prefix string
	// JobTTL is the lifetime of each job hash, refreshed by Save and
	// Reschedule, so that a job nobody finishes does not stay forever. Set
	// it past JOB_TIMEOUT. Zero means no TTL.
	JobTTL time.Duration
	// Logger receives records that had to be moved aside. Nil discards.
	Logger *slog.Logger
}

// Redis is a Store in Redis, shared by every process that uses the same
// server and prefix. See the package documentation for the key layout.
type Redis struct {
	client redis.UniversalClient
	keys   redisKeys
	ttl    time.Duration
	log    *slog.Logger
}

var _ Store = (*Redis)(nil)

// OpenRedis connects to the server at rawURL (redis://, rediss:// for TLS,
// or unix://) and pings it. For Sentinel or Cluster, build a
// redis.UniversalClient and call NewRedis.
//
// Errors never contain the URL's user information or query, which may hold
// the password.
func OpenRedis(ctx context.Context, rawURL string, opts RedisOptions) (*Redis, error) {
	if err := checkPrefix(opts.Prefix); err != nil {
		return nil, wrapErr("open redis", err)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse's message quotes the URL, and parts of it can be the
		// password, so none of it is repeated here.
		return nil, errors.New("storage: open redis: the URL cannot be parsed; " +
			"want redis://[user:password@]host[:port][/db], rediss://... or unix:///path")
	}
	where := secret.URL(rawURL)
	o, err := redis.ParseURL(rawURL)
	if err != nil && u.RawQuery != "" {
		// go-redis repeats option values (invalid duration "..."), and any
		// of them may be a secret. Its message is kept only when the URL
		// fails without its query too.
		noQuery := *u
		noQuery.RawQuery, noQuery.ForceQuery = "", false
		if _, err = redis.ParseURL(noQuery.String()); err == nil {
			return nil, fmt.Errorf("storage: open redis %s: the URL is not usable; check the options after ?", where)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("storage: open redis %s: %w", where, err)
	}
	// A context's deadline bounds a call: without this go-redis waits its
	// read and write timeouts whatever the context says, and the bot's
	// bounded steps (admission, lease renewal, flushes) would outlast
	// their bounds against a frozen server.
	o.ContextTimeoutEnabled = true
	// RESP2 unless the URL asks for another (?protocol=3): the store uses
	// nothing RESP3 adds, and under RESP3 go-redis looks for push
	// notifications around every command, a few per cent of the CPU a
	// song's delivery costs.
	if o.Protocol == 0 {
		o.Protocol = 2
	}
	client := redis.NewClient(o)
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("storage: open redis %s: %w", where, err)
	}
	return NewRedis(client, opts), nil
}

// NewRedis returns a store that uses client, which may be a single server,
// Sentinel or Cluster client. Close closes the client.
//
// NewRedis panics if opts.Prefix contains { or }; OpenRedis returns an error
// instead.
func NewRedis(client redis.UniversalClient, opts RedisOptions) *Redis {
	if err := checkPrefix(opts.Prefix); err != nil {
		panic(err)
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = DefaultRedisPrefix
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Redis{
		client: client,
		keys:   newRedisKeys(prefix),
		ttl:    max(opts.JobTTL, 0),
		log:    logger,
	}
}

func checkPrefix(prefix string) error {
	if strings.ContainsAny(prefix, "{}") {
		return fmt.Errorf("storage: Redis key prefix %q must not contain { or }", prefix)
	}
	return nil
}

// redisKeys is the key layout described in doc.go.
type redisKeys struct {
	base    string // "<prefix>{<tag>}:", which starts every key
	job     string // prefix of each job hash; the id follows
	due     string // sorted set of job ids by due time
	bad     string // hash of records moved aside
	running string // set of running job ids (see gate_redis.go)
	queue   string // sorted set of queued job ids, FIFO
}

func newRedisKeys(prefix string) redisKeys {
	tag := strings.TrimRight(prefix, ":")
	if tag == "" {
		tag = strings.TrimRight(DefaultRedisPrefix, ":")
	}
	base := prefix + "{" + tag + "}:"
	return redisKeys{
		base: base, job: base + "job:", due: base + "due", bad: base + "bad",
		running: base + "running", queue: base + "queue",
	}
}

func (r *Redis) jobKey(id string) string { return r.keys.job + id }

// Save implements Store in one script call, replacing any record with the
// same ID. The job counts as running for the Gate, whatever the limits.
func (r *Redis) Save(ctx context.Context, job Job) error {
	if err := ctx.Err(); err != nil {
		return wrapErr("save", err)
	}
	if job.ID == "" {
		return errors.New("storage: save: empty job ID")
	}
	fields := encodeRecord(job)
	args := make([]any, 0, 7+len(fields))
	args = append(args, job.ID, dueMillis(job.NextPollAt), r.ttl.Milliseconds(), r.keys.base,
		job.UserID, job.GuildID, r.activeTTL().Milliseconds())
	for _, f := range fields {
		args = append(args, f)
	}
	keys := []string{r.jobKey(job.ID), r.keys.due, r.keys.running, r.keys.queue}
	return wrapErr("save", saveScript.Run(ctx, r.client, keys, args...).Err())
}

// Claim implements Store in one script call, whatever the batch size. A
// claimed job's NextPollAt is the end of its lease.
func (r *Redis) Claim(ctx context.Context, now time.Time, token string, lease time.Duration, limit int) ([]Job, error) {
	if done, err := checkClaim(ctx, lease, limit); done {
		return nil, err
	}
	nowMs := dueMillis(now)
	until := nowMs + max(lease.Milliseconds(), 1)
	res, err := claimScript.Run(ctx, r.client, []string{r.keys.due, r.keys.running},
		nowMs, until, limit, r.keys.job, token).Slice()
	if err != nil {
		return nil, wrapErr("claim", err)
	}
	jobs := make([]Job, 0, len(res)/2)
	var bad []any // id, JSON, id, JSON...
	for i := 0; i+1 < len(res); i += 2 {
		id, _ := res[i].(string)
		fields := fieldMap(res[i+1])
		job, err := decodeRecord(id, fields, recordV1)
		if err != nil {
			r.log.ErrorContext(ctx, "storage: moving an undecodable job aside", "id", id, "err", err)
			bad = append(bad, id, badRecord(err, now, fields))
			continue
		}
		jobs = append(jobs, job)
	}
	if len(bad) > 0 {
		r.moveBad(ctx, bad)
	}
	return jobs, nil
}

// moveBad never fails the claim: a record it could not move stays leased,
// and the next claim after the lease tries again.
func (r *Redis) moveBad(ctx context.Context, bad []any) {
	var ttl time.Duration
	if r.ttl > 0 {
		ttl = max(r.ttl, badRecordTTL)
	}
	args := append([]any{r.keys.job, ttl.Milliseconds(), r.keys.base}, bad...)
	err := moveBadScript.Run(ctx, r.client, []string{r.keys.due, r.keys.bad, r.keys.running}, args...).Err()
	if err != nil {
		r.log.ErrorContext(ctx, "storage: cannot move undecodable jobs aside", "err", err)
	}
}

// fieldMap reads an HGETALL reply returned inside a script's array.
func fieldMap(v any) map[string]string {
	raw, _ := v.([]any)
	m := make(map[string]string, len(raw)/2)
	for i := 0; i+1 < len(raw); i += 2 {
		k, _ := raw[i].(string)
		v, _ := raw[i+1].(string)
		m[k] = v
	}
	return m
}

// badRecord is what an operator finds for an id in the bad hash.
func badRecord(reason error, now time.Time, fields map[string]string) string {
	b, _ := json.Marshal(struct {
		Reason  string            `json:"reason"`
		MovedAt int64             `json:"moved_at"`
		Fields  map[string]string `json:"fields"`
	}{reason.Error(), now.UnixMilli(), fields})
	return string(b)
}

// Reschedule implements Store: one script call that HSETs the state's
// fields, attempts aside, into the job's hash and moves its due entry.
//
// The request and the state share one hash, and Reschedule writes only
// the state's fields into it (a hash field is written on its own, so the
// token and the prompt are not rewritten). Two hashes would also keep
// Claim at one round trip, since it is a script, but would cost it a
// second HGETALL per job, give every job two TTLs that can run out apart,
// and leave a half job behind whenever one of them does. The hash keeps
// record version 1: its fields and their meaning have not changed, and a
// version 1 songbot sharing the Redis during a rolling deploy moves aside
// any record of a version it does not know.
func (r *Redis) Reschedule(ctx context.Context, id string, st State) error {
	if err := ctx.Err(); err != nil {
		return wrapErr("reschedule", err)
	}
	keys, args := r.rescheduleArgs(id, st)
	n, err := rescheduleScript.Run(ctx, r.client, keys, args...).Int()
	return rescheduleResult(n, err)
}

// RescheduleMany implements Store, writing each job's State only: the
// scripts go out in one pipeline, so a batch costs one round trip (two if Redis lost its script
// cache). Each job's outcome is read from its own command: the pipeline's
// error is only the first failing command's, and the others may have been
// written. (go-redis sets a failed connection's error on every command.)
func (r *Redis) RescheduleMany(ctx context.Context, jobs []Job) []error {
	errs := make([]error, len(jobs))
	if err := ctx.Err(); err != nil {
		for i := range errs {
			errs[i] = wrapErr("reschedule", err)
		}
		return errs
	}
	cmds := make([]*redis.Cmd, len(jobs))
	send := func(idx []int) {
		// The pipeline's error is read from the commands below.
		_, _ = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, i := range idx {
				keys, args := r.rescheduleArgs(jobs[i].ID, jobs[i].State)
				cmds[i] = rescheduleScript.EvalSha(ctx, p, keys, args...)
			}
			return nil
		})
	}
	all := make([]int, len(jobs))
	for i := range all {
		all[i] = i
	}
	send(all)
	var again []int
	for i, c := range cmds {
		if redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			again = append(again, i)
		}
	}
	if len(again) > 0 {
		if err := rescheduleScript.Load(ctx, r.client).Err(); err != nil {
			for _, i := range again {
				errs[i] = wrapErr("reschedule", err)
			}
		} else {
			send(again)
		}
	}
	for i, c := range cmds {
		if errs[i] == nil {
			n, err := c.Int()
			errs[i] = rescheduleResult(n, err)
		}
	}
	return errs
}

func (r *Redis) rescheduleArgs(id string, st State) (keys []string, args []any) {
	fields := releasedState(st)
	args = make([]any, 0, 5+len(fields))
	args = append(args, id, dueMillis(st.NextPollAt), r.ttl.Milliseconds(), strconv.Itoa(recordV1), st.Lease)
	for _, f := range fields {
		args = append(args, f)
	}
	return []string{r.jobKey(id), r.keys.due, r.keys.running, r.keys.queue}, args
}

func rescheduleResult(n int, err error) error {
	switch {
	case err != nil:
		return wrapErr("reschedule", err)
	case n == 0:
		return wrapErr("reschedule", ErrNotFound)
	case n == -2:
		return wrapErr("reschedule", ErrLeaseLost)
	case n < 0:
		return wrapErr("reschedule", ErrCorrupt)
	}
	return nil
}

// Extend implements Store in one script call for all ids.
func (r *Redis) Extend(ctx context.Context, now time.Time, token string, ids []string, lease time.Duration) ([]string, error) {
	if done, err := checkExtend(ctx, token, ids, lease); done {
		return nil, err
	}
	args := make([]any, 0, 3+len(ids))
	args = append(args, token, dueMillis(now)+max(lease.Milliseconds(), 1), r.keys.job)
	for _, id := range ids {
		args = append(args, id)
	}
	lost, err := extendScript.Run(ctx, r.client, []string{r.keys.due}, args...).StringSlice()
	if err != nil {
		return nil, wrapErr("extend", err)
	}
	return lost, nil
}

// Finish implements Store in one script call, which also releases the
// job's place in the Gate's counts; only the caller whose DEL removed the
// hash gets true.
func (r *Redis) Finish(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, wrapErr("finish", err)
	}
	keys := []string{r.jobKey(id), r.keys.due, r.keys.running, r.keys.queue}
	n, err := finishScript.Run(ctx, r.client, keys, id, r.keys.base).Int()
	if err != nil {
		return false, wrapErr("finish", err)
	}
	return n == 1, nil
}

// Get implements Store.
func (r *Redis) Get(ctx context.Context, id string) (Job, error) {
	if err := ctx.Err(); err != nil {
		return Job{}, wrapErr("get", err)
	}
	fields, err := r.client.HGetAll(ctx, r.jobKey(id)).Result()
	if redis.HasErrorPrefix(err, "WRONGTYPE") {
		err = fmt.Errorf("%w: the key is not a hash", ErrCorrupt)
	}
	if err != nil {
		return Job{}, wrapErr("get", err)
	}
	if len(fields) == 0 {
		return Job{}, wrapErr("get", ErrNotFound)
	}
	job, err := decodeRecord(id, fields, recordV1)
	if err != nil {
		return Job{}, wrapErr("get", err)
	}
	return job, nil
}

// Count implements Store. It counts due and queued entries in one
// transaction, so a job whose hash has expired is counted until the next
// Claim (or Promote, for a queued one) reaches it.
func (r *Redis) Count(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, wrapErr("count", err)
	}
	var due, queued *redis.IntCmd
	_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		due = p.ZCard(ctx, r.keys.due)
		queued = p.ZCard(ctx, r.keys.queue)
		return nil
	})
	if err != nil {
		return 0, wrapErr("count", err)
	}
	return int(due.Val() + queued.Val()), nil
}

// Ping implements Store.
func (r *Redis) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return wrapErr("ping", err)
	}
	return wrapErr("ping", r.client.Ping(ctx).Err())
}

// Close implements Store; it closes the client.
func (r *Redis) Close() error {
	return wrapErr("close", r.client.Close())
}
