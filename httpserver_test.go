package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/internal/testkit"
	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

func TestReadiness(t *testing.T) {
	t.Parallel()
	open, err := storage.OpenBolt(filepath.Join(t.TempDir(), storage.DefaultBoltFile), storage.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { open.Close() })
	closed, err := storage.OpenBolt(filepath.Join(t.TempDir(), storage.DefaultBoltFile), storage.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()

	tests := []struct {
		name  string
		bot   bool
		store storage.Store
		want  string // in the error; "" for ready
	}{
		{"ready", true, open, ""},
		{"gateway not connected", false, open, "not connected to the Discord gateway"},
		{"store down", true, closed, "the store does not answer"},
	}
	for _, tt := range tests {
		err := readiness(func() bool { return tt.bot }, tt.store)(t.Context())
		if (tt.want == "" && err != nil) || (tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want))) {
			t.Errorf("%s: readiness() = %v; want %q", tt.name, err, tt.want)
		}
	}
}

// listening finds the operator server's address in the bot's log.
var listening = regexp.MustCompile(`operator HTTP server listening.* addr=(127\.0\.0\.1:\d+)`)

func TestHTTPServerReportsReadinessAndMetrics(t *testing.T) {
	t.Parallel()
	f := newFakes(t, map[string]string{"DATA_DIR": t.TempDir(), "HTTP_ADDR": "127.0.0.1:0", "BLOCKED_WORDS": "forbidden"})
	f.whisul.SetDefault(whisultest.Script{Polls: 1}) // one poll says running, the next completed
	p := f.start(t)
	// The address is logged before the bot connects; the log may still be
	// on its way through the pipe.
	var m []string
	eventually(t, "the HTTP server's address in the log", func() bool {
		m = listening.FindStringSubmatch(p.out.String())
		return m != nil
	})
	base := "http://" + m[1]

	if code, body := testkit.HTTPGet(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("GET /healthz = %d %q; want 200 ok", code, body)
	}
	if stdout, stderr, code := runCLI(t, map[string]string{"HTTP_ADDR": m[1]}, "healthcheck"); code != 0 {
		t.Errorf("songbot healthcheck against the running bot = %d\n%s%s; want 0", code, stdout, stderr)
	}
	// Registration was sent; the bot marks itself ready when the answer
	// arrives, which no event of the fakes reports.
	eventually(t, "/readyz to answer 200", func() bool {
		code, _ := testkit.HTTPGet(t, base+"/readyz")
		return code == 200
	})

	in, err := f.discord.SendCommand(t.Context(), "song", discordtest.SongCommand{Prompt: "lo-fi beat for a rainy night"})
	if err != nil {
		t.Fatalf("SendCommand() = %v", err)
	}
	f.wait(t, "the song", f.delivered(in))
	refused, err := f.discord.SendCommand(t.Context(), "song", discordtest.SongCommand{Prompt: "a forbidden tune"})
	if err != nil {
		t.Fatalf("SendCommand() = %v", err)
	}
	f.wait(t, "the refusal", func() bool { _, ok := f.discord.Callback(refused.ID); return ok })
	want := []string{
		`songbot_song_interactions_total{outcome="accepted"} 1`,
		`songbot_song_interactions_total{outcome="refused"} 1`,
		`songbot_song_refusals_total{reason="blocked_word"} 1`,
		`songbot_song_refusals_total{reason="cooldown"} 0`,
		`songbot_ack_latency_seconds_count 1`,
		`songbot_whisul_requests_total{class="2xx",endpoint="generate"} 1`,
		`songbot_whisul_requests_total{class="2xx",endpoint="job"} 2`,
		`songbot_jobs_finished_total{outcome="completed"} 1`,
		`songbot_job_duration_seconds_count{outcome="completed"} 1`,
		`songbot_jobs_pending 0`,
		`songbot_jobs_running 0`,
		`songbot_queue_length 0`,
		`songbot_store_errors_total 0`,
		`songbot_build_info{version="dev"} 1`,
		`go_goroutines `,
		`go_gc_heap_live_bytes `,
	}
	// The job leaves the store and is counted just after the edit that
	// delivered it, which no event of the fakes reports.
	var metrics string
	missing := want
	waitFor(t, 10*time.Second, func() bool {
		_, metrics = testkit.HTTPGet(t, base+"/metrics")
		missing = missing[:0:0]
		for _, w := range want {
			if !strings.Contains(metrics, w) {
				missing = append(missing, w)
			}
		}
		return len(missing) == 0
	})
	for _, w := range missing {
		t.Errorf("/metrics lacks %q", w)
	}
	// Labels are words: no ids, prompt or token reach the metrics.
	assertNoSecrets(t, []string{in.ID, in.Token, in.UserID, refused.ID, "rainy night", "forbidden", testWhisulKey, f.discord.Token, f.whisul.Jobs()[0].ID}, metrics)

	p.cancel()
	if code := p.exitCode(t, 10*time.Second); code != 0 {
		t.Errorf("exit status after the context ended = %d; want 0", code)
	}
	assertNoSecrets(t, []string{testWhisulKey, f.discord.Token, in.Token}, p.out.String())
}

// eventually retries cond every 10ms for up to 10s: for states that only
// HTTP polling can observe.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !waitFor(t, 10*time.Second, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// waitFor re-checks cond every 10ms until it holds or d passes, and
// reports whether it held: for states of a child process that no event
// reports.
func waitFor(t *testing.T, d time.Duration, cond func() bool) bool {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}

func TestStoreProbeCachesAndTimesOut(t *testing.T) {
	t.Parallel()
	now := time.Unix(1e9, 0)
	pings := 0
	hang := false
	p := &storeProbe{now: func() time.Time { return now }, ping: func(ctx context.Context) error {
		pings++
		if hang {
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}}
	steps := []struct {
		name      string
		advance   time.Duration
		hang      bool
		wantErr   bool
		wantPings int
	}{
		{"first probe pings", 0, false, false, 1},
		{"within a second: cached", 500 * time.Millisecond, true, false, 1},
		{"after a second: pings, times out", 600 * time.Millisecond, true, true, 2},
		{"the failure is cached too", 100 * time.Millisecond, false, true, 2},
		{"store back", time.Second, false, false, 3},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		hang = st.hang
		err := p.check(t.Context())
		if (err != nil) != st.wantErr || pings != st.wantPings {
			t.Errorf("%s: check() = %v after %d pings; want error %v after %d", st.name, err, pings, st.wantErr, st.wantPings)
		}
	}
}
