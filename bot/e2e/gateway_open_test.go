package e2e_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/songbot-dev/songbot/bot"
	"github.com/songbot-dev/songbot/bot/discordtest"
)

// A gateway lookup that fails at first (Discord down for a moment, the
// network not up yet) is retried until it works; the bot then serves /song.
func TestGatewayOpenRetriesUntilDiscordAnswers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	target, err := url.Parse(h.discord.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var failed atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/gateway") && failed.Add(1) <= 2 {
			http.Error(w, "upstream connect error", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	h.opts.APIURL = front.URL

	h.start() // fails the test unless the bot starts
	if n := failed.Load(); n < 3 {
		t.Errorf("gateway lookups = %d; want the 2 failures and then a success", n)
	}
	if !strings.Contains(h.logs.String(), "check the network and DISCORD_API_URL") {
		t.Errorf("logs do not tell the operator what to check:\n%s", h.logs.String())
	}
	in := h.song(discordtest.SongCommand{Prompt: "after the outage"})
	h.wait("the song's delivery", func() bool { return h.outcome(in.ID) == string(bot.JobCompleted) })
}
