package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/songbot-dev/songbot/whisul"
)

// songOptions configure makeSong.
type songOptions struct {
	JSON     bool          // print the final job as JSON instead of text
	Interval time.Duration // between two polls; default 5s, as Whisul asks
	Timeout  time.Duration // give up waiting after this long; 0 = never
	Out      io.Writer     // the result
	Err      io.Writer     // progress
	// Terminal says Err is a terminal: progress is one line redrawn in
	// place with a spinner, instead of a line per change.
	Terminal bool
}

// plainEvery is how often plain progress repeats an unchanged status, so a
// log shows the wait is alive.
const plainEvery = 30 * time.Second

// spinEvery is the spinner's frame time on a terminal.
const spinEvery = 120 * time.Millisecond

// stoppedError is makeSong's error when ctx ended (Ctrl-C) or the timeout
// passed while the job was still running at Whisul.
type stoppedError struct {
	JobID string
	After time.Duration // the timeout that passed; 0 when ctx ended
	cause error
}

func (e *stoppedError) Error() string {
	if e.After > 0 {
		return fmt.Sprintf("gave up after %v; job %s may still finish at Whisul", e.After, e.JobID)
	}
	return fmt.Sprintf("stopped waiting; job %s may still finish at Whisul", e.JobID)
}

func (e *stoppedError) Unwrap() error { return e.cause }

// makeSong makes one song: it submits prompt, polls until the job ends and
// prints the result to opts.Out. Progress goes to opts.Err. A failed job is
// an error carrying Whisul's reason; when ctx ends first makeSong returns a
// *stoppedError wrapping ctx's error.
func makeSong(ctx context.Context, client *whisul.Client, prompt string, opts songOptions) error {
	if opts.Interval <= 0 {
		opts.Interval = 5 * time.Second
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Err == nil {
		opts.Err = io.Discard
	}
	sub, err := client.Generate(ctx, prompt)
	if err != nil {
		return submitProblem(ctx, err)
	}
	start := time.Now()
	p := &progress{w: opts.Err, terminal: opts.Terminal, jobID: sub.JobID, start: start}
	p.submitted(opts.Interval)
	defer p.clear()

	var spin <-chan time.Time
	if opts.Terminal {
		t := time.NewTicker(spinEvery)
		defer t.Stop()
		spin = t.C
	}
	var deadline <-chan time.Time
	if opts.Timeout > 0 {
		t := time.NewTimer(opts.Timeout)
		defer t.Stop()
		deadline = t.C
	}
	next := time.NewTimer(opts.Interval)
	defer next.Stop()
	for {
		select {
		case <-ctx.Done():
			return &stoppedError{JobID: sub.JobID, cause: ctx.Err()}
		case <-deadline:
			return &stoppedError{JobID: sub.JobID, After: opts.Timeout, cause: context.DeadlineExceeded}
		case <-spin:
			p.draw()
			continue
		case <-next.C:
		}
		j, err := client.Job(ctx, sub.JobID, sub.PollURL)
		wait := opts.Interval
		switch {
		case ctx.Err() != nil:
			return &stoppedError{JobID: sub.JobID, cause: ctx.Err()}
		case errors.Is(err, whisul.ErrNotFound):
			return fmt.Errorf("whisul no longer knows job %s (404): it expired or was removed", sub.JobID)
		case errors.Is(err, whisul.ErrUnauthorized):
			return fmt.Errorf("whisul stopped accepting the key while polling job %s: check WHISUL_API_KEY: %w", sub.JobID, err)
		case err != nil:
			// 5xx, 429, network, an odd body: the job may be fine.
			if after, ok := whisul.RetryAfter(err); ok {
				wait = max(wait, after)
			}
			p.note(fmt.Sprintf("poll failed, retrying in %v: %v", wait, err))
		case j.Status == whisul.StatusCompleted || j.Status == whisul.StatusFailed:
			p.clear()
			return finish(opts, sub.JobID, j, time.Since(start))
		default:
			p.status(j.RawStatus)
		}
		next.Reset(wait)
	}
}

// submitProblem words a failed submission for the operator.
func submitProblem(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("stopped before Whisul accepted the prompt: %w", ctx.Err())
	case errors.Is(err, whisul.ErrUnauthorized):
		return fmt.Errorf("whisul rejected the key: set WHISUL_API_KEY to a valid key: %w", err)
	case errors.Is(err, whisul.ErrInvalidPrompt):
		return fmt.Errorf("whisul refused the prompt: %w", err)
	}
	return fmt.Errorf("submit the prompt to Whisul: %w", err)
}

// finish prints an ended job; a failed one is also the returned error.
func finish(opts songOptions, jobID string, j whisul.Job, took time.Duration) error {
	if opts.JSON {
		enc := json.NewEncoder(opts.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(songJSON(jobID, j)); err != nil {
			return fmt.Errorf("write the result: %w", err)
		}
	}
	if j.Status == whisul.StatusFailed {
		reason := j.Error
		if reason == "" {
			reason = "Whisul gave no reason"
		}
		return fmt.Errorf("the song failed at Whisul (job %s): %s", jobID, reason)
	}
	if opts.JSON {
		return nil
	}
	r := j.Result
	bpm := "unknown"
	if r.BPM > 0 {
		bpm = fmt.Sprint(r.BPM)
	}
	_, err := fmt.Fprintf(opts.Out, "Title:     %s\nDuration:  %s\nBPM:       %s\nTags:      %s\nSong URL:  %s\nCover URL: %s\nJob:       %s (took %v)\n",
		orNone(r.Title), orNone(r.DurationText), bpm, orNone(strings.Join(r.Tags, ", ")),
		r.SongURL, orNone(r.ImageURL), jobID, took.Round(time.Second))
	return err
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// jobJSON is the --json output. Its field names are a promise to scripts:
// add fields, never rename them.
type jobJSON struct {
	JobID      string      `json:"job_id"`
	Status     string      `json:"status"`
	Prompt     string      `json:"prompt"`
	Result     *resultJSON `json:"result"`
	Error      *string     `json:"error"`
	StartedAt  *time.Time  `json:"started_at"`
	FinishedAt *time.Time  `json:"finished_at"`
}

type resultJSON struct {
	Title           string   `json:"title"`
	Duration        string   `json:"duration"`
	DurationSeconds float64  `json:"duration_seconds"`
	BPM             float64  `json:"bpm"`
	Tags            []string `json:"tags"`
	SongURL         string   `json:"song_url"`
	ImageURL        string   `json:"image_url"`
}

func songJSON(jobID string, j whisul.Job) jobJSON {
	out := jobJSON{JobID: jobID, Status: j.RawStatus, Prompt: j.Prompt, StartedAt: timeOrNil(j.StartedAt), FinishedAt: timeOrNil(j.FinishedAt)}
	if r := j.Result; r != nil {
		tags := r.Tags
		if tags == nil {
			tags = []string{}
		}
		out.Result = &resultJSON{
			Title: r.Title, Duration: r.DurationText, DurationSeconds: r.Duration.Seconds(), BPM: r.BPM,
			Tags: tags, SongURL: r.SongURL, ImageURL: r.ImageURL,
		}
	}
	if j.Status == whisul.StatusFailed {
		out.Error = &j.Error
	}
	return out
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
