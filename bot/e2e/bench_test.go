package e2e_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot"
	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

// BenchmarkAcknowledge measures how long a /song waits for its deferred
// reply: from the gateway write of INTERACTION_CREATE to the callback's
// arrival at the fake Discord.
func BenchmarkAcknowledge(b *testing.B) {
	h := newHarness(b, nil)
	h.whisul.SetDefault(whisultest.Script{After: time.Hour})
	h.start()
	var total time.Duration
	n := 0
	for b.Loop() {
		in := h.song(discordtest.SongCommand{Prompt: "benchmark beat"})
		h.wait("the acknowledgement", func() bool { _, ok := h.discord.AckLatency(in.ID); return ok })
		lat, _ := h.discord.AckLatency(in.ID)
		total += lat
		n++
	}
	b.ReportMetric(float64(total.Microseconds())/float64(n), "µs/ack")
}

// BenchmarkBurst200 sends 200 /song commands at once and waits until every
// one is acknowledged, submitted and delivered.
func BenchmarkBurst200(b *testing.B) {
	const burst = 200
	// Lift the Whisul rate cap, which would otherwise set the pace, to
	// measure the bot itself.
	h := newHarness(b, func(o *bot.Options) { o.WhisulMaxRPS = 1000 })
	h.whisul.SetDefault(whisultest.Script{Polls: 1})
	h.start()
	var acks []time.Duration
	round := 0
	for b.Loop() {
		round++
		ins := make([]discordtest.Interaction, burst)
		var wg sync.WaitGroup
		for i := range burst {
			wg.Go(func() {
				ins[i] = h.song(discordtest.SongCommand{Prompt: fmt.Sprintf("burst %d-%d", round, i)})
			})
		}
		wg.Wait()
		h.wait("every song delivered", func() bool {
			for _, in := range ins {
				if h.outcome(in.ID) != "completed" {
					return false
				}
			}
			return true
		})
		for _, in := range ins {
			lat, ok := h.discord.AckLatency(in.ID)
			if !ok {
				b.Fatalf("interaction %s was never acknowledged", in.ID)
			}
			acks = append(acks, lat)
		}
	}
	slices.Sort(acks)
	b.ReportMetric(float64(acks[len(acks)/2].Microseconds())/1000, "ms-p50-ack")
	b.ReportMetric(float64(acks[len(acks)*99/100].Microseconds())/1000, "ms-p99-ack")
	b.ReportMetric(float64(acks[len(acks)-1].Microseconds())/1000, "ms-max-ack")
}
