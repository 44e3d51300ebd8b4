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
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot"
	"github.com/songbot-dev/songbot/ops"
	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal kills the process
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var ce configError
	switch {
	case err == nil:
	case errors.As(err, &ce), errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "songbot:", err)
		os.Exit(2)
	case errors.Is(err, errChecksFailed):
		os.Exit(1) // doctor printed why
	default:
		fmt.Fprintln(os.Stderr, "songbot:", err)
		os.Exit(1)
	}
}

// usage is the whole program's help; each subcommand has its own --help.
const usage = `usage: songbot [command]

Commands:
  (none)           run the bot
  doctor           check the configuration, the store, Whisul and Discord
  song "<prompt>"  make one song from the terminal, without Discord

The bot is configured with environment variables; see README.md.
`

// errUsage marks a command line that cannot be run; the program exits 2.
var errUsage = errors.New("unknown command; run songbot --help")

// run runs the command args name and blocks until it ends or ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return runBot(ctx, stderr)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	case "doctor":
		return runDoctor(ctx, args[1:], stdout, stderr)
	case "song":
		return runSong(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return errUsage
}

// runBot starts the bot and blocks until ctx ends.
func runBot(ctx context.Context, stderr io.Writer) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	routeDiscordgoLogs(log.With("component", "discordgo"))
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
	wc, err := newWhisul(cfg, log, metrics.WhisulResponse)
	if err != nil {
		return err
	}
	b, err := bot.New(bot.Options{
		Token:           string(cfg.DiscordToken),
		APIURL:          cfg.DiscordAPIURL,
		GuildID:         cfg.DiscordGuildID,
		Version:         version,
		Whisul:          wc,
		Store:           store,
		Logger:          log,
		PollInterval:    cfg.PollInterval,
		JobTimeout:      cfg.JobTimeout,
		PromptMaxLength: cfg.PromptMaxLength,
		Limits:          cfg.limits(),
		AllowedGuildIDs: cfg.AllowedGuildIDs,
		BlockedUserIDs:  cfg.BlockedUserIDs,
		BlockedWords:    cfg.BlockedWords,
		HistoryTTL:      cfg.HistoryTTL,
		Metrics:         metrics,
	})
	if err != nil {
		return configError{err}
	}
	// The server outlives the signal, so probes read 503 (not a refused
	// connection) while the bot drains; stopHTTP ends it after Run.
	stopHTTP := startHTTP(context.WithoutCancel(ctx), cfg.HTTPAddr, log, reg, readiness(b.Ready, store))
	if err := errors.Join(b.Run(ctx), stopHTTP()); err != nil {
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
		APIKey:     string(cfg.WhisulAPIKey),
		Logger:     log.With("component", "whisul"),
		UserAgent:  "github.com/songbot-dev/songbot/" + version,
		OnResponse: onResponse,
	})
	if err != nil {
		return nil, configError{err}
	}
	return wc, nil
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	level, _ := cfg.level() // validated by loadConfig
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// routeDiscordgoLogs sends discordgo's own messages (gateway reconnects and
// the like) to log instead of the standard logger, so every line of the
// process has one format. discordgo keeps its logger in a package variable.
// Its default level logs errors only, which never print request URLs (and
// so never interaction tokens).
func routeDiscordgoLogs(log *slog.Logger) {
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
		log.Log(context.Background(), l, fmt.Sprintf(format, a...))
	}
}

// openStore opens Redis when REDIS_URL is set, else the embedded store.
func openStore(ctx context.Context, cfg config, log *slog.Logger) (bot.Store, error) {
	log = log.With("component", "storage")
	if cfg.RedisURL == "" {
		path := filepath.Join(cfg.DataDir, "songbot.db")
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
	s, err := storage.OpenRedis(ctx, cfg.RedisURL, storage.RedisOptions{Prefix: cfg.RedisPrefix, JobTTL: ttl, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("connect to Redis (check REDIS_URL, or unset it to use the embedded store): %w", err)
	}
	log.Info("using Redis", "prefix", cfg.RedisPrefix)
	return s, nil
}
