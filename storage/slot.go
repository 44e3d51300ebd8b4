package storage

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Slots are named reservations that expire: a process takes one before it
// does something that must not happen more often than once per ttl across
// every process of the bot (the bot reserves "identify:<bucket>" before a
// gateway shard's IDENTIFY, which Discord allows once per 5 seconds per
// bucket for the whole bot).
type Slots interface {
	// Reserve takes the slot name for ttl when it is free and returns 0.
	// Otherwise it takes nothing and returns how long until the slot frees
	// (more than 0; at most ttl when every caller of name passes the same
	// ttl): the reservation in place is not extended.
	// A ttl of 0 or less is no reservation: Reserve returns 0 and takes
	// nothing.
	Reserve(ctx context.Context, name string, ttl time.Duration) (wait time.Duration, err error)
}

// checkReserve validates Reserve's arguments for every store; done means
// Reserve returns at once, with err (nil for a ttl that is off).
func checkReserve(ctx context.Context, name string, ttl time.Duration) (done bool, err error) {
	switch {
	case ctx.Err() != nil:
		return true, wrapErr("reserve", ctx.Err())
	case name == "":
		return true, errors.New("storage: reserve: empty slot name")
	case ttl <= 0:
		return true, nil // off
	}
	return false, nil
}

// localSlots are Slots for one process: a mutex and a map of expiries.
type localSlots struct {
	mu    sync.Mutex
	until map[string]time.Time // slot name -> when its reservation ends
}

// reserve implements Reserve at now, pruning the reservations that ended so
// the map holds only live ones.
func (l *localSlots) reserve(now time.Time, name string, ttl time.Duration) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until, ok := l.until[name]; ok && now.Before(until) {
		return until.Sub(now)
	}
	for n, until := range l.until {
		if !now.Before(until) {
			delete(l.until, n)
		}
	}
	if l.until == nil {
		l.until = map[string]time.Time{}
	}
	l.until[name] = now.Add(ttl)
	return 0
}
