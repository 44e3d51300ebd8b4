package e2e_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

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
	h := newHarness(b, nil)
	h.whisul.SetDefault(whisultest.Script{Polls: 1})
	h.start()
	var all []discordtest.Interaction
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
		all = append(all, ins...)
	}
	reportAcks(b, h, all)
}
