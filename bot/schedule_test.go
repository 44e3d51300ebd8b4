package bot

import (
	"testing"
	"time"

	"github.com/songbot-dev/songbot/storage"
)

func TestNextDue(t *testing.T) {
	t.Parallel()
	b := newTestBot(t, Options{PollInterval: 5 * time.Second}, &fakeDiscord{}, fakeStore{}, fakeWhisul{})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		due, polled time.Duration // after t0
		want        time.Duration
	}{
		{"on time", 0, 10 * time.Millisecond, 5 * time.Second},
		{"late: one interval after the due time", 0, 500 * time.Millisecond, 5 * time.Second},
		{"very late: 0.85 intervals after the poll", 0, 2 * time.Second, 2*time.Second + 4250*time.Millisecond},
	}
	for _, tt := range tests {
		if got := b.nextDue(t0.Add(tt.due), t0.Add(tt.polled)); !got.Equal(t0.Add(tt.want)) {
			t.Errorf("%s: nextDue(t0+%v, t0+%v) = t0+%v; want t0+%v", tt.name, tt.due, tt.polled, got.Sub(t0), tt.want)
		}
	}
}

func TestDueBase(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	tests := []struct {
		scheduled time.Time
		want      time.Time
	}{
		{time.Time{}, now}, // the store did not say
		{now.Add(-time.Second), now.Add(-time.Second)},
		{now.Add(time.Hour), now}, // a clock ahead of ours
	}
	for _, tt := range tests {
		job := storage.Job{State: storage.State{ScheduledAt: tt.scheduled}}
		if got := dueBase(job, now); !got.Equal(tt.want) {
			t.Errorf("dueBase(ScheduledAt %v) = %v; want %v", tt.scheduled, got, tt.want)
		}
	}
}
