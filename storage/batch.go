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
// meanwhile): one round trip instead of one per job when s is a
// BatchRescheduler, and a plain loop otherwise. It is for callers that
// move many jobs at once; the bot's workers reschedule each job right after
// its own poll, which costs a Whisul request anyway.
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
