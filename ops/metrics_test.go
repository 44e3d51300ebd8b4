package ops_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/songbot-dev/songbot/ops"
	"github.com/songbot-dev/songbot/storage"
)

func TestMetricsCountEvents(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	m := ops.NewMetrics(reg)
	m.Interaction("accepted")
	m.Interaction("accepted")
	m.Interaction("refused")
	m.Refused("cooldown")
	m.Acknowledged(30 * time.Millisecond)
	m.JobFinished("completed", 90*time.Second)
	m.JobFinished("rejected", 0)
	m.DiscordEditFailed()
	m.Fallback("dm")
	m.WhisulResponse("generate", 202)
	m.WhisulResponse("job", 429)
	m.WhisulResponse("job", 0)
	m.WhisulResponse("job", 503)

	want := `
# HELP songbot_song_interactions_total /song interactions by outcome: accepted, invalid_prompt, refused, error or duplicate (delivered twice; no second song).
# TYPE songbot_song_interactions_total counter
songbot_song_interactions_total{outcome="accepted"} 2
songbot_song_interactions_total{outcome="duplicate"} 0
songbot_song_interactions_total{outcome="error"} 0
songbot_song_interactions_total{outcome="invalid_prompt"} 0
songbot_song_interactions_total{outcome="refused"} 1
# HELP songbot_whisul_requests_total HTTP requests to Whisul (each retry counts) by endpoint and status class (2xx, 4xx, 5xx, network).
# TYPE songbot_whisul_requests_total counter
songbot_whisul_requests_total{class="2xx",endpoint="generate"} 1
songbot_whisul_requests_total{class="2xx",endpoint="job"} 0
songbot_whisul_requests_total{class="4xx",endpoint="generate"} 0
songbot_whisul_requests_total{class="4xx",endpoint="job"} 1
songbot_whisul_requests_total{class="5xx",endpoint="generate"} 0
songbot_whisul_requests_total{class="5xx",endpoint="job"} 1
songbot_whisul_requests_total{class="network",endpoint="generate"} 0
songbot_whisul_requests_total{class="network",endpoint="job"} 1
# HELP songbot_whisul_rate_limited_total Whisul answers 429 Too Many Requests, by endpoint.
# TYPE songbot_whisul_rate_limited_total counter
songbot_whisul_rate_limited_total{endpoint="generate"} 0
songbot_whisul_rate_limited_total{endpoint="job"} 1
# HELP songbot_discord_edit_failures_total Failed edits of a /song reply on Discord (each attempt counts).
# TYPE songbot_discord_edit_failures_total counter
songbot_discord_edit_failures_total 1
`
	names := []string{"songbot_song_interactions_total", "songbot_whisul_requests_total", "songbot_whisul_rate_limited_total", "songbot_discord_edit_failures_total"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}

	fams := gather(t, reg)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"songbot_song_refusals_total", map[string]string{"reason": "cooldown"}, 1},
		{"songbot_song_refusals_total", map[string]string{"reason": "queue_full"}, 0},
		{"songbot_jobs_finished_total", map[string]string{"outcome": "completed"}, 1},
		{"songbot_jobs_finished_total", map[string]string{"outcome": "rejected"}, 1},
		{"songbot_jobs_finished_total", map[string]string{"outcome": "timed_out"}, 0},
		{"songbot_fallbacks_total", map[string]string{"where": "dm"}, 1},
		{"songbot_fallbacks_total", map[string]string{"where": "lost"}, 0},
		{"songbot_ack_latency_seconds", nil, 1},
		{"songbot_job_duration_seconds", map[string]string{"outcome": "completed"}, 1},
	} {
		if got := sampleValue(fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v; want %v", c.name, c.labels, got, c.want)
		}
	}
	// A rejected job never ran at Whisul: no duration to observe.
	if got := sampleValue(fams, "songbot_job_duration_seconds", map[string]string{"outcome": "rejected"}); got != -1 {
		t.Errorf("songbot_job_duration_seconds{outcome=rejected} exists with %v observations; want none", got)
	}

	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

