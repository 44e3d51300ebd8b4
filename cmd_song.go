package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/songbot-dev/songbot/ops"
)

const songUsage = `usage: songbot song [--json] [--interval 5s] [--timeout 30m] "<prompt>"

Makes one song at Whisul with the configured WHISUL_API_KEY, without
Discord, and prints its title, duration, BPM, tags, song URL and cover URL
(or, with --json, the final job as JSON). Progress goes to stderr: a
spinner on a terminal, a line per change otherwise. Ctrl-C stops waiting;
the job may still finish at Whisul.

Exit status 0 when the song is made, 1 when it failed or the wait was
stopped, 2 for a bad command line or configuration.
`

// runSong makes one song from the terminal.
func runSong(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("song", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the final job as JSON on stdout")
	interval := fs.Duration("interval", 0, "time between two polls (default POLL_INTERVAL)")
	timeout := fs.Duration("timeout", 0, "give up waiting after this long; 0 waits for ever (default JOB_TIMEOUT)")
	words, err := parseInterleaved(fs, args, songUsage, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	prompt := strings.Join(words, " ")
	if strings.TrimSpace(prompt) == "" {
		return usageError{`song: give a prompt, e.g. songbot song "lo-fi beat for a rainy night"`}
	}

	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	// The progress lines are the report: only the client's warnings, unless
	// LOG_LEVEL=debug asks for more.
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if cfg.LogLevel == "debug" {
		log = newLogger(cfg, stderr)
	}
	wc, err := newWhisul(cfg, log, nil)
	if err != nil {
		return err
	}
	if *interval <= 0 {
		*interval = cfg.PollInterval
	}
	if !flagSet(fs, "timeout") {
		*timeout = cfg.JobTimeout
	}
	return ops.RunSong(ctx, wc, prompt, ops.SongOptions{
		JSON:     *asJSON,
		Interval: *interval,
		Timeout:  *timeout,
		Out:      stdout,
		Err:      stderr,
		Terminal: isTerminal(stderr),
	})
}

// parseInterleaved parses flags before, between and after the words, so
// `songbot song "a prompt" --json` works; after "--" all is words.
func parseInterleaved(fs *flag.FlagSet, args []string, usage string, stdout io.Writer) ([]string, error) {
	var words []string
	for len(args) > 0 {
		if err := parseFlags(fs, args, usage, stdout); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(words, rest...), nil
		}
		if len(rest) == 0 {
			break
		}
		words = append(words, rest[0])
		args = rest[1:]
	}
	return words, nil
}

// isTerminal reports whether w is a character device, such as a terminal.
// Checking the file mode needs no dependency; it also takes /dev/null for
// a terminal, where the spinner goes nowhere anyway. TERM=dumb gets
// plain lines.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// flagSet reports whether name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
