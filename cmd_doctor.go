package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/songbot-dev/songbot/ops"
	"github.com/songbot-dev/songbot/storage"
)

// errChecksFailed is returned by doctor when a check failed; it has
// printed why, and the program exits 1.
var errChecksFailed = errors.New("some checks failed")

// usageError is a subcommand's bad command line; the program prints it and
// exits 2, like errUsage.
type usageError struct{ msg string }

func (e usageError) Error() string        { return e.msg }
func (e usageError) Is(target error) bool { return target == errUsage }

const doctorUsage = `usage: songbot doctor

Checks, in turn, what the bot needs and prints one line per check:
  config         the environment is valid (as the bot reads it)
  store          Redis answers, or the embedded file is writable
  whisul key     Whisul accepts WHISUL_API_KEY (asks for a job that does
                 not exist: nothing is generated, no credit is spent)
  discord token  Discord accepts DISCORD_TOKEN
  song command   /song is registered globally, or in DISCORD_GUILD_ID

Exit status 0 when every check passes, 1 otherwise. Secrets are never
printed. While the bot runs on the embedded store, the file is in use and
the store check says so.
`

// parseFlags parses a subcommand's flags; --help prints usage and the
// flags to stdout and returns flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string, usage string, stdout io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		fs.SetOutput(stdout)
		if hasFlags(fs) {
			fmt.Fprintln(stdout, "\nFlags:")
			fs.PrintDefaults()
		}
		return err
	}
	if err != nil {
		return usageError{fmt.Sprintf("%s: %v; run songbot %s --help", fs.Name(), err, fs.Name())}
	}
	return nil
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// runDoctor checks the configuration, the store, Whisul and Discord, and
// prints one line per check.
func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	if err := parseFlags(fs, args, doctorUsage, stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"doctor takes no arguments; run songbot doctor --help"}
	}

	cfg, cfgErr := loadConfig()
	checks := []ops.Check{{Name: "config", Run: func(context.Context) (string, error) {
		if cfgErr != nil {
			var ce configError
			if errors.As(cfgErr, &ce) {
				cfgErr = ce.err
			}
			return "", fmt.Errorf("%v (see README.md, Configuration)", cfgErr)
		}
		return configSummary(cfg), nil
	}}}
	out := &redactingWriter{w: stdout}
	if cfgErr != nil {
		for _, name := range []string{"store", "whisul key", "discord token", "song command"} {
			checks = append(checks, ops.Check{Name: name, Run: func(context.Context) (string, error) {
				return "", ops.Skip("needs a valid configuration")
			}})
		}
		ops.RunChecks(ctx, out, checks)
		return errChecksFailed
	}
	out.secrets = secretsOf(cfg)

	// Warnings only: the check lines are the report.
	log := slog.New(slog.NewTextHandler(&redactingWriter{w: stderr, secrets: out.secrets}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	wc, err := newWhisul(cfg, log, nil)
	whisulCheck := ops.Check{Name: "whisul key", Run: func(context.Context) (string, error) { return "", err }}
	if err == nil {
		whisulCheck = ops.WhisulKeyCheck(wc, cfg.WhisulAPIURL)
	}
	checks = append(checks,
		ops.StoreCheck(storeWhere(cfg), func(ctx context.Context) (storage.Store, error) {
			s, err := openStore(ctx, cfg, log)
			if err != nil {
				return nil, err
			}
			return s, nil
		}),
		whisulCheck,
	)
	checks = append(checks, ops.DiscordChecks(ops.DiscordOptions{
		Token:   string(cfg.DiscordToken),
		APIURL:  cfg.DiscordAPIURL,
		GuildID: cfg.DiscordGuildID,
	})...)
	if !ops.RunChecks(ctx, out, checks) {
		return errChecksFailed
	}
	return nil
}

// configSummary is the config check's detail: where things are, no secret.
func configSummary(cfg config) string {
	parts := []string{"valid", "store: " + storeWhere(cfg), "Whisul at " + ops.RedactURL(cfg.WhisulAPIURL)}
	if cfg.HTTPAddr == "" {
		parts = append(parts, "HTTP server off")
	} else {
		parts = append(parts, "HTTP server on "+cfg.HTTPAddr)
	}
	return strings.Join(parts, "; ")
}

// storeWhere names the store the bot would open, without credentials.
func storeWhere(cfg config) string {
	if cfg.RedisURL == "" {
		return "embedded file " + filepath.Join(cfg.DataDir, storage.DefaultBoltFile)
	}
	return "Redis at " + ops.RedactURL(cfg.RedisURL)
}

// secretsOf lists the values doctor must never print.
func secretsOf(cfg config) []string {
	s := []string{strings.TrimPrefix(string(cfg.DiscordToken), "Bot "), string(cfg.WhisulAPIKey)}
	if u, err := url.Parse(cfg.RedisURL); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			s = append(s, p)
		}
	}
	return s
}

// redactingWriter replaces secrets in what passes through it: a last guard
// behind messages that are built not to contain any. Each Write must hold
// whole lines, as RunChecks and slog write them.
type redactingWriter struct {
	w       io.Writer
	secrets []string
}

func (r *redactingWriter) Write(p []byte) (int, error) {
	s := string(p)
	for _, secret := range r.secrets {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	if _, err := io.WriteString(r.w, s); err != nil {
		return 0, err
	}
	return len(p), nil
}
