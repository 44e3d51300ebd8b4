package storage

import (
	"context"
	"errors"
	"strings"
	"time"
)

// ErrCorrupt is returned, wrapped, by Get and Reschedule when the stored
// record cannot be decoded: it was written by a newer version of songbot or
// damaged by hand. Claim never returns it; it moves such records aside.
var ErrCorrupt = errors.New("storage: record cannot be decoded")

// opError names the operation that failed, as fmt.Errorf("storage: %s: %w")
// would, without repeating "storage: " when the cause is one of this
// package's errors: "storage: get: job not found".
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string {
	return "storage: " + e.op + ": " + strings.TrimPrefix(e.err.Error(), "storage: ")
}

func (e *opError) Unwrap() error { return e.err }

// wrapErr returns nil for a nil err, so calls can end with
// return wrapErr("claim", err).
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return &opError{op: op, err: err}
}

// checkClaim validates Claim's arguments for both stores; done means Claim
// returns at once, with err (nil for a limit of 0: nothing to claim).
func checkClaim(ctx context.Context, lease time.Duration, limit int) (done bool, err error) {
	switch {
	case ctx.Err() != nil:
		return true, wrapErr("claim", ctx.Err())
	case lease <= 0:
		return true, errors.New("storage: claim: lease must be positive")
	case limit <= 0:
		return true, nil
	}
	return false, nil
}

// checkExtend is Extend's argument check, the same for every store: done
// is true when there is nothing to do or the call is refused.
func checkExtend(ctx context.Context, token string, ids []string, lease time.Duration) (done bool, err error) {
	switch {
	case ctx.Err() != nil:
		return true, wrapErr("extend", ctx.Err())
	case len(ids) == 0:
		return true, nil
	case token == "" || lease <= 0:
		return true, errors.New("storage: extend: a token and a positive lease are required")
	}
	return false, nil
}
