// Command songbot is a Discord bot that turns /song into an original song
// made by the Whisul music API. Run it with DISCORD_TOKEN and
// WHISUL_API_KEY set; see README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot"
	"github.com/songbot-dev/songbot/internal/secret"
	"github.com/songbot-dev/songbot/ops"
	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal kills the process
	}()
	err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitStatus(err, os.Stderr))
}

// runBot starts the bot, configured through env, and blocks until ctx
// ends: configuration, logger, store, Whisul client, bot, operator HTTP
// server.
func runBot(ctx context.Context, env lookupFunc, stderr io.Writer) error {
	cfg, err := loadConfig(env)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	routeDiscordgoLogs(log.With("component", "discordgo"))
	routeRedisLogs(log, secretsOf(cfg)...)
	if cfg.PollInterval < 5*time.Second {
		log.Warn("POLL_INTERVAL is below the 5s Whisul asks for; use this for tests only", "poll_interval", cfg.PollInterval)
	}

	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()

	reg := newRegistry()
	metrics := ops.NewMetrics(reg)
	metrics.CollectStore(store)
	wc, err := newBotWhisul(cfg, log, metrics.WhisulResponse)
	if err != nil {
		return err
	}
	shardIDs, _ := parseShardIDs(cfg.ShardIDs) // validated by loadConfig
	var publicKey []byte
	if cfg.InteractionsAddr != "" {
		publicKey, _ = parsePublicKey(cfg.DiscordPublicKey)
	}
	interactions, err := listenInteractions(cfg.InteractionsAddr)
	if err != nil {
		return err
	}
	b, err := bot.New(bot.Options{
		Token:           cfg.DiscordToken.Reveal(),
		APIURL:          cfg.DiscordAPIURL,
		GuildID:         cfg.DiscordGuildID,
		Version:         buildVersion(),
		Whisul:          wc,
		Store:           store,
		Logger:          log,
		PollInterval:    cfg.PollInterval,
		JobTimeout:      cfg.JobTimeout,
		PromptMaxLength: cfg.PromptMaxLength,
		PollConcurrency: cfg.PollConcurrency,
		WhisulMaxRPS:    cfg.WhisulMaxRPS,
		Limits:          cfg.limits(),
		AllowedGuildIDs: cfg.AllowedGuildIDs,
		AllowDMs:        cfg.AllowDMs,
		BlockedUserIDs:  cfg.BlockedUserIDs,
		BlockedWords:    cfg.BlockedWords,
		HistoryTTL:      cfg.HistoryTTL,
		AudioMemory:     cfg.audioMemory(),
		Metrics:         metrics,
		ShardCount:      cfg.ShardCount,
		ShardIDs:        shardIDs,
		Interactions:    interactions,
		PublicKey:       publicKey,
	})
	if err != nil {
		if interactions != nil {
			interactions.Close()
		}
		return configError{[]string{err.Error()}}
	}
	registerShardMetrics(reg, b.ShardsConnected)
	metrics.CollectPolls(b.PollsInFlight)
	// The server outlives the signal, so probes read 503 (not a refused
	// connection) while the bot drains; stopHTTP ends it after Run. It
	// starts before Discord is reached, so /healthz answers while the bot
	// waits for the network.
	stopHTTP := startHTTP(context.WithoutCancel(ctx), cfg.HTTPAddr, log, reg, readiness(b.Ready, store))
	probe, err := discordProbe(cfg.DiscordToken.Reveal(), cfg.DiscordAPIURL)
	if err != nil {
		return errors.Join(err, stopHTTP())
	}
	err = awaitDiscord(ctx, probe, secret.URL(cfg.DiscordAPIURL), log.With("component", "startup"), startupBackoff())
	if ctx.Err() != nil {
		log.Info("stopped before Discord answered; pending jobs stay in the store")
		return stopHTTP()
	}
	if err != nil {
		return errors.Join(err, stopHTTP())
	}
	if err := errors.Join(gatewayProblem(b.Run(ctx)), stopHTTP()); err != nil {
		return err
	}
	log.Info("stopped; pending jobs stay in the store")
	return nil
}

// newWhisul builds the Whisul client the bot and the subcommands share.
// onResponse, if not nil, counts each HTTP attempt for metrics.
func newWhisul(cfg config, log *slog.Logger, onResponse func(endpoint string, status int)) (*whisul.Client, error) {
	wc, err := whisul.New(whisul.Options{
		BaseURL:    cfg.WhisulAPIURL,
		APIKey:     cfg.WhisulAPIKey.Reveal(),
		Logger:     log.With("component", "whisul"),
		UserAgent:  userAgent(),
		OnResponse: onResponse,
	})
	if err != nil {
		return nil, configError{[]string{err.Error() + ": check WHISUL_API_KEY and WHISUL_API_URL"}}
	}
	return wc, nil
}

