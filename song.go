package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"strings"
)

const songUsage = `usage: songbot song [--json] [--interval 5s] [--timeout 30m] "<prompt>"

Makes one song at Whisul with the configured WHISUL_API_KEY, without
Discord, and prints its title, duration, BPM, tags, song URL and cover URL
(or, with --json, the final job as JSON). Progress goes to stderr: a
spinner on a terminal, a line per change otherwise. Ctrl-C stops waiting;
the job may still finish at Whisul.

It reads only WHISUL_API_KEY (or WHISUL_API_KEY_FILE), WHISUL_API_URL,
POLL_INTERVAL, JOB_TIMEOUT, LOG_LEVEL and LOG_FORMAT.

Exit status 0 when the song is made, 1 when it failed or the wait was
stopped, 2 for a bad command line or configuration.
`

// songVars are the variables `songbot song` reads: it never talks to
// Discord or the store, so it needs neither DISCORD_TOKEN nor REDIS_URL.
var songVars = []string{"WHISUL_API_KEY", "WHISUL_API_URL", "POLL_INTERVAL", "JOB_TIMEOUT", "LOG_LEVEL", "LOG_FORMAT"}

// runSong makes one song from the terminal.
func runSong(ctx context.Context, args []string, env lookupFunc, stdout, stderr io.Writer) error {
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

	cfg, err := loadConfig(env, songVars...)
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
	term, _ := env("TERM")
	return makeSong(ctx, wc, prompt, songOptions{
		JSON:     *asJSON,
		Interval: *interval,
		Timeout:  *timeout,
		Out:      stdout,
		Err:      stderr,
		Terminal: term != "dumb" && isTerminal(stderr),
	})
}

// isTerminal reports whether w is a character device, such as a terminal.
// Checking the file mode needs no dependency; it also takes /dev/null for
// a terminal, where the spinner goes nowhere anyway. TERM=dumb gets
// plain lines.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
