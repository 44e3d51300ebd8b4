package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

// The load benchmarks drive the built binary (see process_test.go) against
// the fakes on loopback, one case of issue 12's table each, at the
// production defaults: the environment holds only the store, POLL_INTERVAL
// and the fakes' URLs, plus whatever the benchmark's name says it
// overrides. Each reports its figures with b.ReportMetric, each beside its
// ratio to the target ("/target" ≤ 1 meets it; "/ideal" ≥ 0.97 does), and
// bounds its own duration. Run them with
//
//	go test ./bot/e2e -run '^$' -bench Load -benchtime 1x -timeout 60m
//
// Correctness holds in every case and is asserted: each song generated
// once and delivered once, no poll of a job after it ended, no two polls
// of one job closer than 0.8 × POLL_INTERVAL.

// BenchmarkLoadBurst200_MaxRunningOff_Embedded: 200 /song at once on the
// embedded store, all completing at one instant. MAX_RUNNING is off (its
// default 20 would keep 180 of them queued, not running at Whisul).
func BenchmarkLoadBurst200_MaxRunningOff_Embedded(b *testing.B) { benchBurst(b, false) }

// BenchmarkLoadBurst200_MaxRunningOff_Redis is the same burst on Redis.
func BenchmarkLoadBurst200_MaxRunningOff_Redis(b *testing.B) { benchBurst(b, true) }

func benchBurst(b *testing.B, redis bool) {
	const burst = 200
	const interval = 200 * time.Millisecond
	for b.Loop() {
		f := newFleet(b, redis, interval, map[string]string{"MAX_RUNNING": "0"})
		f.whisul.SetDefault(whisultest.Script{After: time.Hour})
		p := f.newProc("bot")
		p.start()
		tr := newTracker(b, f)
		cs := make([]discordtest.SongCommand, burst)
		for i := range cs {
			cs[i] = discordtest.SongCommand{Prompt: fmt.Sprintf("burst song %d", i), UserID: loadUser(i)}
		}
		ins, err := f.discord.SendCommands(b.Context(), "song", cs)
		if err != nil {
			b.Fatalf("SendCommands(%d songs) = %v", burst, err)
		}
		for _, in := range ins {
			tr.add(in)
		}
		waitPolled(b, f.whisul, burst, time.Minute)
		t0 := time.Now()
		f.whisul.FinishAll()
		bound := time.Minute
		tr.waitDelivered(burst, bound)

		var acks []time.Duration
		for _, in := range ins {
			if d, ok := f.discord.AckLatency(in.ID); ok {
				acks = append(acks, d)
			} else {
				b.Errorf("interaction %s was never acknowledged", in.ID)
			}
		}
		lags, missing := tr.lags(t0)
		checkRun(b, f, tr, interval, missing)
		target := interval + 100*time.Millisecond
		reportLatency(b, "ack", acks, 30*time.Millisecond)
		reportLag(b, lags, missing, bound, target)
	}
}

// BenchmarkLoadPending5000_MaxRunningOff: 5,000 songs pending on Redis at
// POLL_INTERVAL=1s, held running 10 s, then all complete. MAX_RUNNING and
// MAX_QUEUED are off, as 5,000 songs in flight need.
func BenchmarkLoadPending5000_MaxRunningOff(b *testing.B) {
	const n = 5000
	const interval = time.Second
	for b.Loop() {
		f := newFleet(b, true, interval, map[string]string{"MAX_RUNNING": "0", "MAX_QUEUED": "0"})
		f.whisul.SetDefault(whisultest.Script{After: time.Hour})
		tr := newTracker(b, f)
		admitPending(b, f, tr, n)
		p := f.newProc("bot")
		p.start()
		start := time.Now()
		waitUntil(b, start.Add(10*time.Second))
		gets, _ := getsIn(f.whisul, start.Add(time.Second), start.Add(10*time.Second))
		t0 := time.Now()
		f.whisul.FinishAll()
		bound := time.Minute
		tr.waitDelivered(n, bound)
		_, peak := p.memory()
		heap := p.heapInUse()
		lags, missing := tr.lags(t0)
		checkRun(b, f, tr, interval, missing)
		reportRate(b, float64(gets)/9, n/interval.Seconds())
		reportMemory(b, peak, heap, 64*mib)
		reportLag(b, lags, missing, bound, interval+500*time.Millisecond)
	}
}

