package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

// tracker follows the songs of a load run from the fake Discord's request
// log: which reached their user, when, and how many times.
type tracker struct {
	tb      testing.TB
	f       *fleet
	mu      sync.Mutex
	songs   []discordtest.Interaction
	byToken map[string]int
	byUser  map[string]int
	finals  [][]final // per song: each successful final edit or fallback message
	done    int       // songs with at least one final
	cursor  int       // Discord requests read so far
}

// final is one delivery request Discord accepted.
type final struct {
	at   time.Time
	edit bool // an edit of the reply; else a fallback message
}

func newTracker(tb testing.TB, f *fleet) *tracker {
	return &tracker{tb: tb, f: f, byToken: map[string]int{}, byUser: map[string]int{}}
}

// add follows one more song.
func (tr *tracker) add(in discordtest.Interaction) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.byToken[in.Token] = len(tr.songs)
	tr.byUser[in.UserID] = len(tr.songs)
	tr.songs = append(tr.songs, in)
	tr.finals = append(tr.finals, nil)
}

// scan reads the requests Discord received since the last scan. A final
// delivery is a successful PATCH of @original that sets embeds (the song,
// or an empty list with the reason it failed; progress edits set content
// only), or a channel message that mentions the requester (the fallback).
func (tr *tracker) scan() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	reqs := tr.f.discord.RequestsSince(tr.cursor)
	tr.cursor += len(reqs)
	for _, r := range reqs {
		if r.Status != 200 {
			continue
		}
		i, ok, edit := -1, false, false
		switch {
		case r.Method == "PATCH" && strings.HasSuffix(r.Path, "/messages/@original"):
			edit = true
			var body map[string]json.RawMessage
			if json.Unmarshal(r.JSON, &body) != nil || body["embeds"] == nil {
				continue
			}
			segs := strings.Split(r.Path, "/")
			i, ok = tr.byToken[segs[len(segs)-3]]
		case r.Method == "POST" && strings.HasPrefix(r.Path, "/api/v") && strings.HasSuffix(r.Path, "/messages") && strings.Contains(r.Path, "/channels/"):
			var body struct{ Content string }
			json.Unmarshal(r.JSON, &body)
			uid, _, _ := strings.Cut(strings.TrimPrefix(body.Content, "<@"), ">")
			i, ok = tr.byUser[uid]
		}
		if !ok {
			continue
		}
		if len(tr.finals[i]) == 0 {
			tr.done++
		}
		tr.finals[i] = append(tr.finals[i], final{at: r.Time, edit: edit})
	}
}

// delivered is the number of songs delivered at least once.
func (tr *tracker) delivered() int {
	tr.scan()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.done
}

// waitDelivered waits until n songs were delivered or bound passed, and
// returns how many were.
func (tr *tracker) waitDelivered(n int, bound time.Duration) int {
	ctx, cancel := context.WithTimeout(tr.tb.Context(), bound)
	defer cancel()
	tr.f.discord.Wait(ctx, func() bool { return tr.delivered() >= n })
	return tr.delivered()
}

// lags returns, per song delivered, its first delivery's time since t0,
// and the number of songs not delivered.
func (tr *tracker) lags(t0 time.Time) (lags []time.Duration, missing int) {
	tr.scan()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, fs := range tr.finals {
		if len(fs) == 0 {
			missing++
			continue
		}
		lags = append(lags, fs[0].at.Sub(t0))
	}
	return lags, missing
}

// checkDeliveredOnce fails tb for every song shown in more than one
// message (its reply and a fallback, or two fallbacks), and for every
// reply edited into its result more than once, unless reedit allows that
// edit: it is given the time of the reply's first final edit and of the
// later one. A process killed between its final edit and removing the job
// leaves the job to another process, which edits the reply again with
// the same song once the lease ends; the user still sees one message.
// With reedit nil, as where no process is killed, no edit is allowed
// twice. It returns the number of re-edits allowed.
func (tr *tracker) checkDeliveredOnce(reedit func(first, again time.Time) bool) (reedits int) {
	tr.scan()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	bad := 0
	for i, fs := range tr.finals {
		ok, allowed := deliveredOnce(fs, reedit)
		reedits += allowed
		if !ok {
			if bad++; bad <= 5 {
				tr.tb.Errorf("song %s delivered %d times (%v); want once", tr.songs[i].ID, len(fs), fs)
			}
		}
	}
	if bad > 5 {
		tr.tb.Errorf("... %d songs delivered more than once in all", bad)
	}
	return reedits
}

