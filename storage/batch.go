package storage

import "context"

// BatchRescheduler is implemented by stores that can reschedule many jobs in
// a constant number of round trips; Redis and Bolt do. Callers use
// RescheduleAll rather than asserting it themselves.
type BatchRescheduler interface {
	// RescheduleMany does what Reschedule does for each job and returns one
	// error per job, in order, nil where the job was written.
	RescheduleMany(ctx context.Context, jobs []Job) []error
}

// RescheduleAll reschedules jobs as Store.Reschedule would, one error per job
// (nil where the job was written, wrapping ErrNotFound where it was finished
// meanwhile). It exists because the poll loop reschedules a whole claimed
// batch at once: one round trip instead of one per job when s is a
// BatchRescheduler, and a plain loop otherwise.
func RescheduleAll(ctx context.Context, s Store, jobs []Job) []error {
	if b, ok := s.(BatchRescheduler); ok {
		return b.RescheduleMany(ctx, jobs)
	}
	errs := make([]error, len(jobs))
	for i, job := range jobs {
		errs[i] = s.Reschedule(ctx, job)
	}
	return errs
}