// BenchmarkLoadPending20000_MaxRunningOff: 20,000 songs pending on Redis
// at POLL_INTERVAL=5s, polled for 20 s after a first interval. MAX_RUNNING
// and MAX_QUEUED are off.
func BenchmarkLoadPending20000_MaxRunningOff(b *testing.B) {
	const n = 20000
	const interval = 5 * time.Second
	for b.Loop() {
		f := newFleet(b, true, interval, map[string]string{"MAX_RUNNING": "0", "MAX_QUEUED": "0"})
		f.whisul.SetDefault(whisultest.Script{After: time.Hour})
		tr := newTracker(b, f)
		admitPending(b, f, tr, n)
		p := f.newProc("bot")
		p.start()
		start := time.Now()
		waitUntil(b, start.Add(interval+20*time.Second))
		gets, _ := getsIn(f.whisul, start.Add(interval), start.Add(interval+20*time.Second))
		_, peak := p.memory()
		heap := p.heapInUse()
		checkRun(b, f, tr, interval, 0)
		reportRate(b, float64(gets)/20, n/interval.Seconds())
		reportMemory(b, peak, heap, 128*mib)
	}
}

// BenchmarkLoadRateLimited50_Pending1000_MaxRunningOff: 1,000 songs pending
// on Redis at the default POLL_INTERVAL (5s, so 200 polls a second are
// due) against a Whisul that allows 50 requests a second and answers 429
// with Retry-After: 1 beyond. After 60 s all complete; none may be lost.
// MAX_RUNNING and MAX_QUEUED are off.
func BenchmarkLoadRateLimited50_Pending1000_MaxRunningOff(b *testing.B) {
	const n = 1000
	const interval = 5 * time.Second
	const run = 60
	for b.Loop() {
		f := newFleet(b, true, interval, map[string]string{"MAX_RUNNING": "0", "MAX_QUEUED": "0"})
		f.whisul.SetDefault(whisultest.Script{After: time.Hour})
		tr := newTracker(b, f)
		admitPending(b, f, tr, n)
		f.whisul.SetRateLimit(50)
		p := f.newProc("bot")
		p.start()
		start := time.Now()
		waitUntil(b, start.Add(run*time.Second))
		perSec, limitedPerSec := apiPerSecond(f.whisul, start, run)
		settled := settledAt(perSec, 40, 50)
		from := settled
		if from < 0 {
			from = run / 2
		}
		b.Logf("requests a second: %v", perSec)
		b.Logf("429s a second:      %v", limitedPerSec)
		var sent, limited float64
		for s := from; s < run; s++ {
			sent += perSec[s]
			limited += limitedPerSec[s]
		}
		t0 := time.Now()
		f.whisul.FinishAll()
		bound := 2 * time.Minute
		tr.waitDelivered(n, bound)
		lags, missing := tr.lags(t0)
		checkRun(b, f, tr, interval, missing)
		b.ReportMetric(sent/float64(run-from), "req/s-settled")
		b.ReportMetric(sent/float64(run-from)/50, "req/s-settled/limit")
		b.ReportMetric(float64(settled), "s-to-settle") // -1: never within [40, 50]/s
		b.ReportMetric(limited/float64(run-from)*60, "429/min-settled")
		b.ReportMetric(float64(missing), "songs-lost")
		reportLag(b, lags, missing, bound, interval+500*time.Millisecond)
	}
}

