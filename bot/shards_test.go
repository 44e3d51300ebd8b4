package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/internal/testkit"
)

func TestStartShardsPacesEachBucket(t *testing.T) {
	for _, tt := range []struct {
		name           string
		ids            []int
		maxConcurrency int
		wantTotal      time.Duration
	}{
		{"one bucket", []int{0, 1, 2, 3}, 1, 15 * time.Second},
		{"two buckets", []int{0, 1, 2, 3, 4, 5, 6, 7}, 2, 15 * time.Second},
		{"as many buckets as shards", []int{0, 1, 2, 3}, 4, 0},
		{"a process's part", []int{2, 3, 6, 7}, 2, 5 * time.Second},
		{"max_concurrency absent", []int{0, 1}, 0, 5 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				var mu sync.Mutex
				at := map[int]time.Duration{}
				err := startShards(t.Context(), tt.ids, tt.maxConcurrency, identifyInterval, func(_ context.Context, id int) error {
					mu.Lock()
					at[id] = time.Since(start)
					mu.Unlock()
					return nil
				})
				if err != nil {
					t.Fatalf("startShards(%v, %d) = %v", tt.ids, tt.maxConcurrency, err)
				}
				if len(at) != len(tt.ids) {
					t.Fatalf("startShards(%v, %d) opened %v; want every shard", tt.ids, tt.maxConcurrency, at)
				}
				mc := max(tt.maxConcurrency, 1)
				for _, a := range tt.ids {
					for _, b := range tt.ids {
						if a < b && a%mc == b%mc && at[b]-at[a] < identifyInterval {
							t.Errorf("startShards(%v, %d): shards %d and %d of bucket %d opened %v apart; want at least %v", tt.ids, mc, a, b, a%mc, at[b]-at[a], identifyInterval)
						}
					}
				}
				if total := slices.Max(mapValues(at)); total != tt.wantTotal {
					t.Errorf("startShards(%v, %d) opened the last shard after %v; want %v", tt.ids, tt.maxConcurrency, total, tt.wantTotal)
				}
			})
		})
	}
}

func mapValues(m map[int]time.Duration) []time.Duration {
	var v []time.Duration
	for _, d := range m {
		v = append(v, d)
	}
	return v
}

func TestStartShardsStopsAtTheFirstError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		refused := errors.New("refused")
		var opened []int
		var mu sync.Mutex
		err := startShards(t.Context(), []int{0, 1, 2}, 1, identifyInterval, func(_ context.Context, id int) error {
			mu.Lock()
			defer mu.Unlock()
			opened = append(opened, id)
			if id == 1 {
				return refused
			}
			return nil
		})
		if !errors.Is(err, refused) || !slices.Equal(opened, []int{0, 1}) {
			t.Errorf("startShards() = %v after opening %v; want the error after shards 0 and 1", err, opened)
		}
	})
}

func TestAwaitIdentifyWaitsForTheSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		waits := []time.Duration{3 * time.Second, 2 * time.Second, 0}
		var calls []string
		slots := fakeSlots{ReserveFn: func(name string, ttl time.Duration) (time.Duration, error) {
			calls = append(calls, fmt.Sprint(name, " ", ttl))
			w := waits[0]
			waits = waits[1:]
			return w, nil
		}}
		var logs testkit.Buffer
		b := &Bot{log: slog.New(slog.NewTextHandler(&logs, nil)), slots: slots}
		start := time.Now()
		if !b.awaitIdentify(t.Context(), 3, 1) {
			t.Fatal("awaitIdentify() = false; want true")
		}
		if got := time.Since(start); got != 5*time.Second {
			t.Errorf("awaitIdentify() waited %v; want 5s, as the store said", got)
		}
		want := slices.Repeat([]string{"identify:1 " + (identifyInterval + identifySlack).String()}, 3)
		if !slices.Equal(calls, want) {
			t.Errorf("Reserve calls = %q; want %q", calls, want)
		}
		if n := strings.Count(logs.String(), "waiting to start the shard"); n != 1 {
			t.Errorf("awaitIdentify() logged its wait %d times; want once:\n%s", n, logs.String())
		}
	})
}

