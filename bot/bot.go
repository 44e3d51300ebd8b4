// Package bot is songbot's Discord side: it answers /song over the gateway,
// keeps each pending song in a storage.Store, polls Whisul for it, and edits
// the user's reply into the finished song.
package bot

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot/i18n"
	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

// Backend is everything the bot keeps outside the process: pending jobs,
// the fair-use counts, finished songs and its own small values. It is the
// union of the small interfaces the bot's parts use, each declared beside
// its user, so main wires one store value (storage.Redis or storage.Bolt)
// while each part, and each test, deals only with the methods it calls.
type Backend interface {
	JobQueue       // poller.go
	Admitter       // admission.go
	SongHistory    // history.go
	CommandMeta    // commands.go
	ServerSettings // songadmin.go
	Canceller      // cancel.go
	UserStanding   // standing.go
	QueuePositions // queuewatch.go
	GuildRoster    // songadmin.go
	GatewaySlots   // shards.go
}

// Options configure a Bot. Token, Whisul and Store are required.
type Options struct {
	Token   string // Discord bot token, with or without the "Bot " prefix
	APIURL  string // Discord's origin; default https://discord.com
	GuildID string // register commands in this guild only; empty = globally
	Version string // shown in the User-Agent

	Whisul *whisul.Client
	Store  Backend
	Logger *slog.Logger // default discards

	PollInterval    time.Duration // between two polls of one job; 0 polls back to back
	JobTimeout      time.Duration // give up on a job after this long; 0 = never
	PromptMaxLength int           // 0 = Discord's own limit

	// Limits are the fair-use limits, applied by the store across all
	// processes; zero values switch them off.
	Limits storage.Limits
	// AllowedGuildIDs, when not empty, are the only servers where the bot
	// works; DMs and private channels are then refused too, unless
	// AllowDMs.
	AllowedGuildIDs []string
	AllowDMs        bool
	BlockedUserIDs  []string
	// BlockedWords are refused in prompts, compared as whole words with
	// case, accents and punctuation ignored.
	BlockedWords []string

	// HistoryTTL is how long finished songs stay in /songs and their
	// Regenerate buttons work; 0 = for ever.
	HistoryTTL time.Duration
	// AudioMemory bounds the bytes of audio downloaded and held for upload
	// at once, across every delivery; 0 means DefaultAudioMemory, less
	// than 0 no bound. AudioClient fetches it; default a client whose
	// transport keeps connections to the CDN for reuse (pooledTransport).
	AudioMemory int64
	AudioClient *http.Client
	// AudioTimeout bounds one download, waiting for memory included;
	// default 20s. A slower download falls back to the link.
	AudioTimeout time.Duration

	// PollConcurrency bounds how many jobs are polled (and delivered) at
	// once; 0 means DefaultPollConcurrency. Below it, the polls in flight
	// are as many as Whisul's round trip needs (see flightLimit): no
	// fixed pool.
	PollConcurrency int
	// WhisulMaxRPS caps Whisul requests per second, submissions and polls
	// together, across the process; 0 means no cap. Whatever the cap, the
	// rate adapts to Whisul's 429s (see adaptiveLimiter). Build Whisul with
	// MaxRetries -1, as main does, so that every HTTP attempt passes the
	// limiter and the poll loop owns the retries.
	WhisulMaxRPS float64
	// Lease is how long a job this process works on stays hidden from
	// other processes between two heartbeats, and so how long a crashed
	// process's job waits; default 10s (see defaultLease). Not a setting:
	// the heartbeat renews it while work lasts, so only tests shorten it.
	Lease time.Duration
	// ShutdownGrace bounds how long in-flight work may finish after Run's
	// context ends. Default 6s: with closing the gateway and a delivery's
	// last few seconds, the process stops within 10s.
	ShutdownGrace time.Duration

	// Metrics receives counts for operators; default none.
	Metrics Metrics

	// OnJobDone, if set, is called after a job left the store, with its
	// outcome. It must be fast.
	OnJobDone func(id string, outcome JobOutcome)

	// ShardCount is how many gateway shards the bot has; 0 = the count
	// Discord recommends (GET /gateway/bot). ShardIDs are the shards this
	// process runs; empty = all of them. See shards.go.
	ShardCount int
	ShardIDs   []int
	// Interactions, when set, makes the bot serve Discord's interactions
	// endpoint (POST /interactions) on it instead of opening the gateway;
	// PublicKey, the application's, verifies every request and is then
	// required. See httpendpoint.go.
	Interactions net.Listener
	PublicKey    ed25519.PublicKey

	// Transport carries Discord REST calls; default a pooled transport.
	Transport http.RoundTripper
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Bot serves /song. Create it with New and start it with Run.
type Bot struct {
	opts    Options
	log     *slog.Logger
	session *discordgo.Session // the gateway; nil in unit tests
	discord discordAPI         // what handlers and the poll loop send
	whisul  composer
	policy  policy

	// The store, by use: each part of the bot sees only its own methods.
	queue     JobQueue
	gate      Admitter
	history   SongHistory
	meta      CommandMeta
	settings  ServerSettings
	cancels   Canceller
	standings UserStanding
	positions QueuePositions
	guildJobs GuildRoster
	slots     GatewaySlots

	handlers handlerTable
	texts    *i18n.Catalogue // every text users read, in their languages
	now      func() time.Time
	limiter  *adaptiveLimiter
	flight   *flightLimit
	states   *stateBatcher // the group commit of reschedules
	token    string        // this process's lease token
	leases   leases        // the jobs this process works on
	acks     ackFirst      // songs admitted and not yet answered go first

	readyOnce sync.Once
	ready     chan string // the application id, from READY
	// shards are this process's gateway sessions, once Run opened them;
	// readiness needs every one connected. None in HTTP mode.
	shards atomic.Pointer[[]*shard]
	// responder turns a handler's first response into the HTTP response,
	// in HTTP mode; nil otherwise.
	responder  *httpResponder
	registered atomic.Bool
	metrics    Metrics
	started    chan struct{}   // closed once commands are registered
	runDone    <-chan struct{} // Run's ctx.Done(), once Run started

	audio *audioFetcher
	clock clockCheck // reports clock skew once

	// work tracks interaction handlers and deliveries so shutdown can let
	// them finish; workCtx outlives Run's context by the grace period.
	mu      sync.Mutex
	closing bool
	work    sync.WaitGroup
	workCtx context.Context
	stop    context.CancelFunc
}

// New checks opts and prepares a Bot; it does not connect.
func New(opts Options) (*Bot, error) {
	if opts.Token == "" {
		return nil, errors.New("bot: a Discord token is required")
	}
	if opts.Whisul == nil || opts.Store == nil {
		return nil, errors.New("bot: a Whisul client and a store are required")
	}
	if opts.Interactions != nil && len(opts.PublicKey) != ed25519.PublicKeySize {
		return nil, errors.New("bot: the interactions endpoint needs the application's Ed25519 public key")
	}
	if opts.APIURL == "" {
		opts.APIURL = "https://discord.com"
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	s, err := NewSession(opts.Token, opts.APIURL, opts.Transport, UserAgent(opts.Version))
	if err != nil {
		return nil, err
	}
	var api discordAPI = newSessionAPI(s, time.Now)
	var responder *httpResponder
	if opts.Interactions != nil {
		responder = newHTTPResponder(api)
		api = responder
	}
	b := newBot(opts, api, opts.Whisul)
	b.session, b.responder = s, responder
	return b, nil
}

// newBot fills in opts' defaults and builds a Bot that talks to Discord
// through api and to Whisul through w, without a gateway: what unit tests
// run with fakes.
func newBot(opts Options, api discordAPI, w composer) *Bot {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PollConcurrency <= 0 {
		opts.PollConcurrency = DefaultPollConcurrency
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 6 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Metrics == nil {
		opts.Metrics = nopMetrics{}
	}
	if opts.AudioTimeout <= 0 {
		opts.AudioTimeout = defaultAudioTimeout
	}
	if opts.AudioClient == nil {
		opts.AudioClient = &http.Client{Transport: pooledTransport()}
	}
	workCtx, stop := context.WithCancel(context.Background())
	b := &Bot{
		opts:      opts,
		log:       opts.Logger,
		discord:   api,
		whisul:    w,
		queue:     opts.Store,
		gate:      opts.Store,
		history:   opts.Store,
		meta:      opts.Store,
		settings:  opts.Store,
		cancels:   opts.Store,
		standings: opts.Store,
		positions: opts.Store,
		guildJobs: opts.Store,
		slots:     opts.Store,
		policy:    policy{allowedGuilds: opts.AllowedGuildIDs, allowDMs: opts.AllowDMs, blockedUsers: opts.BlockedUserIDs, words: newWordFilter(opts.BlockedWords)},
		texts:     i18n.MustLoad(),
		now:       opts.Now,
		limiter:   newAdaptiveLimiter(opts.WhisulMaxRPS, opts.Now),
		flight:    newFlightLimit(opts.PollConcurrency),
		states:    &stateBatcher{queue: opts.Store},
		token:     newToken(),
		metrics:   opts.Metrics,
		started:   make(chan struct{}),
		// Its slots hold audio from download to upload, so memory stays
		// bounded however many songs finish at once.
		audio:   newAudioFetcher(opts.AudioClient, opts.AudioMemory, opts.AudioTimeout),
		ready:   make(chan string, 1),
		workCtx: workCtx,
		stop:    stop,
	}
	b.handlers = b.newHandlerTable()
	return b
}

// Run connects to the gateway (its shards) or serves the interactions
// endpoint, registers the commands, serves interactions and polls pending
// jobs until ctx ends. Then it closes the gateway or the endpoint, lets
// in-flight work finish within ShutdownGrace and returns; pending jobs stay
// in the store for the next start.
func (b *Bot) Run(ctx context.Context) error {
	defer b.stop()
	b.runDone = ctx.Done()
	appID, closeFront, err := b.connect(ctx)
	if err != nil || appID == "" {
		return err
	}
	if err := registerCommands(ctx, b.discord, b.meta, b.log, appID, b.opts.GuildID, b.handlers.definitions()); err != nil {
		closeFront()
		return err
	}
	b.registered.Store(true)
	close(b.started)
	b.log.Info("bot ready", "application_id", appID, "guild_id", b.opts.GuildID)

	polled := make(chan struct{})
	go func() {
		defer close(polled)
		b.pollLoop(ctx)
	}()
	// The heartbeat outlives Run's context: in-flight work keeps its
	// leases while it finishes within the grace period.
	go b.heartbeat(b.workCtx)
	go b.watchQueue(ctx)
	<-ctx.Done()
	b.log.Info("shutting down: closing the gateway or endpoint and finishing in-flight work", "grace", b.opts.ShutdownGrace)
	b.registered.Store(false)
	closeErr := closeFront()
	<-polled
	b.mu.Lock()
	b.closing = true
	b.mu.Unlock()

	done := make(chan struct{})
	go func() { b.work.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(b.opts.ShutdownGrace):
		b.log.Warn("shutdown grace period over; cancelling in-flight work (pending jobs stay in the store)")
		b.stop()
		<-done
	}
	b.states.wait() // the last polls' states, put back due at once
	return closeErr
}

// Ready reports whether the bot has every shard of this process connected
// to the gateway (or serves the interactions endpoint) with its commands
// registered, so it can answer /song.
func (b *Bot) Ready() bool {
	up, total := b.ShardsConnected()
	return up == total && b.registered.Load()
}

// Started is closed once the bot serves interactions: connected, with its
// commands registered.
func (b *Bot) Started() <-chan struct{} { return b.started }

// begin counts one more piece of in-flight work, which must call
// b.work.Done when it ends, unless shutdown has begun.
func (b *Bot) begin() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing {
		return false
	}
	b.work.Add(1)
	return true
}

// stopping reports whether Run's context has ended.
func (b *Bot) stopping() bool {
	select {
	case <-b.runDone:
		return true
	default:
		return false
	}
}

// track runs f as in-flight work unless shutdown has begun.
func (b *Bot) track(f func(ctx context.Context)) {
	if !b.begin() {
		return
	}
	defer b.work.Done()
	f(b.workCtx)
}

func (b *Bot) onReady(_ *discordgo.Session, r *discordgo.Ready) {
	if r.Application == nil || r.Application.ID == "" {
		b.log.Error("READY carried no application id; cannot register commands")
		return
	}
	b.readyOnce.Do(func() { b.ready <- r.Application.ID })
}
