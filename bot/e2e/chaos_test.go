package e2e_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

// kill is one SIGKILL of the chaos test.
type kill struct {
	at  time.Time
	key string // the killed slot's Whisul API key
}

// TestChaos runs three bot processes (the built binary) on one Redis while
// 500 songs arrive over about two minutes, the fake Whisul answers 5% of
// requests 500 and 2% 429, and one process is killed with SIGKILL every 4s
// and started again. Every song that was acknowledged must be delivered
// exactly once (in one message: a reply edited again by the process that
// took over from one killed between its edit and removing the job counts
// once, as its user sees it) and generated at most once; no job may be
// polled by two processes at once. It prints one "chaos:" line of figures. MAX_RUNNING
// and MAX_QUEUED are off so the limits refuse none of the 500.
//
//	SONGBOT_CHAOS=1 go test ./bot/e2e -run Chaos -v -timeout 20m
func TestChaos(t *testing.T) {
	if os.Getenv("SONGBOT_CHAOS") != "1" {
		t.Skip("set SONGBOT_CHAOS=1 to run the chaos test (several minutes)")
	}
	if testing.Short() {
		t.Skip("the chaos test takes minutes")
	}
	const songs = 500
	const interval = time.Second
	f := newFleet(t, true, interval, map[string]string{"MAX_RUNNING": "0", "MAX_QUEUED": "0"})
	f.whisul.SetDefault(whisultest.Script{Polls: 5})
	f.whisul.SetFaults(whisultest.Faults{ServerError: 0.05, RateLimited: 0.02, Seed: 1})
	procs := []*proc{f.newProc("bot-1"), f.newProc("bot-2"), f.newProc("bot-3")}
	for _, p := range procs {
		p.start()
	}
	tr := newTracker(t, f)

	var (
		mu    sync.Mutex
		kills []kill
	)
	sending, stopKilling := context.WithCancel(t.Context())
	var killer sync.WaitGroup
	killer.Go(func() {
		tick := time.NewTicker(4 * time.Second)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-sending.Done():
				return
			case <-tick.C:
			}
			p := procs[i%len(procs)]
			mu.Lock()
			kills = append(kills, kill{at: time.Now(), key: p.key})
			mu.Unlock()
			p.restart()
		}
	})

	var sent []discordtest.Interaction
	every := time.NewTicker(240 * time.Millisecond)
	for i := range songs {
		<-every.C
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		in, err := f.discord.SendCommand(ctx, "song", discordtest.SongCommand{Prompt: fmt.Sprintf("chaos song %d", i), UserID: loadUser(i)})
		cancel()
		if err != nil {
			t.Logf("SendCommand(song %d) = %v (no session took it)", i, err)
			continue
		}
		sent = append(sent, in)
	}
	every.Stop()
	stopKilling()
	killer.Wait()

	// Only an acknowledged song was accepted; one whose process died
	// before its callback showed the user "did not respond", as on Discord.
	var acked []discordtest.Interaction
	for _, in := range sent {
		if cb, ok := f.discord.Callback(in.ID); ok && cb.Status == 204 {
			acked = append(acked, in)
			tr.add(in)
		}
	}
	delivered := tr.waitDelivered(len(acked), 3*time.Minute)
	_, missing := tr.lags(time.Now())
	// A reply edited again is the recovery of a process killed between its
	// edit and removing the job: allowed when a kill came within a second
	// of the first edit and the second came after the lease (10s) ran out.
	mu.Lock()
	killedAt := slices.Clone(kills)
	mu.Unlock()
	reedits := tr.checkDeliveredOnce(func(first, again time.Time) bool {
		if again.Sub(first) < 9*time.Second {
			return false
		}
		return slices.ContainsFunc(killedAt, func(k kill) bool {
			return !k.at.Before(first.Add(-100*time.Millisecond)) && k.at.Before(first.Add(time.Second))
		})
	})
	if missing > 0 {
		t.Errorf("%d of %d acknowledged songs were not delivered within 3 minutes of the last", missing, len(acked))
	}
	pc := checkPolls(t, f.whisul, interval, true)
	dup := checkGeneratedOnce(t, f.whisul)
	concurrent := concurrentPolls(t, f.whisul)
	recMax, recP50, held, worst := recoveries(f.whisul, kills)
	t.Logf("chaos: longest recovery: %s", worst)
	failed := len(acked) - len(f.whisul.Jobs()) + dup
	errorLines := 0
	for _, p := range procs {
		for _, rec := range p.logRecords() {
			if rec["level"] == "ERROR" {
				errorLines++
			}
		}
	}
	t.Logf("chaos: error_log_lines=%d", errorLines)
	t.Logf("chaos: songs=%d sent=%d acked=%d delivered=%d undelivered=%d reply_reedits=%d generated_twice=%d not_generated=%d kills=%d held_at_kill=%d recovery_max_ms=%.0f recovery_p50_ms=%.0f concurrent_polls=%d polls=%d polls_after_end=%d too_close=%d",
		songs, len(sent), len(acked), delivered, missing, reedits, dup, failed, len(kills), held, ms(recMax), ms(recP50), concurrent, pc.polls, pc.afterEnd, pc.tooClose)
}

