// Package whisul is a client for the Whisul song generation API, which
// turns a text prompt into a song. Generation is asynchronous: Generate
// submits a prompt, then Job is polled (every 5-10 seconds) until the job
// has completed or failed.
//
//	c, err := whisul.New(whisul.Options{APIKey: key, Logger: log})
//	if err != nil { ... }
//	sub, err := c.Generate(ctx, "a trap song with dark 808s")
//	if errors.Is(err, whisul.ErrInvalidPrompt) { ... } // tell the user
//	...
//	j, err := c.Job(ctx, sub.JobID, sub.PollURL)
//	switch {
//	case errors.Is(err, whisul.ErrNotFound): // expired: stop polling
//	case err != nil: // temporary; poll again later (see whisul.RetryAfter)
//	case j.Status == whisul.StatusCompleted: // j.Result.SongURL, ...
//	case j.Status == whisul.StatusFailed: // j.Error may explain
//	}
//
// Each call retries by itself within its context: a poll after 429, 5xx
// and network errors; a submission only after 429 or a failed connection,
// because a repeated submission costs a second paid generation. Give each
// call a context deadline; no retry wait runs past it.
//
// Errors are matched with errors.Is against the Err* sentinels, or
// inspected with errors.As as an *APIError. They never contain the API key,
// and neither does printing or logging a Client.
//
// Package [songbot/whisul/whisultest] provides a fake Whisul server for tests.
package whisul