// deliveredOnce reports whether one song's finals show it once: in one
// message, its reply edited into the result once, or again only where
// reedit allows (see checkDeliveredOnce); allowed counts those.
func deliveredOnce(fs []final, reedit func(first, again time.Time) bool) (ok bool, allowed int) {
	var edits []time.Time
	messages := 0
	for _, f := range fs {
		if f.edit {
			edits = append(edits, f.at)
		} else {
			messages++
		}
	}
	if len(edits) > 0 {
		messages++
	}
	ok = messages <= 1
	for _, again := range edits[min(1, len(edits)):] {
		if reedit != nil && reedit(edits[0], again) {
			allowed++
		} else {
			ok = false
		}
	}
	return ok, allowed
}

// pollCheck is what checkPolls found in the fake Whisul's request log.
type pollCheck struct {
	afterEnd, tooClose int
	polls              int
}

// checkPolls fails tb where the poll discipline broke: a poll of a job
// after a poll answered that it ended, or two polls of one job less than
// 0.8 × interval apart where the first was answered 200 (a retry after an
// error answer follows the client's backoff instead). With afterEndOK a
// poll after the end is counted but not an error: a process killed
// between a poll and its delivery leaves the next one to poll again.
func checkPolls(tb testing.TB, w *whisultest.Server, interval time.Duration, afterEndOK bool) pollCheck {
	tb.Helper()
	ended := map[string]time.Time{}
	for _, j := range w.Jobs() {
		ended[j.ID] = j.EndedAt
	}
	byJob := map[string][]whisultest.Request{}
	for _, r := range w.Requests() {
		if id, ok := strings.CutPrefix(r.Path, "/api/jobs/"); ok && r.Method == "GET" {
			byJob[id] = append(byJob[id], r)
		}
	}
	var c pollCheck
	report := func(format string, args ...any) {
		if c.afterEnd+c.tooClose <= 5 {
			tb.Errorf(format, args...)
		}
	}
	minGap := interval * 8 / 10
	for id, polls := range byJob {
		c.polls += len(polls)
		for i, p := range polls {
			if end := ended[id]; !end.IsZero() && p.Time.After(end) {
				c.afterEnd++
				if !afterEndOK {
					report("job %s polled at %v, after it ended at %v", id, p.Time.Format(time.StampMicro), end.Format(time.StampMicro))
				}
			}
			if i > 0 && polls[i-1].Status == 200 && p.Time.Sub(polls[i-1].Time) < minGap {
				c.tooClose++
				report("job %s polled %v after its previous poll; want at least %v (0.8 × POLL_INTERVAL)", id, p.Time.Sub(polls[i-1].Time), minGap)
			}
		}
	}
	return c
}

// checkGeneratedOnce fails tb for every prompt Whisul was asked for more
// than once (load runs give each song its own prompt).
func checkGeneratedOnce(tb testing.TB, w *whisultest.Server) int {
	tb.Helper()
	n := map[string]int{}
	for _, j := range w.Jobs() {
		n[j.Prompt]++
	}
	dup := 0
	for p, k := range n {
		if k > 1 {
			if dup++; dup <= 5 {
				tb.Errorf("prompt %q generated %d times; want once", p, k)
			}
		}
	}
	return dup
}

