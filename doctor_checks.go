package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/songbot-dev/songbot/internal/secret"
	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

// checkTimeout bounds one check, so an unreachable service fails the check
// instead of hanging the doctor.
const checkTimeout = 15 * time.Second

// check is one thing the doctor verifies. Run returns a short detail for
// the ok line, or an error whose text says what is wrong and what to do.
type check struct {
	Name string
	Run  func(ctx context.Context) (detail string, err error)
}

// errSkipped marks a check that could not run because one it needs failed.
var errSkipped = errors.New("skipped")

// skip returns the error a check returns when it cannot run because an
// earlier one failed; runChecks prints it as "skip" with reason.
func skip(reason string) error { return fmt.Errorf("%w: %s", errSkipped, reason) }

// errWarning marks what the operator should know but need not fix, such as
// a command the bot will register itself when it starts.
var errWarning = errors.New("warning")

// warn returns the error a check returns for a warning; runChecks prints
// it as "warn" with reason, and it does not fail the run.
func warn(reason string) error { return fmt.Errorf("%w: %s", errWarning, reason) }

// runChecks runs checks in order and prints one line for each:
//
//	ok    store        Redis at redis://127.0.0.1:6379 answers; 0 songs pending
//	FAIL  whisul key   rejected (401): set WHISUL_API_KEY to a valid key
//	warn  song command /song is not registered globally yet; the bot registers it when it starts
//
// It reports whether every check passed or only warned.
func runChecks(ctx context.Context, w io.Writer, checks []check) bool {
	width := 0
	for _, c := range checks {
		width = max(width, len(c.Name))
	}
	allOK := true
	for _, c := range checks {
		cctx, cancel := context.WithTimeout(ctx, checkTimeout)
		detail, err := c.Run(cctx)
		cancel()
		verdict := "ok"
		switch {
		case errors.Is(err, errWarning):
			verdict, detail = "warn", strings.TrimPrefix(err.Error(), errWarning.Error()+": ")
		case errors.Is(err, errSkipped):
			verdict, detail = "skip", strings.TrimPrefix(err.Error(), errSkipped.Error()+": ")
			allOK = false
		case err != nil:
			verdict, detail = "FAIL", err.Error()
			allOK = false
		}
		fmt.Fprintf(w, "%-5s %-*s  %s\n", verdict, width, c.Name, oneLine(detail))
	}
	return allOK
}

// oneLine joins a multi-line message (errors.Join) into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ; ")), " ")
}

// storeCheck opens the store with open and pings it. where names the store
// for the operator, without credentials: "Redis at redis://host:6379/0" or
// "embedded file data/songbot.db". An embedded file held by another process
// passes: that is a running bot, which is what the doctor expects to find.
func storeCheck(where string, open func(context.Context) (store, error)) check {
	return check{Name: "store", Run: func(ctx context.Context) (string, error) {
		store, err := open(ctx)
		if errors.Is(err, storage.ErrLocked) {
			return where + " is in use by a running songbot (expected while the bot runs; stop it to check the file itself)", nil
		}
		if err != nil {
			return "", err
		}
		defer store.Close()
		if err := store.Ping(ctx); err != nil {
			return "", fmt.Errorf("%s does not answer: %v; check that it is up and that REDIS_URL or DATA_DIR points at it", where, err)
		}
		n, err := store.Count(ctx)
		if err != nil {
			return "", fmt.Errorf("%s answers but cannot count pending songs: %v; check the store's health and permissions", where, err)
		}
		detail := fmt.Sprintf("%s answers; %d %s pending", where, n, plural(n, "song", "songs"))
		if g, ok := store.(storage.Gate); ok {
			if running, queued, err := g.Counts(ctx); err == nil {
				detail += fmt.Sprintf(" (%d running, %d queued)", running, queued)
			}
		}
		return detail, nil
	}}
}

// whisulKeyCheck asks Whisul for a job id that cannot exist: 404 means the
// key was accepted, 401 that it was not. Nothing is generated and no credit
// is spent. baseURL is shown in messages, without any user information.
func whisulKeyCheck(client *whisul.Client, baseURL string) check {
	where := secret.URL(baseURL)
	return check{Name: "whisul key", Run: func(ctx context.Context) (string, error) {
		_, err := client.Job(ctx, randomJobID(), "")
		var ae *whisul.APIError
		switch {
		case err == nil, errors.Is(err, whisul.ErrNotFound):
			return "accepted by " + where, nil
		case errors.Is(err, whisul.ErrUnauthorized) && errors.As(err, &ae):
			return "", fmt.Errorf("rejected (%d) by %s: set WHISUL_API_KEY to a valid key from your Whisul account", ae.StatusCode, where)
		case errors.Is(err, whisul.ErrRateLimited):
			return "", fmt.Errorf("%s is rate limiting this key (429): wait a minute and run the doctor again; if it persists, the bot is polling too fast (POLL_INTERVAL)", where)
		case errors.Is(err, whisul.ErrServer):
			return "", fmt.Errorf("%s has a server error (%v): Whisul may be down; try again later", where, err)
		case errors.Is(err, whisul.ErrMalformed):
			return "", fmt.Errorf("%s answered something that is not Whisul's API (%v): check WHISUL_API_URL (it ends in /api)", where, err)
		default:
			return "", fmt.Errorf("could not reach Whisul at %s: %v: check the network and WHISUL_API_URL", where, err)
		}
	}}
}

// randomJobID is a version 4 UUID, the shape of Whisul's job ids, so the
// request looks like any poll and cannot name a real job.
func randomJobID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
