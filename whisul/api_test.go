package whisul_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/whisul"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

// The exported API other packages code against; this fails to compile if
// it drifts.
var (
	_ string                                                                    = whisul.DefaultBaseURL
	_ func(whisul.Options) (*whisul.Client, error)                              = whisul.New
	_ func(*whisul.Client, context.Context, string) (whisul.Submission, error)  = (*whisul.Client).Generate
	_ func(*whisul.Client, context.Context, string, string) (whisul.Job, error) = (*whisul.Client).Job
	_ func(error) (time.Duration, bool)                                         = whisul.RetryAfter
	_ func(*whisul.APIError) string                                             = (*whisul.APIError).Error
	_ func(*whisul.APIError, error) bool                                        = (*whisul.APIError).Is
	_ slog.LogValuer                                                            = (*whisul.Client)(nil)
	_                                                                           = whisul.Options{
		BaseURL: "", APIKey: "", HTTPClient: (*http.Client)(nil), Logger: (*slog.Logger)(nil), UserAgent: "",
		MaxRetries: 0, MinBackoff: time.Duration(0), MaxBackoff: time.Duration(0), OnResponse: func(string, int) {},
	}
	_ = whisul.Submission{JobID: "", PollURL: "", Message: ""}
	_ = whisul.Job{Status: whisul.StatusRunning, RawStatus: "", Prompt: "", Result: (*whisul.Result)(nil), Error: "",
		StartedAt: time.Time{}, FinishedAt: time.Time{}}
	_ = whisul.Result{Title: "", BPM: float64(0), Duration: time.Duration(0), DurationText: "", SongURL: "", ImageURL: "", Tags: []string(nil)}
	_ = whisul.APIError{Op: "", StatusCode: 0, Code: "", Message: "", RetryAfter: time.Duration(0)}
	_ = []whisul.Status{whisul.StatusRunning, whisul.StatusCompleted, whisul.StatusFailed}
	_ = []error{whisul.ErrInvalidPrompt, whisul.ErrUnauthorized, whisul.ErrNotFound, whisul.ErrRateLimited,
		whisul.ErrServer, whisul.ErrNetwork, whisul.ErrMalformed}
	_ = whisul.DefaultUserAgent

	_ func(testing.TB, string) *whisultest.Server                  = whisultest.NewServer
	_ func(*whisultest.Server, whisultest.Script)                  = (*whisultest.Server).SetDefault
	_ func(*whisultest.Server, string, whisultest.Script)          = (*whisultest.Server).OnPrompt
	_ func(*whisultest.Server, int, int, string)                   = (*whisultest.Server).FailGenerate
	_ func(*whisultest.Server) []whisultest.Request                = (*whisultest.Server).Requests
	_ func(*whisultest.Server, string, string) int                 = (*whisultest.Server).Count
	_ func(*whisultest.Server) []whisultest.JobInfo                = (*whisultest.Server).Jobs
	_ func(*whisultest.Server) int                                 = (*whisultest.Server).Running
	_ func(*whisultest.Server) int                                 = (*whisultest.Server).PeakRunning
	_ func(*whisultest.Server, context.Context, func() bool) error = (*whisultest.Server).Wait
	_ func(*whisultest.Server, string, []byte)                     = (*whisultest.Server).SetAudio
	_                                                              = whisultest.Server{URL: ""}
	_                                                              = whisultest.Script{Polls: 0, After: time.Duration(0), Fail: false, ErrorText: "", ServerErrors: 0, RateLimited: 0,
		RetryAfter: "", NotFound: false, Delay: time.Duration(0), Result: (*whisultest.WireResult)(nil)}
	_ = whisultest.WireResult{Title: "", BPM: any(nil), Duration: "", SongURL: "", ImageURL: "", Tags: ""}
	_ = whisultest.Request{Method: "", Path: "", Header: http.Header(nil), Body: []byte(nil), Time: time.Time{}}
	_ = whisultest.JobInfo{ID: "", Prompt: "", Polls: 0, Status: "", CreatedAt: time.Time{}}
)

// TestEndToEnd submits and polls a song the way the bot will, against the fake.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	s := whisultest.NewServer(t, "key")
	s.SetDefault(whisultest.Script{Polls: 2})
	c, err := whisul.New(whisul.Options{BaseURL: s.URL, APIKey: "key"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := c.Generate(t.Context(), "a trap song")
	if err != nil {
		t.Fatalf("Generate(%q) = %v", "a trap song", err)
	}
	for i := range 3 {
		j, err := c.Job(t.Context(), sub.JobID, sub.PollURL)
		want := whisul.StatusRunning
		if i == 2 {
			want = whisul.StatusCompleted
		}
		if err != nil || j.Status != want {
			t.Fatalf("Job(%q) poll %d = %v, %v; want %v", sub.JobID, i, j.Status, err, want)
		}
		if i == 2 && (j.Result == nil || j.Result.SongURL == "") {
			t.Fatalf("Job(%q) = %+v; want a result with a song", sub.JobID, j)
		}
	}
}
