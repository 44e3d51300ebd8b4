package bot

import (
	"context"
	"time"
)

// fakeSlots is GatewaySlots as function fields; without ReserveFn every
// slot is free.
type fakeSlots struct {
	ReserveFn func(name string, ttl time.Duration) (time.Duration, error)
}

func (f fakeSlots) Reserve(_ context.Context, name string, ttl time.Duration) (time.Duration, error) {
	if f.ReserveFn == nil {
		return 0, nil
	}
	return f.ReserveFn(name, ttl)
}
