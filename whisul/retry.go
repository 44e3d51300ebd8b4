package whisul

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Operation names, used in errors, logs and OnResponse.
const (
	opGenerate = "generate"
	opJob      = "job"
)

// do runs one request with retries: attempt, and while shouldRetry agrees
// and retries remain, wait (backoff, or Retry-After if longer) and try
// again. A done context stops it and its error wins; a wait that would pass
// the context's deadline is not started, the last error is returned at once.
func (c *Client) do(ctx context.Context, op, method, target string, body []byte) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		resp, err := c.attempt(ctx, op, method, target, body)
		if err == nil {
			return resp, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, contextWins(op, ctxErr, err)
		}
		retry, reason := shouldRetry(op, err)
		if !retry {
			return nil, err
		}
		if attempt >= c.maxRetries {
			if attempt == 0 {
				return nil, err
			}
			return nil, fmt.Errorf("%w (gave up after %d attempts)", err, attempt+1)
		}
		wait := c.backoff(attempt)
		if ra, ok := RetryAfter(err); ok && ra > wait {
			wait = ra
		}
		if deadline, ok := ctx.Deadline(); ok && c.now().Add(wait).After(deadline) {
			return nil, fmt.Errorf("%w (not retried: waiting %v would pass the context deadline)", err, wait)
		}
		c.log.Debug("whisul: retrying", "op", op, "attempt", attempt+1, "wait", wait, "reason", reason)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, contextWins(op, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// contextWins returns an error that errors.Is ctxErr, keeping last's text.
func contextWins(op string, ctxErr, last error) error {
	if errors.Is(last, ctxErr) {
		return last
	}
	return fmt.Errorf("whisul: %s: %w (last error: %v)", op, ctxErr, last)
}

// shouldRetry decides whether a failed attempt is worth repeating, with a
// reason for the log.
//
// A job poll is a GET and may be repeated freely: 429, 5xx and network
// errors are retried. A generate request is not idempotent, and a duplicate
// costs a paid generation, so it is repeated only after 429 (rejected,
// nothing created) or an error that proves the request never left: a
// failed dial. A 5xx or timeout may have created the job, so never those.
//
// The caller's context is checked by do before this is asked; a network
// error here may still wrap a per-attempt timeout (http.Client.Timeout).
func shouldRetry(op string, err error) (retry bool, reason string) {
	var ae *APIError
	if errors.As(err, &ae) {
		switch {
		case ae.StatusCode == http.StatusTooManyRequests:
			return true, "rate limited (429)"
		case ae.StatusCode >= 500 && op == opGenerate:
			return false, fmt.Sprintf("server error (%d) on generate: the job may exist, not repeating", ae.StatusCode)
		case ae.StatusCode >= 500:
			return true, fmt.Sprintf("server error (%d)", ae.StatusCode)
		}
		return false, fmt.Sprintf("status %d is final", ae.StatusCode)
	}
	if errors.Is(err, ErrNetwork) {
		if op != opGenerate {
			return true, "network error: " + err.Error()
		}
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Op == "dial" {
			return true, "could not connect, request not sent: " + err.Error()
		}
		return false, "network error on generate after the request may have been sent, not repeating"
	}
	return false, "not retryable: " + err.Error()
}

// backoff returns the wait before retry number attempt+1: exponential from
// MinBackoff, capped at MaxBackoff, with full jitter (uniform in [0, cap]).
func (c *Client) backoff(attempt int) time.Duration {
	ceiling := c.minBackoff
	for i := 0; i < attempt && ceiling < c.maxBackoff; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, c.maxBackoff)
	if ceiling <= 0 {
		return 0
	}
	return c.jitter(ceiling + 1)
}
