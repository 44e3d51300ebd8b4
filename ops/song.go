package ops

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

// SongOptions configure RunSong.
type SongOptions struct {
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

// StoppedError is RunSong's error when ctx ended (Ctrl-C) or the timeout
// passed while the job was still running at Whisul.
type StoppedError struct {
	JobID string
	After time.Duration // the timeout that passed; 0 when ctx ended
	cause error
}

func (e *StoppedError) Error() string {
	if e.After > 0 {
		return fmt.Sprintf("gave up after %v; job %s may still finish at Whisul", e.After, e.JobID)
	}
	return fmt.Sprintf("stopped waiting; job %s may still finish at Whisul", e.JobID)
}

func (e *StoppedError) Unwrap() error { return e.cause }

// RunSong makes one song: it submits prompt, polls until the job ends and
// prints the result to opts.Out. Progress goes to opts.Err. A failed job is
// an error carrying Whisul's reason; when ctx ends first RunSong returns a
// *StoppedError wrapping ctx's error.
func RunSong(ctx context.Context, client *whisul.Client, prompt string, opts SongOptions) error {
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
			return &StoppedError{JobID: sub.JobID, cause: ctx.Err()}
		case <-deadline:
			return &StoppedError{JobID: sub.JobID, After: opts.Timeout, cause: context.DeadlineExceeded}
		case <-spin:
			p.draw()
			continue
		case <-next.C:
		}
		j, err := client.Job(ctx, sub.JobID, sub.PollURL)
		wait := opts.Interval
		switch {
		case ctx.Err() != nil:
			return &StoppedError{JobID: sub.JobID, cause: ctx.Err()}
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
func finish(opts SongOptions, jobID string, j whisul.Job, took time.Duration) error {
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

// progress shows the wait on the operator's terminal or log.
type progress struct {
	w        io.Writer
	terminal bool
	jobID    string
	start    time.Time

	state     string // last status, or a note about a failed poll
	printedAt time.Time
	frame     int
	width     int // of the line drawn on the terminal, to erase it
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (p *progress) submitted(every time.Duration) {
	p.state = "running"
	// A line of its own even on a terminal, so the job id stays on screen.
	fmt.Fprintf(p.w, "submitted job %s; polling every %v (Ctrl-C stops waiting)\n", p.jobID, every)
	p.printedAt = time.Now()
	p.draw()
}

// status records a poll's status and shows it when it changed (or, on a
// plain writer, when nothing was shown for a while).
func (p *progress) status(s string) {
	changed := s != p.state
	p.state = s
	switch {
	case p.terminal:
		p.draw()
	case changed || time.Since(p.printedAt) >= plainEvery:
		fmt.Fprintf(p.w, "[%s] %s\n", elapsed(time.Since(p.start)), s)
		p.printedAt = time.Now()
	}
}

// note shows a passing problem, such as a failed poll.
func (p *progress) note(s string) {
	if p.terminal {
		p.clear()
	}
	fmt.Fprintf(p.w, "[%s] %s\n", elapsed(time.Since(p.start)), s)
	p.printedAt = time.Now()
	p.draw()
}

// draw redraws the terminal line: spinner, status, elapsed time.
func (p *progress) draw() {
	if !p.terminal {
		return
	}
	line := fmt.Sprintf("%s %s %s", spinner[p.frame%len(spinner)], p.state, elapsed(time.Since(p.start)))
	p.frame++
	pad := max(p.width-len(line), 0)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
	p.width = len(line)
}

// clear erases the terminal line, before the result or an error.
func (p *progress) clear() {
	if !p.terminal || p.width == 0 {
		return
	}
	fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
	p.width = 0
}

// elapsed is m:ss, or h:mm:ss past an hour.
func elapsed(d time.Duration) string {
	s := int(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
