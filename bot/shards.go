package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
)

// identifyInterval is Discord's rate limit on session starts: at most
// max_concurrency IDENTIFYs per 5 seconds, one per bucket (shard id
// modulo max_concurrency).
const identifyInterval = 5 * time.Second

// identifySlack lengthens the reservation of a bucket's IDENTIFY (see
// awaitIdentify) past identifyInterval. The reservation is taken before
// Session.Open, whose GET /gateway, websocket dial and HELLO come before
// the IDENTIFY and can take longer in one process than in the next: the
// slack keeps the IDENTIFYs themselves 5 seconds apart.
const identifySlack = 500 * time.Millisecond

// GatewaySlots coordinates gateway starts between the processes of one bot
// (storage.Redis shares them through the server; storage.Bolt, which has
// one process, keeps them in memory). See storage.Slots.
type GatewaySlots interface {
	// Reserve takes the slot name for ttl and returns 0 when it is free;
	// otherwise it returns how long until it frees, taking nothing.
	Reserve(ctx context.Context, name string, ttl time.Duration) (wait time.Duration, err error)
}

// shard is one gateway session of this process.
type shard struct {
	id int
	s  *discordgo.Session
	up atomic.Bool // connected: between discordgo's Connect and Disconnect
}

// ShardsConnected returns how many of this process's gateway shards are
// connected, and how many it runs: 0 of 1 before Run opened them (not
// ready), 0 of 0 in HTTP mode.
func (b *Bot) ShardsConnected() (connected, total int) {
	p := b.shards.Load()
	if p == nil {
		return 0, 1 // not open yet: not ready
	}
	for _, sh := range *p {
		if sh.up.Load() {
			connected++
		}
	}
	return connected, len(*p)
}

