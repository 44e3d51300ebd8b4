package storage

import (
	"errors"
	"strings"
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