// newBotWhisul is newWhisul for the bot: one attempt per call, so every
// HTTP attempt passes the bot's rate limiter (which waits before each call
// and learns from each 429) and the poll loop owns the retries, with the
// backoff and Retry-After it keeps in the store; and a transport that keeps
// an idle connection for every poll that may be in flight, so thousands of
// polls a second reuse their connections instead of opening new ones.
func newBotWhisul(cfg config, log *slog.Logger, onResponse func(endpoint string, status int)) (*whisul.Client, error) {
	concurrency := cfg.PollConcurrency
	if concurrency <= 0 {
		concurrency = bot.DefaultPollConcurrency
	}
	wc, err := whisul.New(whisul.Options{
		BaseURL:    cfg.WhisulAPIURL,
		APIKey:     cfg.WhisulAPIKey.Reveal(),
		HTTPClient: &http.Client{Timeout: whisul.DefaultTimeout, Transport: whisulTransport(concurrency)},
		Logger:     log.With("component", "whisul"),
		UserAgent:  userAgent(),
		MaxRetries: -1,
		OnResponse: onResponse,
	})
	if err != nil {
		return nil, configError{[]string{err.Error() + ": check WHISUL_API_KEY and WHISUL_API_URL"}}
	}
	return wc, nil
}

// whisulTransport is Go's default transport with room for concurrency idle
// connections to Whisul (the default keeps 2 per host, so a burst of polls
// would open and close connections all the time).
func whisulTransport(concurrency int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = concurrency
	t.MaxIdleConnsPerHost = concurrency
	return t
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	level, _ := cfg.level() // validated by loadConfig
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// discordgoLog is where discordgo's own messages go: the logger of the bot
// started last. discordgo keeps its logger in a package variable, so it is
// set once and reads this, which tests running several bots in one process
// may change without a data race.
var (
	discordgoLog     atomic.Pointer[slog.Logger]
	discordgoLogOnce sync.Once
)

// routeDiscordgoLogs sends discordgo's own messages (gateway reconnects and
// the like) to log instead of the standard logger, so every line of the
// process has one format. Its default level logs errors only, which never
// print request URLs (and so never interaction tokens).
func routeDiscordgoLogs(log *slog.Logger) {
	discordgoLog.Store(log)
	discordgoLogOnce.Do(func() {
		discordgo.Logger = func(level, _ int, format string, a ...any) {
			l := slog.LevelError
			switch level {
			case discordgo.LogWarning:
				l = slog.LevelWarn
			case discordgo.LogInformational:
				l = slog.LevelInfo
			case discordgo.LogDebug:
				l = slog.LevelDebug
			}
			discordgoLog.Load().Log(context.Background(), l, fmt.Sprintf(format, a...))
		}
	})
}

// store is what main does with the store it opens: the bot's backend, the
// metrics' counts, /readyz's ping, and closing it at exit. storage.Redis
// and storage.Bolt are one.
type store interface {
	bot.Backend
	ops.JobCounter
	ops.SlotCounter
	Ping(ctx context.Context) error
	Close() error
}

// openStore opens Redis when REDIS_URL is set, else the embedded store.
func openStore(ctx context.Context, cfg config, log *slog.Logger) (store, error) {
	log = log.With("component", "storage")
	if cfg.RedisURL.IsZero() {
		path := cfg.boltPath()
		s, err := storage.OpenBolt(path, storage.BoltOptions{Logger: log})
		if err != nil {
			return nil, fmt.Errorf("open the embedded store (set DATA_DIR to a writable folder, or REDIS_URL): %w", err)
		}
		log.Info("using the embedded store", "path", path)
		return s, nil
	}
	ttl := 7 * 24 * time.Hour
	if cfg.JobTimeout > 0 {
		ttl = cfg.JobTimeout + time.Hour
	}
	s, err := storage.OpenRedis(ctx, cfg.RedisURL.Reveal(), storage.RedisOptions{Prefix: cfg.RedisPrefix, JobTTL: ttl, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("connect to Redis (check REDIS_URL, or unset it to use the embedded store): %w", err)
	}
	log.Info("using Redis", "prefix", cfg.RedisPrefix)
	return s, nil
}
