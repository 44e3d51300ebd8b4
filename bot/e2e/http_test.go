package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot"
	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

// startEndpoint runs one bot in HTTP mode and returns its interactions URL.
func (h *harness) startEndpoint() string {
	h.t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatalf("listen: %v", err)
	}
	h.startWith(func(o *bot.Options) {
		o.Interactions = l
		o.PublicKey = h.discord.PublicKey
	})
	return "http://" + l.Addr().String() + "/interactions"
}

// post sends /song to the endpoint at url and fails unless it was answered.
func (h *harness) post(url string, c discordtest.SongCommand) (discordtest.Interaction, discordtest.HTTPResponse) {
	h.t.Helper()
	in, resp, err := h.discord.PostCommand(h.t.Context(), url, "song", c)
	if err != nil {
		h.t.Fatalf("PostCommand(song, %q) = %v", c.Prompt, err)
	}
	return in, resp
}

// responseType decodes an interaction response's type and flags.
func responseType(t *testing.T, body []byte) (typ, flags int) {
	t.Helper()
	var r struct {
		Type int `json:"type"`
		Data struct {
			Flags int `json:"flags"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("response body %q: %v", body, err)
	}
	return r.Type, r.Data.Flags
}

// finalEdits counts, per interaction token, the edits that delivered a
// finished song (an embed).
func finalEdits(h *harness) map[string]int {
	n := map[string]int{}
	for _, r := range h.discord.Requests() {
		if r.Method != http.MethodPatch || !strings.Contains(r.Path, "/messages/@original") || r.Status >= 300 {
			continue
		}
		if bytes.Contains(r.JSON, []byte(`"embeds":[{`)) {
			parts := strings.Split(r.Path, "/")
			n[parts[len(parts)-3]]++
		}
	}
	return n
}

func TestEndpointAnswersPing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	url := h.startEndpoint()
	resp, err := h.discord.Ping(t.Context(), url)
	if err != nil || resp.Status != 200 || strings.TrimSpace(string(resp.Body)) != `{"type":1}` {
		t.Fatalf("Ping() = %d %q, %v; want 200 {\"type\":1}", resp.Status, resp.Body, err)
	}
	if n := len(h.discord.Identifies()); n != 0 {
		t.Errorf("the bot sent %d IDENTIFYs; want none in HTTP mode", n)
	}
}

func TestEndpointSongIsDeferredInTheHTTPResponse(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.whisul.SetDefault(whisultest.Script{Polls: 1})
	url := h.startEndpoint()
	for _, private := range []bool{false, true} {
		in, resp := h.post(url, discordtest.SongCommand{Prompt: fmt.Sprintf("endpoint song private=%v", private), Options: map[string]any{"private": private}, UserID: fmt.Sprint(1000 + len(h.whisul.Jobs()))})
		if resp.Status != 200 {
			t.Fatalf("POST /interactions = %d %q; want 200", resp.Status, resp.Body)
		}
		typ, flags := responseType(t, resp.Body)
		if typ != 5 || (flags&64 != 0) != private {
			t.Errorf("private=%v: response = %s; want a deferral (type 5) with ephemeral %v", private, resp.Body, private)
		}
		if m := h.finalReply(in); len(m.Embeds) == 0 {
			t.Errorf("private=%v: final reply %q has no embed; want the song", private, m.Content)
		}
		if got := h.outcome(in.ID); got != "completed" {
			t.Errorf("private=%v: outcome = %q; want completed", private, got)
		}
	}
	for _, r := range h.discord.Requests() {
		if strings.HasSuffix(r.Path, "/gateway") || strings.HasSuffix(r.Path, "/gateway/bot") {
			t.Errorf("the bot called %s %s; want no gateway in HTTP mode", r.Method, r.Path)
		}
	}
}

func TestEndpointRefusesUnverifiedRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	url := h.startEndpoint()
	body := []byte(`{"type":2,"id":"1325458855839105024","token":"tok-e2e","application_id":"` + h.discord.AppID +
		`","guild_id":"290926798626357999","channel_id":"645027906669510667","member":{"user":{"id":"53908232506183680","username":"mason"}},` +
		`"data":{"id":"1","name":"song","type":1,"options":[{"name":"prompt","type":3,"value":"forged song"}]}}`)
	now := time.Now()
	ts := fmt.Sprint(now.Unix())
	signed := func(b []byte) http.Header {
		return http.Header{"X-Signature-Ed25519": {h.discord.Sign(ts, b)}, "X-Signature-Timestamp": {ts}}
	}
	big := append(bytes.Clone(body[:len(body)-1]), []byte(`,"pad":"`+strings.Repeat("x", 1<<20)+`"}`)...)
	for _, tt := range []struct {
		name   string
		body   []byte
		header http.Header
		want   int
	}{
		{"unsigned", body, nil, 401},
		{"signature of another body", body, signed([]byte(`{"type":1}`)), 401},
		{"signature not hex", body, http.Header{"X-Signature-Ed25519": {"zz"}, "X-Signature-Timestamp": {ts}}, 401},
		{"timestamp changed after signing", body, http.Header{"X-Signature-Ed25519": {h.discord.Sign(ts, body)}, "X-Signature-Timestamp": {fmt.Sprint(now.Unix() + 1)}}, 401},
		{"oversized", big, signed(big), 413},
	} {
		resp, err := discordtest.PostRaw(t.Context(), url, tt.body, tt.header)
		if err != nil || resp.Status != tt.want {
			t.Errorf("PostRaw(%s) = %d, %v; want %d", tt.name, resp.Status, err, tt.want)
		}
	}
	for _, at := range []time.Time{now.Add(-6 * time.Minute), now.Add(6 * time.Minute)} {
		if resp, err := h.discord.PostSigned(t.Context(), url, body, at); err != nil || resp.Status != 401 {
			t.Errorf("PostSigned(timestamp now%+v) = %d, %v; want 401 (replay)", at.Sub(now).Round(time.Minute), resp.Status, err)
		}
	}
	for _, r := range []struct{ method, path string }{{"GET", "/interactions"}, {"POST", "/other"}} {
		req, _ := http.NewRequestWithContext(t.Context(), r.method, strings.TrimSuffix(url, "/interactions")+r.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if want := map[string]int{"GET": 405, "POST": 404}[r.method]; res.StatusCode != want {
			t.Errorf("%s %s = %d; want %d", r.method, r.path, res.StatusCode, want)
		}
	}
	if n := h.whisul.Count("POST", "/api/generate"); n != 0 {
		t.Errorf("whisul saw %d submissions; want none for refused requests", n)
	}
	if n, err := h.store.Count(t.Context()); err != nil || n != 0 {
		t.Errorf("store.Count() = %d, %v; want nothing stored", n, err)
	}
	// The same body, correctly signed, is accepted: the refusals above were
	// the signature's doing.
	if resp, err := h.discord.PostSigned(t.Context(), url, body, now); err != nil || resp.Status != 200 {
		t.Errorf("PostSigned(valid) = %d %q, %v; want 200", resp.Status, resp.Body, err)
	}
}

// roundRobin is a reverse proxy that spreads requests over targets in turn.
func roundRobin(t testing.TB, targets []string) string {
	t.Helper()
	var proxies []*httputil.ReverseProxy
	for _, target := range targets {
		u, err := url.Parse(target)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = ""
		proxies = append(proxies, httputil.NewSingleHostReverseProxy(u))
	}
	var next atomic.Uint64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxies[next.Add(1)%uint64(len(proxies))].ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/interactions"
}

func TestEndpointThreeInstancesBehindABalancer(t *testing.T) {
	t.Parallel()
	const songs = 100
	h := newHarness(t, nil)
	h.whisul.SetDefault(whisultest.Script{Polls: 1})
	lb := roundRobin(t, []string{h.startEndpoint(), h.startEndpoint(), h.startEndpoint()})
	ins := make([]discordtest.Interaction, songs)
	var wg sync.WaitGroup
	for i := range songs {
		wg.Go(func() {
			in, resp, err := h.discord.PostCommand(t.Context(), lb, "song", discordtest.SongCommand{
				Prompt: fmt.Sprintf("balanced song %d", i), UserID: fmt.Sprint(5000 + i),
			})
			if err != nil || resp.Status != 200 {
				t.Errorf("PostCommand(%d) = %d %q, %v; want 200", i, resp.Status, resp.Body, err)
			}
			ins[i] = in
		})
	}
	wg.Wait()
	h.wait("every song delivered", func() bool {
		for _, in := range ins {
			if h.outcome(in.ID) == "" {
				return false
			}
		}
		return true
	})
	prompts := map[string]int{}
	for _, j := range h.whisul.Jobs() {
		prompts[j.Prompt]++
	}
	edits := finalEdits(h)
	for i, in := range ins {
		if got := h.outcome(in.ID); got != "completed" {
			t.Errorf("song %d outcome = %q; want completed", i, got)
		}
		if n := prompts[fmt.Sprintf("balanced song %d", i)]; n != 1 {
			t.Errorf("song %d was generated %d times; want once", i, n)
		}
		if n := edits[in.Token]; n != 1 {
			t.Errorf("song %d was delivered %d times; want once", i, n)
		}
	}
}

func TestEndpointSameInteractionOnTwoInstancesMakesOneSong(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.whisul.SetDefault(whisultest.Script{Polls: 1})
	a, b := h.startEndpoint(), h.startEndpoint()
	in, first := h.post(a, discordtest.SongCommand{Prompt: "one song only"})
	second, err := h.discord.Repost(t.Context(), b, in.ID)
	if err != nil {
		t.Fatalf("Repost() = %v", err)
	}
	for name, resp := range map[string]discordtest.HTTPResponse{"first": first, "second": second} {
		if typ, _ := responseType(t, resp.Body); resp.Status != 200 || typ != 5 {
			t.Errorf("%s delivery answered %d %s; want 200 with a deferral", name, resp.Status, resp.Body)
		}
	}
	h.finalReply(in)
	if n := len(h.whisul.Jobs()); n != 1 {
		t.Errorf("whisul saw %d jobs; want 1 for one interaction delivered twice", n)
	}
	if n := finalEdits(h)[in.Token]; n != 1 {
		t.Errorf("the song was delivered %d times; want once", n)
	}
	if !strings.Contains(h.logs.String(), "delivered twice") {
		t.Error("no log line says the interaction was delivered twice")
	}
}
