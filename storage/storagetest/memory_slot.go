package storagetest

import (
	"context"
	"errors"
	"time"
)

// Reserve implements storage.Slots on the clock NewMemory was given, where
// Redis reads its server's clock and Bolt the wall clock.
func (m *Memory) Reserve(ctx context.Context, name string, ttl time.Duration) (time.Duration, error) {
	if err := m.lock(ctx, "reserve"); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	switch {
	case name == "":
		return 0, errors.New("storage: reserve: empty slot name")
	case ttl <= 0:
		return 0, nil // off
	}
	now := m.now()
	if until, ok := m.slots[name]; ok && now.Before(until) {
		return until.Sub(now), nil
	}
	for n, until := range m.slots {
		if !now.Before(until) {
			delete(m.slots, n)
		}
	}
	m.slots[name] = now.Add(ttl)
	return 0, nil
}
