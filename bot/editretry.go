package bot

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"
)

// Backoff between attempts of an edit that failed with a 5xx or a network
// error: doubling from editBackoffBase, capped, with jitter so that many
// deliveries failing at once do not retry in step. Discord's own advice
// for 5xx is "retry later"; the cap keeps the whole retry run (five
// attempts: at most 0.25+0.5+1+2 s of waits) well inside a delivery's
// time, which is 9/10 of the lease.
const (
	editBackoffBase = 250 * time.Millisecond
	editBackoffMax  = 4 * time.Second
)

// maxRetryAfter bounds how long a 429's retry_after is waited for before
// the next attempt; a longer one ends the attempts, and the delivery falls
// back. Discord's per-route waits are a second or two.
const maxRetryAfter = 30 * time.Second

// shouldRetry decides whether a failed edit is tried again and after how
// long, with a reason to log. A 429 waits its retry_after (discordgo reads
// it from the body's retry_after; its retries are off for these requests);
// a 5xx or a network failure waits the jittered backoff of attempt (0 for
// the first retry); anything else, a dead token included, is final.
func shouldRetry(err error, attempt int) (retry bool, wait time.Duration, reason string) {
	var rl rateLimited
	if errors.As(err, &rl) {
		if rl.retryAfter > maxRetryAfter {
			return false, 0, "rate limited for longer than " + maxRetryAfter.String()
		}
		return true, rl.retryAfter, "rate limited (429)"
	}
	if !transient(err) {
		return false, 0, "not transient"
	}
	_, status := restCode(err)
	reason = "network failure"
	if status != 0 {
		reason = "Discord answered " + http.StatusText(status)
	}
	return true, editBackoff(attempt), reason
}

// editBackoff is the wait before retry attempt+1: base×2^attempt, capped,
// then jittered into [d/2, d].
func editBackoff(attempt int) time.Duration {
	d := editBackoffMax
	if attempt < 5 {
		d = min(editBackoffBase<<attempt, editBackoffMax)
	}
	return d/2 + rand.N(d/2+1)
}

// retryEdit runs edit up to attempts times while shouldRetry says so,
// waiting between attempts; ctx's end stops it and its error wins.
// failed, if not nil, is called after each failed attempt.
func retryEdit(ctx context.Context, log *slog.Logger, attempts int, failed func(), edit func() error) error {
	var err error
	for attempt := range attempts {
		if err = edit(); err == nil {
			return nil
		}
		if failed != nil {
			failed()
		}
		if ctx.Err() != nil {
			return err
		}
		retry, wait, reason := shouldRetry(err, attempt)
		if !retry || attempt == attempts-1 {
			return err
		}
		log.Warn("editing the reply failed; retrying", "reason", reason, "wait", wait, "attempt", attempt+1, "err", err)
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
	}
	return err
}
