// Package discordtest is a fake Discord for end-to-end tests of the bot.
//
// It speaks Discord's wire protocol (REST under /api/v9 and /api/v10, and
// the JSON gateway) with Discord's payload shapes, status codes and error
// bodies, so the real discordgo Session can run against it. Point discordgo
// at it with an http.RoundTripper that rewrites the scheme and host of
// https://discord.com to Server.URL; discordgo then dials the websocket URL
// the fake returns from GET /api/v9/gateway.
//
// Everything the fake receives is recorded (Requests, Identifies) and the
// resulting state can be inspected (Original, ChannelMessages,
// Commands). Wait blocks until a condition over that state holds; it is
// re-checked after every REST request and gateway event, so tests never
// sleep.
//
// Discord rules the fake enforces beyond plain routing: the 3 s window for
// the first callback and the 15 min token lifetime; one callback per
// interaction; ephemerality fixed at the first response; message limits (content 2000, embeds, buttons, upload size); no access to
// the private channels of user-installed interactions; privileged intents
// refused unless allowed; RESUME replays missed dispatches.
//
// Several sessions may connect with the one token (several bot processes).
// The fake then sends each dispatch, INTERACTION_CREATE included, to one
// ready session, round robin in connection order, as a load balancer
// would. Discord does not: it sends a shard's events to every session
// identified on that shard, so N unsharded processes each receive every
// interaction, and all but the first callback answer 400 40060. Tests of
// several processes therefore see each interaction handled by exactly one
// of them.
//
// Sharding (gatewaybot.go): GET /gateway/bot answers the configured Shards
// and SessionStartLimit, an IDENTIFY must carry a valid shard field when
// Shards > 1 (else 4010 or 4011), each IDENTIFY is recorded with its shard
// and time, and an interaction goes to a session of its guild's shard,
// (guild_id >> 22) % Shards, DMs to shard 0. Interactions endpoints
// (endpoint.go): PostCommand signs a POST with the application's Ed25519 key
// and takes the response body as the interaction's first response.
package discordtest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/songbot-dev/songbot/internal/testkit"
)

// discordEpoch is the first millisecond of 2015, the zero of Discord's
// snowflake timestamps.
const discordEpoch = 1420070400000

// Server is a fake Discord. Create it with NewServer; the exported
// configuration fields may be changed before the bot connects.
type Server struct {
	URL   string // origin, e.g. "http://127.0.0.1:1234"
	Token string // the bot token the fake accepts
	AppID string // application id, equal to the bot user's id
	// PublicKey is the application's Ed25519 public key, which signs the
	// requests the fake posts to an interactions endpoint (PostCommand).
	PublicKey  ed25519.PublicKey
	privateKey ed25519.PrivateKey

	// HeartbeatInterval is sent in HELLO (Discord: 41.25 s).
	HeartbeatInterval time.Duration
	// AckTimeout is how long after the dispatch of INTERACTION_CREATE a
	// callback is accepted (Discord: 3 s).
	AckTimeout time.Duration
	// TokenLifetime is how long after its creation (the snowflake time of
	// the interaction id) an interaction token works (Discord: 15 min).
	TokenLifetime time.Duration
	// ClockSkew is how far Discord's clock is ahead of the host's
	// (negative: behind), to test a bot on a host with a wrong clock:
	// interaction ids are minted from time.Now()+ClockSkew, and token
	// lifetimes run on that clock. Zero by default.
	ClockSkew time.Duration

	// Shards is the shard count GET /gateway/bot recommends and IDENTIFY
	// must carry (default 1: none needed); interactions go to the shard
	// of their guild. SessionStartLimit is GET /gateway/bot's
	// session_start_limit. See gatewaybot.go.
	Shards            int
	SessionStartLimit SessionStartLimit

	tb       testing.TB
	ts       *httptest.Server
	wsURL    string
	upgrader websocket.Upgrader
	serial   atomic.Uint64
	wg       sync.WaitGroup // gateway connection handlers

	changed  testkit.Signal // notified on every event
	mu       sync.Mutex
	closed   bool
	requests []Request
	failures []*failure

	gateway gatewayState
	inter   interactionState
	msgs    messageState
	cmds    commandState
}

// NewServer starts a fake Discord. tb.Cleanup closes the gateway
// connections, waits for their handlers and closes the HTTP server.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		HeartbeatInterval: 41250 * time.Millisecond,
		AckTimeout:        3 * time.Second,
		TokenLifetime:     15 * time.Minute,
		Shards:            1,
		SessionStartLimit: SessionStartLimit{Total: 1000, Remaining: 1000, ResetAfter: 14400000, MaxConcurrency: 1},
		tb:                tb,
		upgrader: websocket.Upgrader{
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
	s.AppID = s.newID(time.Now().Add(-400 * 24 * time.Hour))
	s.Token = base64.RawStdEncoding.EncodeToString([]byte(s.AppID)) +
		".G" + rand.Text()[:5] + "." + rand.Text() + rand.Text()[:12]
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatalf("discordtest: generate the application key: %v", err)
	}
	s.PublicKey, s.privateKey = pub, priv
	s.gateway.init()
	s.inter.init()
	s.msgs.init()
	s.cmds.init()

	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.ts.URL
	s.wsURL = "ws" + strings.TrimPrefix(s.ts.URL, "http") + "/gateway"
	tb.Cleanup(s.close)
	return s
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/gateway" || r.URL.Path == "/gateway/" {
		s.serveGateway(w, r)
		return
	}
	s.serveREST(w, r)
}

// close runs at cleanup: it drops every gateway connection, waits for the
// handlers to return, then shuts the HTTP server down.
func (s *Server) close() {
	s.mu.Lock()
	s.closed = true
	conns := s.gateway.takeAll()
	s.notify()
	s.mu.Unlock()
	for _, c := range conns {
		c.ws.Close()
	}
	s.wg.Wait()
	s.ts.Close()
}

// notify wakes every Wait. The caller holds s.mu.
func (s *Server) notify() { s.changed.Notify() }

// Wait returns nil as soon as cond() is true, or the context's error.
// cond is re-checked after every REST request and gateway event the fake
// handles; it may call the Server's methods.
func (s *Server) Wait(ctx context.Context, cond func() bool) error {
	if err := s.changed.Wait(ctx, cond); err != nil {
		return fmt.Errorf("discordtest: %w", err)
	}
	return nil
}

// Requests returns every REST request received so far, in arrival order.
// The returned values share their byte slices with the fake: do not modify.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RequestsSince returns the REST requests received after the first i, in
// arrival order, so a test that follows a long run reads each request once
// (Requests copies them all). Shared byte slices as for Requests.
func (s *Server) RequestsSince(i int) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i >= len(s.requests) {
		return nil
	}
	return append([]Request(nil), s.requests[max(i, 0):]...)
}

// newID returns a fresh snowflake whose timestamp is t.
func (s *Server) newID(t time.Time) string {
	ms := uint64(t.UnixMilli() - discordEpoch)
	return strconv.FormatUint(ms<<22|s.serial.Add(1)&(1<<22-1), 10)
}

// isSnowflake reports whether id looks like a Discord id.
func isSnowflake(id string) bool {
	_, err := strconv.ParseUint(id, 10, 64)
	return err == nil && id != "0" && len(id) <= 20
}

// discordTime formats t the way Discord writes timestamps.
func discordTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000+00:00")
}
