package storage

import (
	"context"
	"time"
)

var _ Slots = (*Bolt)(nil)

// Reserve implements Slots in memory (a mutex and a map of expiries), not
// in the file: only one process can open a Bolt file, so there is no other
// process to coordinate with. The reservations end with the process.
func (b *Bolt) Reserve(ctx context.Context, name string, ttl time.Duration) (time.Duration, error) {
	if done, err := checkReserve(ctx, name, ttl); done {
		return 0, err
	}
	return b.slots.reserve(time.Now(), name, ttl), nil
}