// BenchmarkLoadSongs100000 sends 100,000 /song through one process at the
// defaults (POLL_INTERVAL=100ms; jobs end at their first poll), keeping
// 150 in flight so MAX_RUNNING 20 and MAX_QUEUED 200 refuse none (the
// margin covers songs edited but not yet removed from the store), and
// reads the heap in use, the live heap and RSS at 10k, 50k and 100k songs
// delivered. It stops after SONGBOT_LOAD_BOUND (default 15m) and reports
// how far it got.
func BenchmarkLoadSongs100000(b *testing.B) {
	const total = 100000
	const inFlight = 150
	const interval = 100 * time.Millisecond
	bound := 15 * time.Minute
	if v := os.Getenv("SONGBOT_LOAD_BOUND"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("SONGBOT_LOAD_BOUND=%q: %v", v, err)
		}
		bound = d
	}
	for b.Loop() {
		f := newFleet(b, true, interval, nil)
		f.whisul.SetDefault(whisultest.Script{})
		p := f.newProc("bot")
		p.start()
		tr := newTracker(b, f)
		start := time.Now()
		ctx, cancel := context.WithDeadline(b.Context(), start.Add(bound))
		checkpoints := []int{10000, 50000, 100000}
		var heaps, lives, rsss []float64
		sample := func() {
			rss, _ := p.memory()
			heaps, lives, rsss = append(heaps, p.heapInUse()), append(lives, p.heapLive()), append(rsss, float64(rss))
		}
		sent := 0
		for sent < total && ctx.Err() == nil {
			if f.discord.Wait(ctx, func() bool { return sent-tr.delivered() < inFlight }) != nil {
				break
			}
			in, err := f.discord.SendCommand(ctx, "song", discordtest.SongCommand{Prompt: fmt.Sprintf("song %d", sent), UserID: loadUser(sent)})
			if err != nil {
				break
			}
			tr.add(in)
			sent++
			if d := tr.delivered(); len(heaps) < len(checkpoints) && d >= checkpoints[len(heaps)] {
				sample()
			}
		}
		cancel()
		delivered := tr.waitDelivered(sent, time.Minute)
		if len(heaps) < len(checkpoints) && delivered >= checkpoints[len(heaps)] {
			sample()
		}
		took := time.Since(start)
		_, missing := tr.lags(start)
		checkRun(b, f, tr, interval, missing)
		b.ReportMetric(float64(delivered), "songs")
		b.ReportMetric(float64(delivered)/took.Seconds(), "songs/s")
		for i, h := range heaps {
			k := checkpoints[i] / 1000
			b.ReportMetric(h/mib, fmt.Sprintf("MiB-heap@%dk", k))
			b.ReportMetric(lives[i]/mib, fmt.Sprintf("MiB-heap-live@%dk", k))
			b.ReportMetric(rsss[i]/mib, fmt.Sprintf("MiB-rss@%dk", k))
		}
		if len(heaps) > 1 {
			last := len(heaps) - 1
			b.ReportMetric(heaps[last]/heaps[0], "heap-last/first")
			b.ReportMetric(lives[last]/lives[0], "heap-live-last/first")
			b.ReportMetric(rsss[last]/rsss[0], "rss-last/first")
		}
		if delivered < total {
			b.Logf("only %d of %d songs delivered within SONGBOT_LOAD_BOUND=%v (%d sent)", delivered, total, bound, sent)
		}
	}
}

// checkRun asserts what must hold in every load run.
func checkRun(tb testing.TB, f *fleet, tr *tracker, interval time.Duration, missing int) {
	tb.Helper()
	c := checkPolls(tb, f.whisul, interval, false)
	dup := checkGeneratedOnce(tb, f.whisul)
	tr.checkDeliveredOnce(nil)
	tb.Logf("%d polls checked; %d songs not delivered within the bound; %d prompts generated twice", c.polls, missing, dup)
}

// waitPolled waits until n jobs exist at Whisul and each was polled once.
func waitPolled(tb testing.TB, w *whisultest.Server, n int, bound time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), bound)
	defer cancel()
	err := w.Wait(ctx, func() bool {
		jobs := w.Jobs()
		if len(jobs) < n {
			return false
		}
		for _, j := range jobs {
			if j.Polls == 0 {
				return false
			}
		}
		return true
	})
	if err != nil {
		tb.Fatalf("%d songs were not all submitted and polled within %v", n, bound)
	}
}

// waitUntil blocks until t: a case's fixed duration, not a guess.
func waitUntil(tb testing.TB, t time.Time) {
	select {
	case <-time.After(time.Until(t)):
	case <-tb.Context().Done():
	}
}

