package bot

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

// testKey is a fixed Ed25519 key pair, so fuzz corpora stay meaningful.
var testKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

func signedRequest(key ed25519.PrivateKey, at time.Time, body []byte) *http.Request {
	ts := strconv.FormatInt(at.Unix(), 10)
	r := httptest.NewRequest(http.MethodPost, "/interactions", bytes.NewReader(body))
	r.Header.Set("X-Signature-Timestamp", ts)
	r.Header.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(key, append([]byte(ts), body...))))
	return r
}

func TestVerifyRequest(t *testing.T) {
	t.Parallel()
	pub := testKey.Public().(ed25519.PublicKey)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Unix(1_750_000_000, 0)
	body := []byte(`{"type":1}`)
	for _, tt := range []struct {
		name string
		req  func() *http.Request
		want int
	}{
		{"signed now", func() *http.Request { return signedRequest(testKey, now, body) }, 200},
		{"signed 4 minutes ago", func() *http.Request { return signedRequest(testKey, now.Add(-4*time.Minute), body) }, 200},
		{"signed 6 minutes ago", func() *http.Request { return signedRequest(testKey, now.Add(-6*time.Minute), body) }, 401},
		{"signed 6 minutes ahead", func() *http.Request { return signedRequest(testKey, now.Add(6*time.Minute), body) }, 401},
		{"another key", func() *http.Request { return signedRequest(other, now, body) }, 401},
		{"no headers", func() *http.Request { return httptest.NewRequest("POST", "/interactions", bytes.NewReader(body)) }, 401},
		{"body changed", func() *http.Request {
			r := signedRequest(testKey, now, body)
			r.Body = http.NoBody
			return r
		}, 401},
		{"over 1 MiB", func() *http.Request {
			return signedRequest(testKey, now, bytes.Repeat([]byte{' '}, maxInteractionBody+1))
		}, 413},
		{"exactly 1 MiB", func() *http.Request {
			return signedRequest(testKey, now, bytes.Repeat([]byte{' '}, maxInteractionBody))
		}, 200},
	} {
		if _, got := verifyRequest(tt.req(), pub, now); got != tt.want {
			t.Errorf("verifyRequest(%s) = %d; want %d", tt.name, got, tt.want)
		}
	}
}

// FuzzVerifyRequest: a request is accepted exactly when the key signed its
// timestamp and body and the timestamp is recent; nothing else gets in.
func FuzzVerifyRequest(f *testing.F) {
	now := time.Unix(1_750_000_000, 0)
	body := []byte(`{"type":2,"id":"1","token":"t","data":{"name":"song"}}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	good := hex.EncodeToString(ed25519.Sign(testKey, append([]byte(ts), body...)))
	f.Add(body, ts, good, true)
	f.Add(body, ts, good, false)
	f.Add(body, ts+" ", good, false)
	f.Add([]byte(`{"type":1}`), ts, good, false)
	f.Add(body, "0", "", true)
	f.Add([]byte{}, "", "zz", false)
	pub := testKey.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, body []byte, ts, sig string, signIt bool) {
		if signIt {
			sig = hex.EncodeToString(ed25519.Sign(testKey, append([]byte(ts), body...)))
		}
		r := httptest.NewRequest(http.MethodPost, "/interactions", bytes.NewReader(body))
		r.Header.Set("X-Signature-Timestamp", ts)
		r.Header.Set("X-Signature-Ed25519", sig)
		got, status := verifyRequest(r, pub, now)
		raw, herr := hex.DecodeString(sig)
		secs, terr := strconv.ParseInt(ts, 10, 64)
		fresh := terr == nil && now.Sub(time.Unix(secs, 0)).Abs() <= maxSignatureAge
		valid := herr == nil && len(raw) == ed25519.SignatureSize && ed25519.Verify(pub, append([]byte(ts), body...), raw) && fresh
		switch {
		case len(body) > maxInteractionBody:
			if status != http.StatusRequestEntityTooLarge {
				t.Fatalf("verifyRequest(%d bytes) = %d; want 413", len(body), status)
			}
		case valid != (status == http.StatusOK):
			t.Fatalf("verifyRequest(ts %q, sig %q) = %d; want accepted %v", ts, sig, status, valid)
		case status == http.StatusOK && !bytes.Equal(got, body):
			t.Fatalf("verifyRequest returned %q; want the body %q", got, body)
		}
	})
}

// FuzzDecodeInteraction: no signed body makes decoding or routing panic.
func FuzzDecodeInteraction(f *testing.F) {
	for _, seed := range []string{
		`{"type":1,"id":"1","token":"t"}`,
		`{"type":2,"id":"1","token":"t","data":{"name":"song","options":[{"name":"prompt","type":3,"value":"x"}]},"attachment_size_limit":10485760}`,
		`{"type":2,"id":"1","token":"t","data":null}`,
		`{"type":2,"id":"1","token":"t"}`,
		`{"type":3,"id":"1","token":"t","data":{"custom_id":"song:v1:abc:regenerate","component_type":2}}`,
		`{"type":3,"id":"1","token":"t","data":{"custom_id":1}}`,
		`{"type":4,"id":"1","token":"t","data":{}}`,
		`{"type":5,"id":"1","token":"t","data":{"custom_id":"x"}}`,
		`{"type":2,"id":"1","token":"t","data":{"name":"song"},"attachment_size_limit":"big"}`,
		`[]`, `null`, ``,
	} {
		f.Add([]byte(seed))
	}
	b := newBot(Options{Store: fakeStore{}}, &fakeDiscord{}, fakeWhisul{})
	f.Cleanup(b.stop)
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := b.decodeInteraction(body)
		if err != nil {
			return
		}
		if in.Interaction == nil {
			t.Fatal("decodeInteraction returned no interaction and no error")
		}
		if in.Type != discordgo.InteractionPing && (in.ID == "" || in.Token == "") {
			t.Fatalf("decodeInteraction(%q) accepted an interaction without id or token", body)
		}
		b.handlers.route(in)
	})
}

// endpointBot is a Bot in HTTP mode over fakes, with its handler served.
func endpointBot(t *testing.T, d *fakeDiscord, store Backend) *Bot {
	t.Helper()
	b := newTestBot(t, Options{PublicKey: testKey.Public().(ed25519.PublicKey)}, d, store, fakeWhisul{GenerateFn: func(string) (whisul.Submission, error) {
		return whisul.Submission{JobID: "w1", PollURL: "/jobs/w1"}, nil
	}})
	b.responder = newHTTPResponder(d)
	b.discord = b.responder
	return b
}

// drain waits for the bot's in-flight work the way shutdown does: no new
// work begins once it has started waiting, so the wait cannot race a
// handler's first Add.
func drain(b *Bot) {
	b.mu.Lock()
	b.closing = true
	b.mu.Unlock()
	b.work.Wait()
}

func songBody(t *testing.T, created time.Time) []byte {
	t.Helper()
	body, err := json.Marshal(songEvent(created, "u1", "lo-fi beat", false).Struct.(*discordgo.InteractionCreate).Interaction)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func TestEndpointAnswersWithTheHandlersFirstResponse(t *testing.T) {
	t.Parallel()
	d := &fakeDiscord{}
	store := fakeStore{
		fakeGate: fakeGate{AdmitFn: func(time.Time, storage.Job, storage.Limits) (storage.Admission, error) {
			return storage.Admission{}, nil
		}},
		fakeQueue: fakeQueue{RescheduleManyFn: eachJob(func(storage.Job) error { return nil })},
	}
	b := endpointBot(t, d, store)
	now := time.Now()
	w := httptest.NewRecorder()
	b.interactionsHandler().ServeHTTP(w, signedRequest(testKey, now, songBody(t, now)))
	drain(b)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"type":5`) {
		t.Fatalf("POST /interactions = %d %s; want 200 with a deferral", w.Code, w.Body)
	}
	if calls := d.Calls(); len(calls) > 0 && calls[0] == "respond" {
		t.Errorf("Discord calls = %v; want no callback: the deferral is the HTTP response", calls)
	}
}

func TestEndpointAnswersAStoreOutageInTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &fakeDiscord{}
		release := make(chan struct{})
		finished := make(chan string, 1)
		store := fakeStore{
			fakeGate: fakeGate{AdmitFn: func(time.Time, storage.Job, storage.Limits) (storage.Admission, error) {
				<-release // a store slower than Discord's 3s
				return storage.Admission{}, nil
			}},
			fakeQueue: fakeQueue{FinishFn: func(id string) (bool, error) { finished <- id; return true, nil }},
		}
		b := endpointBot(t, d, store)
		now := time.Now()
		w := httptest.NewRecorder()
		start := time.Now()
		b.interactionsHandler().ServeHTTP(w, signedRequest(testKey, now, songBody(t, now)))
		if w.Code != http.StatusOK || time.Since(start) != admitTimeout || !strings.Contains(w.Body.String(), `"type":4`) || !strings.Contains(w.Body.String(), "try again in a minute") {
			t.Errorf("POST /interactions = %d %s after %v; want 200 with the ephemeral store-outage reply after %v", w.Code, w.Body, time.Since(start), admitTimeout)
		}
		close(release)
		// The admission answered too late, so its job is removed again.
		if id := <-finished; id == "" {
			t.Error("Finish got no id")
		}
		drain(b)
	})
}

func TestEndpointGivesUpOnASlowHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &fakeDiscord{}
		release := make(chan struct{})
		b := endpointBot(t, d, fakeStore{})
		// Every handler of the bot bounds its store calls well within 3s;
		// this one stands for a handler that does not.
		b.handlers.components = []component{{prefix: "slow:", handle: func(context.Context, incoming) { <-release }}}
		now := time.Now()
		in := songEvent(now, "u1", "x", false).Struct.(*discordgo.InteractionCreate).Interaction
		in.Type = discordgo.InteractionMessageComponent
		in.Data = discordgo.MessageComponentInteractionData{CustomID: "slow:123", ComponentType: discordgo.ButtonComponent}
		body, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		start := time.Now()
		b.interactionsHandler().ServeHTTP(w, signedRequest(testKey, now, body))
		if w.Code != http.StatusServiceUnavailable || time.Since(start) != answerWithin {
			t.Errorf("POST /interactions = %d after %v; want 503 after %v", w.Code, time.Since(start), answerWithin)
		}
		close(release)
		drain(b)
	})
}
