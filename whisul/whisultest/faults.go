package whisultest

import (
	"math/rand/v2"
	"net/http"
)

// Faults are random failures the server answers instead of serving an API
// request, as a struggling Whisul would: ServerError of the requests (a
// fraction, 0 to 1) get 500 and RateLimited get 429 with Retry-After: 1. A
// faulted POST /generate creates no job and a faulted poll changes nothing,
// so retrying is always safe. Seed makes the sequence of draws repeatable
// (the order of concurrent requests still varies).
type Faults struct {
	ServerError float64
	RateLimited float64
	Seed        uint64
}

// faults draws from Faults' seeded source; Server.mu guards it.
type faults struct {
	Faults
	rng *rand.Rand
}

// SetFaults turns random faults on for every later /api request; the zero
// Faults turns them off. Media under /cdn/ never fail.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	if f.ServerError > 0 || f.RateLimited > 0 {
		s.faults = &faults{Faults: f, rng: rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))}
	}
}

// draw returns the status of a fault for the next request, or 0 to serve
// it. f may be nil; Server.mu is held.
func (f *faults) draw() int {
	if f == nil {
		return 0
	}
	switch r := f.rng.Float64(); {
	case r < f.ServerError:
		return http.StatusInternalServerError
	case r < f.ServerError+f.RateLimited:
		return http.StatusTooManyRequests
	}
	return 0
}

// AddKey makes the server accept key as well as the key it was created
// with, as a Whisul account with several API keys does. Requests record
// their Authorization header, so giving each client its own key tells
// their requests apart.
func (s *Server) AddKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key] = true
}
