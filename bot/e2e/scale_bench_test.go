package e2e_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot"
	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

// userDefaults puts back the defaults a user gets (config.go) where the
// harness shortens them for tests.
func userDefaults(o *bot.Options) {
	o.PollInterval = 5 * time.Second
	o.JobTimeout = 30 * time.Minute
	o.PromptMaxLength = 1000
	o.Lease = 0
	o.Logger = slog.New(atLeast{o.Logger.Handler(), slog.LevelInfo})
}

// atLeast passes on only the records at or above its level: the harness
// logs at debug, and a user's bot logs at info (LOG_LEVEL's default), so
// the benchmarks format and keep no debug lines a user's bot would not.
type atLeast struct {
	slog.Handler
	level slog.Level
}

func (a atLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= a.level && a.Handler.Enabled(ctx, l)
}

func (a atLeast) WithAttrs(attrs []slog.Attr) slog.Handler {
	return atLeast{a.Handler.WithAttrs(attrs), a.level}
}

func (a atLeast) WithGroup(name string) slog.Handler {
	return atLeast{a.Handler.WithGroup(name), a.level}
}

// postBurst posts n /song commands at once to url and returns them; each
// must be answered 200.
func postBurst(b *testing.B, h *harness, url string, n, round int) []discordtest.Interaction {
	b.Helper()
	cs := make([]discordtest.SongCommand, n)
	for i := range cs {
		cs[i] = discordtest.SongCommand{Prompt: fmt.Sprintf("burst %d-%d", round, i), UserID: fmt.Sprint(100000 + round*n + i)}
	}
	ins, resps, err := h.discord.PostCommands(b.Context(), url, "song", cs)
	if err != nil {
		b.Fatalf("PostCommands(%d songs) = %v", n, err)
	}
	for i, resp := range resps {
		if resp.Status != 200 {
			b.Errorf("POST of song %d = %d %q; want 200", i, resp.Status, resp.Body)
		}
	}
	return ins
}

// reportAcks reports the acknowledgements' p50, p99 and max.
func reportAcks(b *testing.B, h *harness, ins []discordtest.Interaction) {
	b.Helper()
	var acks []time.Duration
	for _, in := range ins {
		lat, ok := h.discord.AckLatency(in.ID)
		if !ok {
			b.Fatalf("interaction %s was never acknowledged", in.ID)
		}
		acks = append(acks, lat)
	}
	slices.Sort(acks)
	b.ReportMetric(float64(acks[len(acks)/2].Microseconds())/1000, "ms-p50-ack")
	b.ReportMetric(float64(acks[len(acks)*99/100].Microseconds())/1000, "ms-p99-ack")
	b.ReportMetric(float64(acks[len(acks)-1].Microseconds())/1000, "ms-max-ack")
}

// BenchmarkEndpointSongs_PollInterval0_MaxRunningOff measures songs per
// second carried by 1 and by 3 instances on one Redis behind a round-robin
// proxy: each round posts 200 /song at once and waits until every one is
// delivered. Polling back to back with no MAX_RUNNING takes Whisul's pace
// out, so what is left is the bot, Redis and the fake Discord.
func BenchmarkEndpointSongs_PollInterval0_MaxRunningOff(b *testing.B) {
	const burst = 200
	for _, instances := range []int{1, 3} {
		b.Run(fmt.Sprintf("instances=%d", instances), func(b *testing.B) {
			h := newHarness(b, func(o *bot.Options) {
				userDefaults(o)
				o.PollInterval = 0
			})
			h.whisul.SetDefault(whisultest.Script{Polls: 1})
			var urls []string
			for range instances {
				urls = append(urls, h.startEndpoint())
			}
			lb := roundRobin(b, urls)
			var all []discordtest.Interaction
			round := 0
			start := time.Now()
			for b.Loop() {
				round++
				ins := postBurst(b, h, lb, burst, round)
				h.wait("every song delivered", func() bool {
					for _, in := range ins {
						if h.outcome(in.ID) == "" {
							return false
						}
					}
					return true
				})
				all = append(all, ins...)
			}
			elapsed := time.Since(start)
			for _, in := range all {
				if got := h.outcome(in.ID); got != "completed" {
					b.Fatalf("interaction %s ended %q; want completed", in.ID, got)
				}
			}
			b.ReportMetric(float64(len(all))/elapsed.Seconds(), "songs/s")
			reportAcks(b, h, all)
		})
	}
}