// concurrentPolls fails t for every poll of a job sent by one process while
// another process's poll of the same job was in flight; processes are
// told apart by their API keys.
func concurrentPolls(t *testing.T, w *whisultest.Server) int {
	t.Helper()
	byJob := map[string][]whisultest.Request{}
	for _, r := range w.Requests() {
		if id, ok := strings.CutPrefix(r.Path, "/api/jobs/"); ok && r.Method == "GET" {
			byJob[id] = append(byJob[id], r)
		}
	}
	n := 0
	for id, polls := range byJob {
		for i := 1; i < len(polls); i++ {
			prev, p := polls[i-1], polls[i]
			if p.Header.Get("Authorization") != prev.Header.Get("Authorization") && (prev.Done.IsZero() || p.Time.Before(prev.Done)) {
				if n++; n <= 5 {
					t.Errorf("job %s polled by two processes at once: %v and %v", id, prev.Time.Format(time.StampMicro), p.Time.Format(time.StampMicro))
				}
			}
		}
	}
	return n
}

// recoveries measures, for each kill, how long each job the killed process
// polled last waited for its next poll by any process (the restarted one
// included): the longest and the median wait, and how many such waits
// there were. Jobs delivered before the kill are never polled again and
// do not count.
func recoveries(w *whisultest.Server, kills []kill) (longest, median time.Duration, held int, worst string) {
	byJob := map[string][]whisultest.Request{}
	for _, r := range w.Requests() {
		if id, ok := strings.CutPrefix(r.Path, "/api/jobs/"); ok && r.Method == "GET" {
			byJob[id] = append(byJob[id], r)
		}
	}
	var waits []time.Duration
	var worstWait time.Duration
	for _, k := range kills {
		for _, polls := range byJob {
			i, _ := slices.BinarySearchFunc(polls, k.at, func(r whisultest.Request, t time.Time) int { return r.Time.Compare(t) })
			if i == 0 || i == len(polls) || polls[i-1].Header.Get("Authorization") != "Bearer "+k.key {
				continue
			}
			wait := polls[i].Time.Sub(k.at)
			waits = append(waits, wait)
			if wait > worstWait {
				worstWait = wait
				worst = fmt.Sprintf("job %s: killed %s at %s; polls before %s (status %d), next %s (%s)",
					strings.TrimPrefix(polls[i].Path, "/api/jobs/"), k.key[len(k.key)-7:], k.at.Format("15:04:05.000"),
					polls[i-1].Time.Format("15:04:05.000"), polls[i-1].Status, polls[i].Time.Format("15:04:05.000"),
					strings.TrimPrefix(polls[i].Header.Get("Authorization"), "Bearer "+whisulKey))
			}
		}
	}
	if len(waits) == 0 {
		return 0, 0, 0, ""
	}
	return percentile(waits, 1), percentile(waits, 0.5), len(waits), worst
}
