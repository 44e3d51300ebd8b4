package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/url"
	"strings"

	"github.com/songbot-dev/songbot/internal/secret"
)

const doctorUsage = `usage: songbot doctor

Checks, in turn, what the bot needs and prints one line per check:
  config         the environment is valid (as the bot reads it)
  store          Redis answers, or the embedded file is writable
  whisul key     Whisul accepts WHISUL_API_KEY (asks for a job that does
                 not exist: nothing is generated, no credit is spent)
  discord token  Discord accepts DISCORD_TOKEN
  song command   /song is registered globally, or in DISCORD_GUILD_ID; a
                 warning only before the bot's first start, since the bot
                 registers it when it connects
  gateway        the shards Discord recommends against SHARD_COUNT and
                 the session starts left today (a warning when short)
  interactions   instead of gateway with INTERACTIONS_ADDR: that
                 DISCORD_PUBLIC_KEY is the application's public key

Each line starts with ok, warn, FAIL or skip. Exit status 0 when no check
failed (warnings allowed), 1 otherwise. Secrets are never printed. While
the bot runs on the embedded store, the file is in use and the store check
says so.
`

// runDoctor checks the configuration, the store, Whisul and Discord, and
// prints one line per check.
func runDoctor(ctx context.Context, args []string, env lookupFunc, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	if err := noArgs(fs, args, doctorUsage, stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}

	cfg, cfgErr := loadConfig(env)
	checks := []check{{Name: "config", Run: func(context.Context) (string, error) {
		var ce configError
		if errors.As(cfgErr, &ce) {
			return "", errors.New(strings.Join(ce.problems, "; ") + " (see README.md, Configuration)")
		}
		return configSummary(cfg), nil
	}}}
	if cfgErr != nil {
		for _, name := range []string{"store", "whisul key", "discord token", "song command", "gateway"} {
			checks = append(checks, check{Name: name, Run: func(context.Context) (string, error) {
				return "", skip("needs a valid configuration")
			}})
		}
		runChecks(ctx, stdout, checks)
		return errReported
	}
	secrets := secretsOf(cfg)
	out := secret.Writer(stdout, secrets...)

	// Warnings only: the check lines are the report.
	log := slog.New(secret.Handler(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}), secrets...))
	routeRedisLogs(log, secrets...)
	wc, err := newWhisul(cfg, log, nil)
	keyCheck := check{Name: "whisul key", Run: func(context.Context) (string, error) { return "", err }}
	if err == nil {
		keyCheck = whisulKeyCheck(wc, cfg.WhisulAPIURL)
	}
	checks = append(checks,
		storeCheck(storeWhere(cfg), func(ctx context.Context) (store, error) { return openStore(ctx, cfg, log) }),
		keyCheck,
	)
	dopts := discordOptions{
		Token:        cfg.DiscordToken.Reveal(),
		APIURL:       cfg.DiscordAPIURL,
		GuildID:      cfg.DiscordGuildID,
		Interactions: cfg.InteractionsAddr != "",
		ShardCount:   cfg.ShardCount,
	}
	// The config check has vetted both: errors cannot happen here.
	dopts.ShardIDs, _ = parseShardIDs(cfg.ShardIDs)
	if dopts.Interactions {
		dopts.PublicKey, _ = parsePublicKey(cfg.DiscordPublicKey)
	}
	checks = append(checks, discordChecks(dopts)...)
	if !runChecks(ctx, out, checks) {
		return errReported
	}
	return nil
}

// configSummary is the config check's detail: where things are, no secret.
func configSummary(cfg config) string {
	parts := []string{"valid", "store: " + storeWhere(cfg), "Whisul at " + secret.URL(cfg.WhisulAPIURL)}
	if cfg.HTTPAddr == "" {
		parts = append(parts, "HTTP server off")
	} else {
		parts = append(parts, "HTTP server on "+cfg.HTTPAddr)
	}
	return strings.Join(parts, "; ")
}

// storeWhere names the store the bot would open, without credentials.
func storeWhere(cfg config) string {
	if cfg.RedisURL.IsZero() {
		return "embedded file " + cfg.boltPath()
	}
	return "Redis at " + secret.URL(cfg.RedisURL.Reveal())
}

// secretsOf lists the values doctor must never print: a last guard behind
// messages that are built not to contain any.
func secretsOf(cfg config) []string {
	s := []string{strings.TrimPrefix(cfg.DiscordToken.Reveal(), "Bot "), cfg.WhisulAPIKey.Reveal()}
	if u, err := url.Parse(cfg.RedisURL.Reveal()); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			s = append(s, p)
		}
	}
	return s
}