func TestStoreGauges(t *testing.T) {
	t.Parallel()
	store, err := storage.OpenBolt(filepath.Join(t.TempDir(), "songbot.db"), storage.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := time.Now()
	for _, id := range []string{"1", "2"} {
		job := storage.Job{ID: id}
		job.UserID, job.NextPollAt = "u"+id, now
		if _, err := store.Admit(t.Context(), now, job, storage.Limits{}); err != nil {
			t.Fatal(err)
		}
	}
	gate := gateStore{JobCounter: store, running: 3, queued: 4}
	reg := prometheus.NewPedanticRegistry()
	ops.NewMetrics(reg).CollectStore(gate)
	fams := gather(t, reg)

	for name, want := range map[string]float64{"songbot_jobs_pending": 2, "songbot_jobs_running": 3, "songbot_queue_length": 4, "songbot_store_errors_total": 0} {
		if got := sampleValue(fams, name, nil); got != want {
			t.Errorf("%s = %v; want %v", name, got, want)
		}
	}
}

func TestPollGauges(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	ops.NewMetrics(reg).CollectPolls(func() (int, int) { return 7, 64 })
	fams := gather(t, reg)
	for name, want := range map[string]float64{"songbot_polls_in_flight": 7, "songbot_polls_in_flight_limit": 64} {
		if got := sampleValue(fams, name, nil); got != want {
			t.Errorf("%s = %v; want %v", name, got, want)
		}
	}
}

func TestStoreGaugesWithoutGate(t *testing.T) {
	t.Parallel()
	store, err := storage.OpenBolt(filepath.Join(t.TempDir(), "songbot.db"), storage.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	reg := prometheus.NewPedanticRegistry()
	ops.NewMetrics(reg).CollectStore(plainStore{store})
	fams := gather(t, reg)
	if got := sampleValue(fams, "songbot_jobs_pending", nil); got != 0 {
		t.Errorf("songbot_jobs_pending = %v; want 0", got)
	}
	for _, name := range []string{"songbot_jobs_running", "songbot_queue_length"} {
		if got := sampleValue(fams, name, nil); got != -1 {
			t.Errorf("%s = %v for a store without a queue; want no series", name, got)
		}
	}
}

func TestClosedStoreDropsGaugesAndCountsErrors(t *testing.T) {
	t.Parallel()
	store, err := storage.OpenBolt(filepath.Join(t.TempDir(), "songbot.db"), storage.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	reg := prometheus.NewPedanticRegistry()
	ops.NewMetrics(reg).CollectStore(plainStore{store})
	fams := gather(t, reg)
	if got := sampleValue(fams, "songbot_jobs_pending", nil); got != -1 {
		t.Errorf("songbot_jobs_pending = %v with the store closed; want no series", got)
	}
	if got := sampleValue(fams, "songbot_store_errors_total", nil); got != 1 {
		t.Errorf("songbot_store_errors_total = %v; want 1", got)
	}
}

func TestHungStoreDoesNotHangTheScrape(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewPedanticRegistry()
		ops.NewMetrics(reg).CollectStore(hungStore{})
		start := time.Now()
		fams := gather(t, reg)
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("Gather took %v with a hung store; want about 2s per read", took)
		}
		if got := sampleValue(fams, "songbot_store_errors_total", nil); got != 2 {
			t.Errorf("songbot_store_errors_total = %v; want 2 (Count and Counts)", got)
		}
	})
}

// TestHelpNamesEveryLabelValue checks that each Help text that lists a
// label's values (outcome, reason, where, class) names every value the
// metric starts with, the bot's own lists included.
func TestHelpNamesEveryLabelValue(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	ops.NewMetrics(reg)
	listed := map[string]bool{"outcome": true, "reason": true, "where": true, "class": true}
	checked := 0
	for _, f := range gather(t, reg) {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if !listed[l.GetName()] {
					continue
				}
				checked++
				if !regexp.MustCompile(`\b` + regexp.QuoteMeta(l.GetValue()) + `\b`).MatchString(f.GetHelp()) {
					t.Errorf("%s's help %q does not name %s %q", f.GetName(), f.GetHelp(), l.GetName(), l.GetValue())
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no labelled series to check")
	}
}

// gather scrapes g once.
func gather(t *testing.T, g prometheus.Gatherer) []*dto.MetricFamily {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatalf("Gather() = %v", err)
	}
	return families
}

// sampleValue returns a counter's or gauge's value, a histogram's sample
// count, or -1 when no series of name has exactly labels.
func sampleValue(families []*dto.MetricFamily, name string, labels map[string]string) float64 {
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue metrics
				}
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return -1
}

// gateStore counts a real store's jobs and reports fixed slot counts.
type gateStore struct {
	ops.JobCounter
	running, queued int
}

func (g gateStore) Counts(context.Context) (int, int, error) { return g.running, g.queued, nil }

// plainStore hides any slot counts the wrapped store keeps.
type plainStore struct{ ops.JobCounter }

// hungStore answers nothing until its context ends.
type hungStore struct{}

func (hungStore) Count(ctx context.Context) (int, error) {
	<-ctx.Done()
	return 0, ctx.Err()
}

func (hungStore) Counts(ctx context.Context) (int, int, error) {
	<-ctx.Done()
	return 0, 0, ctx.Err()
}
