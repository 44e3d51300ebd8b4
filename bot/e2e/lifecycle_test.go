package e2e_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

func TestShutdownKeepsPendingJobsAndRestartDeliversThem(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.whisul.SetDefault(whisultest.Script{After: time.Hour})
	first := h.start()
	in := h.song(discordtest.SongCommand{Prompt: "a song across restarts"})
	h.wait("the job to be polled", func() bool { return h.whisul.Count("GET", "/api/jobs/") > 0 })

	if err := first.stop(t); err != nil { // stop fails the test after 10s
		t.Fatalf("Run() after cancel = %v; want nil", err)
	}
	if n, err := h.store.Count(t.Context()); err != nil || n != 1 {
		t.Fatalf("store.Count() after shutdown = %d, %v; want the pending job kept", n, err)
	}

	h.whisul.FinishAll()
	h.opts.Store = nil // a new process opens its own connection
	h.start()
	embed(t, h.finalReply(in))
}

func TestTwoProcessesShareTheWorkAndDeliverOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.whisul.SetDefault(whisultest.Script{Polls: 3})
	h.start()
	h.start()

	const n = 20
	ins := make([]discordtest.Interaction, n)
	for i := range n {
		ins[i] = h.song(discordtest.SongCommand{Prompt: fmt.Sprintf("song %d", i)})
	}
	for _, in := range ins {
		embed(t, h.finalReply(in))
	}
	h.wait("every job to end", func() bool {
		for _, in := range ins {
			if h.outcome(in.ID) == "" {
				return false
			}
		}
		return true
	})
	for _, j := range h.whisul.Jobs() {
		if j.Polls != 4 {
			t.Errorf("job %q polled %d times; want 4 (each poll by one process, none after the end)", j.Prompt, j.Polls)
		}
	}
	for _, in := range ins {
		if msgs := h.discord.ChannelMessages(in.ChannelID); len(msgs) != 0 {
			t.Errorf("channel got %d extra messages; want the result only in the reply", len(msgs))
		}
	}
}

func TestSurvivorFinishesJobsOfADeadProcess(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.whisul.SetDefault(whisultest.Script{After: time.Hour})
	doomed := h.start()
	in := h.song(discordtest.SongCommand{Prompt: "orphaned song"})
	h.wait("the job to be polled", func() bool { return h.whisul.Count("GET", "/api/jobs/") > 0 })
	// A dead process cannot put its claimed job back: close its store first.
	doomed.store.Close()
	doomed.stop(t)
	h.whisul.FinishAll()
	h.opts.Store = nil
	h.start()
	embed(t, h.finalReply(in))
}

func TestBurstOfSongsAllDelivered(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.whisul.SetDefault(whisultest.Script{Polls: 1})
	h.start()
	const n = 50
	var wg sync.WaitGroup
	ins := make([]discordtest.Interaction, n)
	for i := range n {
		wg.Go(func() { ins[i] = h.song(discordtest.SongCommand{Prompt: fmt.Sprintf("burst %d", i)}) })
	}
	wg.Wait()
	for _, in := range ins {
		if m := h.finalReply(in); len(m.Embeds) == 0 {
			t.Errorf("reply %s = %q; want the song", in.ID, m.Content)
		}
		if lat, ok := h.discord.AckLatency(in.ID); !ok || lat > 3*time.Second {
			t.Errorf("ack latency of %s = %v, %v; want within Discord's 3s", in.ID, lat, ok)
		}
	}
	if strings.Contains(h.logs.String(), "level=ERROR") {
		t.Errorf("errors logged during the burst")
	}
}