// apiPerSecond buckets the API requests of the run's first seconds: sent
// (any answer) and answered 429.
func apiPerSecond(w *whisultest.Server, start time.Time, seconds int) (sent, limited []float64) {
	sent, limited = make([]float64, seconds), make([]float64, seconds)
	for _, r := range w.Requests() {
		// Before start (the seeder's submissions) is not second 0: the
		// division truncates toward zero, so test the time itself.
		if r.Time.Before(start) || !strings.HasPrefix(r.Path, "/api/") {
			continue
		}
		s := int(r.Time.Sub(start) / time.Second)
		if s >= seconds {
			continue
		}
		sent[s]++
		if r.Status == 429 {
			limited[s]++
		}
	}
	return sent, limited
}

// settledAt is the first second from which every 5-second average of
// perSec stays within [lo, hi] and no second goes above hi: a second past
// the limit is an overshoot, not a rate settled within it. It is -1 when
// there is none.
func settledAt(perSec []float64, lo, hi float64) int {
	settled := -1
	for s := len(perSec) - 5; s >= 0; s-- {
		var sum float64
		for _, v := range perSec[s : s+5] {
			sum += v
		}
		if avg := sum / 5; avg < lo || avg > hi || perSec[s] > hi {
			break
		}
		settled = s
	}
	return settled
}

func reportLatency(b *testing.B, name string, ds []time.Duration, target time.Duration) {
	p50, p99 := percentile(ds, 0.50), percentile(ds, 0.99)
	b.ReportMetric(ms(p50), "ms-"+name+"-p50")
	b.ReportMetric(ms(p99), "ms-"+name+"-p99")
	b.ReportMetric(float64(p99)/float64(target), name+"-p99/target")
}

// reportLag reports delivery lag; songs not delivered within bound count
// as bound, so with any missing the percentiles are lower bounds.
func reportLag(b *testing.B, lags []time.Duration, missing int, bound, target time.Duration) {
	for range missing {
		lags = append(lags, bound)
	}
	reportLatency(b, "lag", lags, target)
	b.ReportMetric(float64(missing), "undelivered")
}

func reportRate(b *testing.B, got, ideal float64) {
	b.ReportMetric(got, "GET/s")
	b.ReportMetric(got/ideal, "GET/s/ideal")
}

func reportMemory(b *testing.B, peakRSS int64, heap float64, target int64) {
	b.ReportMetric(float64(peakRSS)/mib, "MiB-peak-rss")
	b.ReportMetric(float64(peakRSS)/float64(target), "peak-rss/target")
	b.ReportMetric(heap/mib, "MiB-heap")
}

// TestAPIPerSecondSkipsRequestsBeforeTheStart: requests a moment before
// the start are in no second, not in second 0.
func TestAPIPerSecondSkipsRequestsBeforeTheStart(t *testing.T) {
	t.Parallel()
	w := whisultest.NewServer(t, whisulKey)
	for range 3 {
		req, err := http.NewRequestWithContext(t.Context(), "GET", w.URL+"/jobs/none", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+whisulKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	reqs := w.Requests()
	if len(reqs) != 3 || !reqs[1].Time.Before(reqs[2].Time) {
		t.Fatalf("the fake recorded %+v; want 3 requests one after another", reqs)
	}
	start := reqs[2].Time // the first two came before it
	if sent, _ := apiPerSecond(w, start, 1); sent[0] != 1 {
		t.Errorf("apiPerSecond(start at the third request)[0] = %v; want 1, the first two being before it", sent[0])
	}
}

func TestSettledAtSkipsAnOvershoot(t *testing.T) {
	t.Parallel()
	// The start of a rate-limited run: two seconds past the limit of 50,
	// one below while the bot waits out Retry-After, then steady. The
	// 5-second average from second 0 is 49, within [40, 50], yet the
	// first two seconds were 429s: the rate settled at second 2.
	perSec := []float64{64, 65, 27, 45, 44, 45, 45, 45, 46, 47}
	if got := settledAt(perSec, 40, 50); got != 2 {
		t.Errorf("settledAt(%v) = %d; want 2, after the seconds past the limit", perSec, got)
	}
	if got := settledAt([]float64{60, 60, 60, 60, 60, 60}, 40, 50); got != -1 {
		t.Errorf("settledAt(always 60) = %d; want -1", got)
	}
}