// openShards starts this process's shards as Discord requires and waits for
// the first READY, which carries the application id. The shard count and
// the start limits come from GET /gateway/bot.
func (b *Bot) openShards(ctx context.Context) (string, func() error, error) {
	gb, err := b.gatewayBot(ctx)
	if err != nil || ctx.Err() != nil {
		return "", nil, err
	}
	count, ids, err := planShards(b.opts.ShardCount, b.opts.ShardIDs, gb.Shards)
	if err != nil {
		return "", nil, err
	}
	lim := gb.SessionStartLimit
	b.log.Info("starting gateway shards", "shard_count", count, "shard_ids", ids, "max_concurrency", lim.MaxConcurrency,
		"session_starts_remaining", lim.Remaining, "recommended_shards", gb.Shards)
	if !b.awaitSessionStarts(ctx, lim, len(ids)) {
		return "", nil, nil
	}
	buckets := max(lim.MaxConcurrency, 1)
	shards := make([]*shard, len(ids))
	for i, id := range ids {
		s, err := NewSession(b.opts.Token, b.opts.APIURL, b.opts.Transport, b.session.UserAgent)
		if err != nil {
			return "", nil, err
		}
		s.ShardID, s.ShardCount = id, count
		s.Dialer = identifyDialer(s.Dialer, func() error { return b.identifyAgain(ctx, id, id%buckets) })
		shards[i] = b.newShard(id, s)
	}
	b.shards.Store(&shards)
	closeAll := func() error {
		// In parallel: discordgo's Close waits about a second each.
		errs := make([]error, len(shards))
		var wg sync.WaitGroup
		for i, sh := range shards {
			wg.Go(func() { errs[i] = sh.s.Close() })
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	byID := map[int]*shard{}
	for _, sh := range shards {
		byID[sh.id] = sh
	}
	err = startShards(ctx, ids, lim.MaxConcurrency, identifyInterval, func(ctx context.Context, id int) error {
		if !b.awaitIdentify(ctx, id, id%buckets) {
			return nil // ctx ended: closed below
		}
		return b.open(ctx, byID[id].s)
	})
	if err != nil || ctx.Err() != nil {
		return "", nil, errors.Join(err, closeAll())
	}
	select {
	case appID := <-b.ready:
		return appID, closeAll, nil
	case <-ctx.Done():
		return "", nil, closeAll()
	}
}

// newShard wires a shard's session to the bot: every shard feeds the same
// handlers, and each logs its own connects and reconnects.
func (b *Bot) newShard(id int, s *discordgo.Session) *shard {
	sh := &shard{id: id, s: s}
	log := b.log.With("shard_id", id, "shard_count", s.ShardCount)
	s.AddHandler(b.onReady)
	s.AddHandler(b.onEvent)
	s.AddHandler(func(*discordgo.Session, *discordgo.Connect) {
		sh.up.Store(true)
		log.Info("gateway shard connected")
	})
	s.AddHandler(func(*discordgo.Session, *discordgo.Disconnect) {
		sh.up.Store(false)
		if !b.stopping() {
			log.Warn("gateway shard disconnected; discordgo reconnects it")
		}
	})
	return sh
}

// gatewayBot reads GET /gateway/bot: the recommended shard count and the
// session start limits.
func (b *Bot) gatewayBot(ctx context.Context) (*discordgo.GatewayBotResponse, error) {
	var gb discordgo.GatewayBotResponse
	err := b.retryREST(ctx, "read the gateway (GET /gateway/bot)", func() error {
		body, err := b.session.RequestWithBucketID(http.MethodGet, discordgo.EndpointGatewayBot, nil, discordgo.EndpointGatewayBot, discordgo.WithContext(ctx))
		if err != nil {
			return err
		}
		return json.Unmarshal(body, &gb)
	})
	return &gb, err
}

// planShards decides the shard count (count, else Discord's recommendation,
// else 1) and this process's shard ids (ids, else all), sorted, each
// checked against the count.
func planShards(count int, ids []int, recommended int) (int, []int, error) {
	if count <= 0 {
		count = max(recommended, 1)
	}
	if len(ids) == 0 {
		all := make([]int, count)
		for i := range all {
			all[i] = i
		}
		return count, all, nil
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for _, id := range ids {
		if id < 0 || id >= count {
			return 0, nil, fmt.Errorf("bot: shard %d does not exist: there are %d shards (0-%d); check SHARD_IDS and SHARD_COUNT", id, count, count-1)
		}
	}
	return count, ids, nil
}

// awaitSessionStarts waits for the daily session start limit to reset when
// fewer starts remain than this process needs, logging what it does. It
// returns false if ctx ends first.
func (b *Bot) awaitSessionStarts(ctx context.Context, lim discordgo.SessionInformation, need int) bool {
	if lim.Total == 0 || lim.Remaining >= need {
		return true // unknown, or enough
	}
	wait := time.Duration(lim.ResetAfter) * time.Millisecond
	b.log.Warn("Discord's daily limit of gateway session starts is used up; waiting for it to reset before starting the shards (too many restarts? check for a crash loop)",
		"remaining", lim.Remaining, "needed", need, "total", lim.Total, "wait", wait)
	return sleep(ctx, wait)
}

// awaitIdentify waits until no other process has IDENTIFYed a shard of
// bucket within identifyInterval, reserving the bucket's slot in the store
// ("identify:<bucket>") for this shard's IDENTIFY; startShards paces this
// process's own shards. It returns false if ctx ends first. A store that
// fails must not keep the gateway from starting: awaitIdentify then logs
// it and lets the shard start.
//
// The first IDENTIFY of each shard is reserved before its session opens;
// the IDENTIFYs discordgo sends later, after an INVALID_SESSION, wait
// here too (identifyAgain, through identifyDialer). The attempts open
// retries after a failed Session.Open (most fail before the IDENTIFY, at
// the lookup or the dial) use the first reservation, and may outlast it.
func (b *Bot) awaitIdentify(ctx context.Context, shardID, bucket int) bool {
	name := "identify:" + strconv.Itoa(bucket)
	for logged := false; ; logged = true {
		wait, err := b.slots.Reserve(ctx, name, identifyInterval+identifySlack)
		switch {
		case ctx.Err() != nil:
			return false
		case err != nil:
			b.log.Warn("cannot coordinate gateway starts with other processes through the store; starting the shard anyway "+
				"(check that the store is reachable; a process starting a shard of the same bucket at this moment may see Discord refuse its session)",
				"shard_id", shardID, "bucket", bucket, "err", err)
			return true
		case wait <= 0:
			return true
		}
		if !logged {
			b.log.Info("waiting to start the shard: a shard of its bucket, in this process or another, started moments ago (Discord allows one start per bucket every 5 seconds)",
				"shard_id", shardID, "bucket", bucket, "wait", wait)
		}
		if !sleep(ctx, wait) {
			return false
		}
	}
}

// identifyAgain holds an IDENTIFY discordgo sends on its own after the
// shard's first until awaitIdentify lets it go; it fails once ctx ends.
func (b *Bot) identifyAgain(ctx context.Context, shardID, bucket int) error {
	b.log.Info("the gateway asks the shard to identify again (its session was invalidated); it does when Discord's start limit allows",
		"shard_id", shardID, "bucket", bucket)
	if !b.awaitIdentify(ctx, shardID, bucket) {
		return fmt.Errorf("shard %d: not identifying again: %w", shardID, context.Cause(ctx))
	}
	return nil
}

// startShards opens the shards ids as Discord's start limit allows: the
// shards of one bucket (id % maxConcurrency) one after another, at least
// interval apart, the buckets in parallel. It stops at the first error.
func startShards(ctx context.Context, ids []int, maxConcurrency int, interval time.Duration, open func(ctx context.Context, id int) error) error {
	maxConcurrency = max(maxConcurrency, 1)
	buckets := map[int][]int{}
	for _, id := range ids {
		buckets[id%maxConcurrency] = append(buckets[id%maxConcurrency], id)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for _, bucket := range buckets {
		wg.Go(func() {
			for i, id := range bucket {
				if i > 0 && !sleep(ctx, interval) {
					return
				}
				if err := open(ctx, id); err != nil {
					once.Do(func() { first = fmt.Errorf("shard %d: %w", id, err); cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}
