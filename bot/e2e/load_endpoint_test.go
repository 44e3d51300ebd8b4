package e2e_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

// BenchmarkLoadEndpointBurst200_MaxRunningOff_Redis: the built binary in
// HTTP mode (INTERACTIONS_ADDR, no gateway) on Redis answering bursts of
// 200 signed /song at once, as issue 14 measures it, at the defaults but
// for MAX_RUNNING and MAX_QUEUED, off so that every song of every burst
// is admitted and submitted (their defaults would queue or refuse most of
// them, a cheaper answer than an admission). Each burst comes to a quiet
// bot: the next is posted once Whisul has every song of the last, so no
// burst is answered while the one before it is still being submitted. The
// first burst after start-up also opens every connection (the test's to
// the endpoint, the bot's to Redis and Whisul); its p99 is reported on its
// own. The settings hold the fake Discord's public key, so they are set
// once the fleet has made the fake. Run it with
//
//	go test ./bot/e2e -run '^$' -bench LoadEndpoint -benchtime 6x
func BenchmarkLoadEndpointBurst200_MaxRunningOff_Redis(b *testing.B) {
	const burst = 200
	addr := freeAddr(b)
	f := newFleet(b, true, 5*time.Second, nil)
	f.settings = map[string]string{
		"INTERACTIONS_ADDR":  addr,
		"DISCORD_PUBLIC_KEY": hex.EncodeToString(f.discord.PublicKey),
		"MAX_RUNNING":        "0",
		"MAX_QUEUED":         "0",
	}
	f.whisul.SetDefault(whisultest.Script{After: time.Hour})
	p := f.newProc("bot")
	p.start()
	url := "http://" + addr + "/interactions"

	var acks []time.Duration
	for round := 1; b.Loop(); round++ {
		cs := make([]discordtest.SongCommand, burst)
		for i := range cs {
			cs[i] = discordtest.SongCommand{Prompt: fmt.Sprintf("burst %d-%d", round, i), UserID: loadUser(round*burst + i)}
		}
		ins, resps, err := f.discord.PostCommands(b.Context(), url, "song", cs)
		if err != nil {
			b.Fatalf("PostCommands(%d songs) = %v", burst, err)
		}
		var these []time.Duration
		for i, in := range ins {
			if resps[i].Status != 200 {
				b.Fatalf("POST of song %d = %d %q; want 200", i, resps[i].Status, resps[i].Body)
			}
			d, ok := f.discord.AckLatency(in.ID)
			if !ok {
				b.Fatalf("interaction %s was never acknowledged", in.ID)
			}
			these = append(these, d)
		}
		if round == 1 {
			b.ReportMetric(ms(percentile(these, 0.99)), "ms-ack-p99-first-burst")
		}
		acks = append(acks, these...)
		waitSubmitted(b, f.whisul, round*burst, time.Minute)
	}
	reportLatency(b, "ack", acks, 30*time.Millisecond)
}

// waitSubmitted blocks until Whisul has had n songs submitted.
func waitSubmitted(tb testing.TB, w *whisultest.Server, n int, bound time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), bound)
	defer cancel()
	if err := w.Wait(ctx, func() bool { return len(w.Jobs()) >= n }); err != nil {
		tb.Fatalf("%d songs were not all submitted within %v", n, bound)
	}
}