func TestAwaitIdentifyStartsTheShardWhenTheStoreFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		slots := fakeSlots{ReserveFn: func(string, time.Duration) (time.Duration, error) {
			calls++
			return 0, errors.New("storage: reserve: connection refused")
		}}
		var logs testkit.Buffer
		b := &Bot{log: slog.New(slog.NewTextHandler(&logs, nil)), slots: slots}
		start := time.Now()
		if !b.awaitIdentify(t.Context(), 0, 0) || time.Since(start) != 0 || calls != 1 {
			t.Errorf("awaitIdentify() with a failing store: waited %v, %d calls; want to start at once after one call", time.Since(start), calls)
		}
		if got := logs.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "starting the shard anyway") || !strings.Contains(got, "connection refused") {
			t.Errorf("awaitIdentify() did not log the store's failure:\n%s", logs.String())
		}
	})
}

func TestAwaitIdentifySlotStopsWithTheContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slots := fakeSlots{ReserveFn: func(string, time.Duration) (time.Duration, error) { return time.Minute, nil }}
		b := &Bot{log: slog.New(slog.DiscardHandler), slots: slots}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		if b.awaitIdentify(ctx, 0, 0) {
			t.Error("awaitIdentify() = true after the context ended; want false")
		}
		if got := time.Since(start); got != time.Second {
			t.Errorf("awaitIdentify() returned after %v; want 1s, when the context ended", got)
		}
	})
}

func TestAwaitSessionStartsWaitsForTheReset(t *testing.T) {
	for _, tt := range []struct {
		name string
		lim  discordgo.SessionInformation
		need int
		want time.Duration
	}{
		{"enough left", discordgo.SessionInformation{Total: 1000, Remaining: 4, ResetAfter: 60000, MaxConcurrency: 1}, 4, 0},
		{"used up", discordgo.SessionInformation{Total: 1000, Remaining: 0, ResetAfter: 60000, MaxConcurrency: 1}, 1, time.Minute},
		{"fewer than needed", discordgo.SessionInformation{Total: 1000, Remaining: 2, ResetAfter: 30000, MaxConcurrency: 1}, 4, 30 * time.Second},
		{"unknown", discordgo.SessionInformation{}, 4, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var logs testkit.Buffer
				b := &Bot{log: slog.New(slog.NewTextHandler(&logs, nil))}
				start := time.Now()
				if !b.awaitSessionStarts(t.Context(), tt.lim, tt.need) {
					t.Fatal("awaitSessionStarts() = false; want true")
				}
				if got := time.Since(start); got != tt.want {
					t.Errorf("awaitSessionStarts(%+v, %d) waited %v; want %v", tt.lim, tt.need, got, tt.want)
				}
				if said := strings.Contains(logs.String(), "daily limit of gateway session starts"); said != (tt.want > 0) {
					t.Errorf("awaitSessionStarts(%+v, %d) logged the wait: %v; want %v", tt.lim, tt.need, said, tt.want > 0)
				}
			})
		})
	}
}

func TestPlanShards(t *testing.T) {
	for _, tt := range []struct {
		count, recommended int
		ids                []int
		wantCount          int
		wantIDs            []int
		wantErr            bool
	}{
		{0, 3, nil, 3, []int{0, 1, 2}, false},
		{0, 0, nil, 1, []int{0}, false},
		{4, 1, nil, 4, []int{0, 1, 2, 3}, false},
		{4, 1, []int{3, 1, 1}, 4, []int{1, 3}, false},
		{0, 2, []int{2}, 0, nil, true},
		{4, 0, []int{-1}, 0, nil, true},
	} {
		count, ids, err := planShards(tt.count, tt.ids, tt.recommended)
		if count != tt.wantCount || !slices.Equal(ids, tt.wantIDs) || (err != nil) != tt.wantErr {
			t.Errorf("planShards(%d, %v, %d) = %d, %v, %v; want %d, %v, error %v", tt.count, tt.ids, tt.recommended, count, ids, err, tt.wantCount, tt.wantIDs, tt.wantErr)
		}
	}
}