// admitPending puts n pending songs straight into the fleet's Redis, as
// the bot's /song handler leaves them after submitting to Whisul: a
// deferred reply at the fake Discord, a running job at the fake Whisul
// (submitted with the test's own key, so the bot's submissions stay
// countable apart) and the job admitted with storage's Admit, the bot's
// fields filled in, due over the next interval. Each song has its own
// user, so no per-user limit applies.
func admitPending(tb testing.TB, f *fleet, tr *tracker, n int) {
	tb.Helper()
	store, err := storage.OpenRedis(tb.Context(), f.redisURL, storage.RedisOptions{Prefix: f.prefix, JobTTL: 90 * time.Minute})
	if err != nil {
		tb.Fatalf("OpenRedis() = %v", err)
	}
	defer store.Close()
	key := whisulKey + "-seeder"
	f.whisul.AddKey(key)
	wc, err := whisul.New(whisul.Options{BaseURL: f.whisul.URL, APIKey: key})
	if err != nil {
		tb.Fatalf("whisul.New() = %v", err)
	}
	start := time.Now()
	next := make(chan int)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range next {
				if err := admitOne(tb.Context(), f, tr, store, wc, i, n, start); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range n {
		select {
		case next <- i:
		case err := <-errs:
			close(next)
			wg.Wait()
			tb.Fatalf("admit pending song %d: %v", i, err)
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		tb.Fatalf("admit pending songs: %v", err)
	}
	tb.Logf("admitted %d pending songs in %v", n, time.Since(start).Round(time.Millisecond))
}

func admitOne(ctx context.Context, f *fleet, tr *tracker, store *storage.Redis, wc *whisul.Client, i, n int, start time.Time) error {
	user := loadUser(i)
	in := f.discord.Deferred(discordtest.SongCommand{UserID: user})
	tr.add(in)
	prompt := fmt.Sprintf("pending song %d", i)
	sub, err := wc.Generate(ctx, prompt)
	if err != nil {
		return err
	}
	created, _ := snowflakeTime(in.ID)
	job := storage.Job{
		ID: in.ID,
		Request: storage.Request{
			AppID: f.discord.AppID, InteractionToken: in.Token, ChannelID: in.ChannelID, GuildID: in.GuildID,
			UserID: user, Prompt: prompt, AttachmentLimit: 10 << 20, InteractionAt: created,
		},
		State: storage.State{
			WhisulID: sub.JobID, PollURL: sub.PollURL, SubmittedAt: time.Now(),
			NextPollAt: start.Add(f.interval * time.Duration(i) / time.Duration(n)),
		},
	}
	adm, err := store.Admit(ctx, time.Now(), job, storage.Limits{})
	if err == nil && (adm.Refused != "" || adm.Queued) {
		err = fmt.Errorf("Admit = %+v; want running", adm)
	}
	return err
}

// loadUser is the i-th distinct user id of a load run.
func loadUser(i int) string { return fmt.Sprintf("%d", 200000000000000000+i) }

// snowflakeTime reads a Discord id's creation time.
func snowflakeTime(id string) (time.Time, error) {
	var v uint64
	if _, err := fmt.Sscan(id, &v); err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(int64(v>>22) + 1420070400000), nil
}

// getsIn counts polls (GET /api/jobs/) that arrived in [from, to), and
// requests answered 429 among every API request.
func getsIn(w *whisultest.Server, from, to time.Time) (gets, limited int) {
	for _, r := range w.Requests() {
		if r.Time.Before(from) || !r.Time.Before(to) {
			continue
		}
		if r.Method == "GET" && strings.HasPrefix(r.Path, "/api/jobs/") {
			gets++
		}
		if r.Status == 429 {
			limited++
		}
	}
	return gets, limited
}

// percentile is the nearest-rank q-quantile of ds, which it sorts.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(math.Ceil(q*float64(len(ds)))) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

const mib = 1 << 20

func TestDeliveredOnceAllowsOnlyTheReEditsItIsTold(t *testing.T) {
	t0 := time.Unix(1000, 0)
	edit := func(s int) final { return final{at: t0.Add(time.Duration(s) * time.Second), edit: true} }
	message := func(s int) final { return final{at: t0.Add(time.Duration(s) * time.Second)} }
	afterLease := func(first, again time.Time) bool { return again.Sub(first) >= 9*time.Second }
	for _, c := range []struct {
		name    string
		fs      []final
		reedit  func(first, again time.Time) bool
		ok      bool
		allowed int
	}{
		{"one edit", []final{edit(0)}, nil, true, 0},
		{"one fallback", []final{message(0)}, nil, true, 0},
		{"nothing yet", nil, nil, true, 0},
		{"edited twice, strict", []final{edit(0), edit(10)}, nil, false, 0},
		{"edited again after the lease, allowed", []final{edit(0), edit(10)}, afterLease, true, 1},
		{"edited again too soon", []final{edit(0), edit(1)}, afterLease, false, 0},
		{"an edit and a fallback", []final{edit(0), message(12)}, afterLease, false, 0},
		{"two fallbacks", []final{message(0), message(12)}, afterLease, false, 0},
	} {
		ok, allowed := deliveredOnce(c.fs, c.reedit)
		if ok != c.ok || allowed != c.allowed {
			t.Errorf("%s: deliveredOnce = %v, %d; want %v, %d", c.name, ok, allowed, c.ok, c.allowed)
		}
	}
}
