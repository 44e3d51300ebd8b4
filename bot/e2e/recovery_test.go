package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/storage/storagetest"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

// The recovery benchmarks measure, with the built binary at the defaults
// (POLL_INTERVAL 5s), how long a pending song waits for its next poll after
// a fault: a process killed with SIGKILL right after polling it, then
// started again on the embedded store or replaced by a second process on
// Redis, and Redis stopped for a few seconds under a running bot. Each
// reports ms-recovery (fault over → next poll of the job) and its ratio to
// the target: one poll interval for the embedded restart and the outage,
// the 10s lease plus one interval for the takeover.

const recoveryInterval = 5 * time.Second

// pendingSong sends one /song to the fleet and returns its Whisul job id
// once the job has been polled at least once.
func pendingSong(b *testing.B, f *fleet) string {
	b.Helper()
	f.whisul.SetDefault(whisultest.Script{After: time.Hour})
	ctx, cancel := context.WithTimeout(b.Context(), 30*time.Second)
	defer cancel()
	if _, err := f.discord.SendCommand(ctx, "song", discordtest.SongCommand{Prompt: "recovery", UserID: loadUser(1)}); err != nil {
		b.Fatalf("SendCommand = %v", err)
	}
	var id string
	if err := f.whisul.Wait(ctx, func() bool {
		jobs := f.whisul.Jobs()
		if len(jobs) == 1 && jobs[0].Polls > 0 {
			id = jobs[0].ID
		}
		return id != ""
	}); err != nil {
		b.Fatalf("the song was not submitted and polled within 30s: %v", err)
	}
	return id
}

// justPolled waits for the next poll of job to be answered, and returns
// its key (which process sent it).
func justPolled(b *testing.B, f *fleet, job string) string {
	b.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), 2*recoveryInterval)
	defer cancel()
	before := pollsOf(f.whisul, job)
	var key string
	if err := f.whisul.Wait(ctx, func() bool {
		polls := pollsOf(f.whisul, job)
		if len(polls) > len(before) && !polls[len(polls)-1].Done.IsZero() {
			key = strings.TrimPrefix(polls[len(polls)-1].Header.Get("Authorization"), "Bearer ")
		}
		return key != ""
	}); err != nil {
		b.Fatalf("job %s was not polled again within %v", job, 2*recoveryInterval)
	}
	return key
}

// nextPollAfter waits until job is polled after t and returns how long
// after t that was.
func nextPollAfter(b *testing.B, f *fleet, job string, t time.Time, bound time.Duration) time.Duration {
	b.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), bound)
	defer cancel()
	var at time.Time
	if err := f.whisul.Wait(ctx, func() bool {
		for _, r := range pollsOf(f.whisul, job) {
			if r.Time.After(t) {
				at = r.Time
				return true
			}
		}
		return false
	}); err != nil {
		b.Fatalf("job %s was not polled within %v of the fault", job, bound)
	}
	return at.Sub(t)
}

func pollsOf(w *whisultest.Server, job string) []whisultest.Request {
	var out []whisultest.Request
	for _, r := range w.Requests() {
		if r.Method == "GET" && r.Path == "/api/jobs/"+job {
			out = append(out, r)
		}
	}
	return out
}

func reportRecovery(b *testing.B, d, target time.Duration) {
	b.ReportMetric(ms(d), "ms-recovery")
	b.ReportMetric(d.Seconds()/target.Seconds(), "recovery/target")
}

// BenchmarkRecoveryEmbeddedRestart: SIGKILL right after a poll, started
// again at once on the same DATA_DIR.
func BenchmarkRecoveryEmbeddedRestart(b *testing.B) {
	for b.Loop() {
		f := newFleet(b, false, recoveryInterval, nil)
		p := f.newProc("bot")
		p.start()
		job := pendingSong(b, f)
		justPolled(b, f, job)
		p.kill()
		killed := time.Now()
		p.start()
		reportRecovery(b, nextPollAfter(b, f, job, killed, 30*time.Second), recoveryInterval)
	}
}

// BenchmarkRecoveryRedisTakeover: two processes on Redis; the one that
// just polled the song is killed with SIGKILL and not restarted.
func BenchmarkRecoveryRedisTakeover(b *testing.B) {
	for b.Loop() {
		f := newFleet(b, true, recoveryInterval, nil)
		procs := map[string]*proc{}
		for _, name := range []string{"bot-1", "bot-2"} {
			p := f.newProc(name)
			p.start()
			procs[p.key] = p
		}
		job := pendingSong(b, f)
		holder := procs[justPolled(b, f, job)]
		if holder == nil {
			b.Fatal("the poll came from neither process")
		}
		holder.kill()
		killed := time.Now()
		reportRecovery(b, nextPollAfter(b, f, job, killed, time.Minute), 10*time.Second+recoveryInterval)
	}
}

// BenchmarkRecoveryRedisOutage: Redis stopped for 5s under a running bot
// with a pending song, then started again; the bot is not restarted.
func BenchmarkRecoveryRedisOutage(b *testing.B) {
	for b.Loop() {
		f := newFleet(b, true, recoveryInterval, nil)
		srv := storagetest.StartRedisServer(b)
		f.redisURL = srv.URL
		p := f.newProc("bot")
		p.start()
		job := pendingSong(b, f)
		justPolled(b, f, job)
		srv.Stop()
		time.Sleep(5 * time.Second) // the outage itself, not a wait for an event
		srv.Start()
		back := time.Now()
		reportRecovery(b, nextPollAfter(b, f, job, back, time.Minute), recoveryInterval)
	}
}
