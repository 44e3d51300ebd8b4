package bot

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bwmarrin/discordgo"
)

func restErr(status int) error {
	return &discordgo.RESTError{Response: &http.Response{StatusCode: status, Status: http.StatusText(status)}}
}

func TestShouldRetry(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantRetry bool
		minWait   time.Duration
		maxWait   time.Duration
	}{
		{"500", restErr(500), true, editBackoffBase / 2, editBackoffBase},
		{"503", restErr(503), true, editBackoffBase / 2, editBackoffBase},
		{"429 retry_after", rateLimited{retryAfter: 1500 * time.Millisecond}, true, 1500 * time.Millisecond, 1500 * time.Millisecond},
		{"429 too long", rateLimited{retryAfter: time.Hour}, false, 0, 0},
		{"network", errors.New("connection reset"), true, editBackoffBase / 2, editBackoffBase},
		{"400", restErr(400), false, 0, 0},
		{"cancelled", context.Canceled, false, 0, 0},
	}
	for _, tt := range tests {
		retry, wait, reason := shouldRetry(tt.err, 0)
		if retry != tt.wantRetry || wait < tt.minWait || wait > tt.maxWait {
			t.Errorf("shouldRetry(%s, 0) = %v, %v (%s); want %v within [%v, %v]", tt.name, retry, wait, reason, tt.wantRetry, tt.minWait, tt.maxWait)
		}
	}
}

func TestEditBackoffIsCappedAndJittered(t *testing.T) {
	for attempt := range 10 {
		want := min(editBackoffBase<<min(attempt, 5), editBackoffMax)
		for range 50 {
			if d := editBackoff(attempt); d < want/2 || d > want {
				t.Fatalf("editBackoff(%d) = %v; want within [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}

func TestRetryEditWaitsRetryAfterThenSucceeds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var at []time.Time
		fails := []error{rateLimited{retryAfter: 2 * time.Second}, restErr(500)}
		err := retryEdit(t.Context(), slog.New(slog.DiscardHandler), 5, nil, func() error {
			at = append(at, time.Now())
			if len(fails) > 0 {
				err := fails[0]
				fails = fails[1:]
				return err
			}
			return nil
		})
		if err != nil || len(at) != 3 {
			t.Fatalf("retryEdit() = %v after %d attempts; want nil after 3", err, len(at))
		}
		if gap := at[1].Sub(at[0]); gap != 2*time.Second {
			t.Errorf("retry after a 429 asking 2s came %v later", gap)
		}
		if gap := at[2].Sub(at[1]); gap < editBackoffBase/2 || gap > editBackoffBase*2 {
			t.Errorf("retry after a 500 came %v later; want about %v", gap, editBackoffBase)
		}
	})
}

func TestRetryEditStopsAtAttemptsAndOnFinalErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tests := []struct {
			name string
			err  error
			want int
		}{
			{"always 500", restErr(500), 5},
			{"401 dead token", restErr(401), 1},
		}
		for _, tt := range tests {
			n := 0
			err := retryEdit(t.Context(), slog.New(slog.DiscardHandler), 5, nil, func() error { n++; return tt.err })
			if err == nil || n != tt.want {
				t.Errorf("retryEdit(%s) = %v after %d attempts; want an error after %d", tt.name, err, n, tt.want)
			}
		}
	})
}

func TestRetryEditEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		n := 0
		err := retryEdit(ctx, slog.New(slog.DiscardHandler), 5, nil, func() error { n++; return rateLimited{retryAfter: 10 * time.Second} })
		if !errors.Is(err, context.DeadlineExceeded) || n != 1 {
			t.Errorf("retryEdit() = %v after %d attempts; want the deadline after 1", err, n)
		}
	})
}
