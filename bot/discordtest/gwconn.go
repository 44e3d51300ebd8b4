package discordtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// maxReplay is how many dispatches a session keeps for RESUME.
const maxReplay = 4096

// gwSession is a gateway session: it outlives its connection, and a RESUME
// on a new connection replays the dispatches the client missed, as Discord
// does.
type gwSession struct {
	id    string
	shard int // the shard it identified as; fixed for its life

	mu     sync.Mutex
	conn   *gwConn // the connection the session is on
	seq    int64
	replay []sentFrame // recent dispatches, for RESUME
}

type sentFrame struct {
	seq  int64
	data []byte
}

// gwConn is one gateway websocket.
type gwConn struct {
	ws      *websocket.Conn
	version int

	wmu sync.Mutex // serializes writes; taken before gwSession.mu

	// guarded by Server.mu
	ready   bool // can receive dispatches
	session *gwSession
}

type frame struct {
	Op int     `json:"op"`
	D  any     `json:"d"`
	S  *int64  `json:"s"`
	T  *string `json:"t"`
}

// errMoved says a session's connection changed under a dispatch.
var errMoved = errors.New("discordtest: session moved to another connection")

func (c *gwConn) write(data []byte) error {
	c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, data)
}

// send writes a payload that is not a dispatch.
func (c *gwConn) send(op int, d any) error {
	data, err := json.Marshal(frame{Op: op, D: d})
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.write(data)
}

// dispatch writes an event (op 0) with the session's next sequence number,
// keeping it for replay unless it is READY or RESUMED. before, if not nil,
// runs just before the write.
func (c *gwConn) dispatch(sess *gwSession, t string, d any, before func()) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	sess.mu.Lock()
	if sess.conn != c {
		sess.mu.Unlock()
		return errMoved
	}
	sess.seq++
	seq := sess.seq
	data, err := json.Marshal(frame{Op: 0, D: d, S: &seq, T: &t})
	if err == nil && t != "READY" && t != "RESUMED" {
		sess.replay = append(sess.replay, sentFrame{seq, data})
		if len(sess.replay) > maxReplay {
			sess.replay = slices.Delete(sess.replay, 0, len(sess.replay)-maxReplay)
		}
	}
	sess.mu.Unlock()
	if err != nil {
		return err
	}
	if before != nil {
		before()
	}
	if err := c.write(data); err != nil {
		return writeError{err}
	}
	return nil
}

// writeError is a failed write of a dispatch that the session kept: a
// RESUME replays it.
type writeError struct{ err error }

func (e writeError) Error() string { return "discordtest: gateway write: " + e.err.Error() }
func (e writeError) Unwrap() error { return e.err }

// closeWith sends a close frame with a gateway close code, then drops the
// connection.
func (c *gwConn) closeWith(code int, text string) {
	c.wmu.Lock()
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	c.wmu.Unlock()
	c.ws.Close()
}

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c := &gwConn{ws: ws, version: 9}
	switch v := r.URL.Query().Get("v"); v {
	case "", "9":
	case "10":
		c.version = 10
	default:
		c.closeWith(closeInvalidAPIVersion, "Invalid API version.")
		return
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close()
		return
	}
	s.gateway.conns = append(s.gateway.conns, c)
	s.notify()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.gateway.remove(c)
		s.notify()
		s.mu.Unlock()
		ws.Close()
	}()

	if c.send(10, map[string]any{"heartbeat_interval": s.HeartbeatInterval.Milliseconds()}) != nil {
		return
	}
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return // the client closed, DropConnections, or cleanup
		}
		var p struct {
			Op *int            `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if json.Unmarshal(data, &p) != nil || p.Op == nil {
			c.closeWith(closeDecodeError, "Error while decoding payload.")
			return
		}
		if !s.handleOp(c, *p.Op, p.D) {
			return
		}
	}
}

// handleOp answers one client payload; false ends the connection.
func (s *Server) handleOp(c *gwConn, op int, d json.RawMessage) bool {
	s.mu.Lock()
	authed := c.session != nil
	s.notify()
	s.mu.Unlock()
	switch op {
	case 1: // HEARTBEAT
		return c.send(11, nil) == nil
	case 2: // IDENTIFY
		return s.identify(c, d, authed)
	case 6: // RESUME
		return s.resume(c, d, authed)
	case 3, 4, 8: // presence, voice state, request guild members
		if !authed {
			c.closeWith(closeNotAuthenticated, "Not authenticated.")
			return false
		}
		return true
	default:
		c.closeWith(closeUnknownOpcode, "Unknown opcode.")
		return false
	}
}

func (s *Server) identify(c *gwConn, raw json.RawMessage, authed bool) bool {
	var d struct {
		Token   string  `json:"token"`
		Intents int     `json:"intents"`
		Shard   *[2]int `json:"shard"`
	}
	if json.Unmarshal(raw, &d) != nil {
		c.closeWith(closeDecodeError, "Error while decoding payload.")
		return false
	}
	shard := [2]int{0, 1}
	if d.Shard != nil {
		shard = *d.Shard
	}
	s.mu.Lock()
	s.gateway.identifies = append(s.gateway.identifies, Identify{Token: d.Token, Intents: d.Intents, Shard: shard, Time: time.Now()})
	shards := max(s.Shards, 1)
	s.notify()
	s.mu.Unlock()

	switch {
	case authed:
		c.closeWith(closeAlreadyAuthed, "Already authenticated.")
		return false
	case strings.TrimPrefix(d.Token, "Bot ") != s.Token:
		c.closeWith(closeAuthFailed, "Authentication failed.")
		return false
	case d.Intents&privilegedIntents != 0:
		c.closeWith(closeDisallowedIntents, "Disallowed intent(s).")
		return false
	case shards > 1 && d.Shard == nil:
		c.closeWith(closeShardingRequired, "Sharding required.")
		return false
	case shard[1] != shards || shard[0] < 0 || shard[0] >= shard[1]:
		c.closeWith(closeInvalidShard, "Invalid shard.")
		return false
	}

	sess := &gwSession{id: hex.EncodeToString([]byte(rand.Text())[:16]), shard: shard[0], conn: c}
	ready := map[string]any{
		"v":                  c.version,
		"user":               s.botUser(),
		"guilds":             []any{},
		"private_channels":   []any{},
		"relationships":      []any{},
		"presences":          []any{},
		"session_id":         sess.id,
		"session_type":       "normal",
		"resume_gateway_url": s.wsURL,
		"application":        map[string]any{"id": s.AppID, "flags": 0},
		"shard":              shard,
		"_trace":             []string{`["gateway-prd-fake",{"micros":0}]`},
	}
	if c.dispatch(sess, "READY", ready, nil) != nil {
		return false
	}
	s.mu.Lock()
	c.session, c.ready = sess, true
	s.gateway.sessions[sess.id] = sess
	s.notify()
	s.mu.Unlock()
	return true
}

func (s *Server) resume(c *gwConn, raw json.RawMessage, authed bool) bool {
	var d struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	if json.Unmarshal(raw, &d) != nil {
		c.closeWith(closeDecodeError, "Error while decoding payload.")
		return false
	}
	if authed {
		c.closeWith(closeAlreadyAuthed, "Already authenticated.")
		return false
	}
	if strings.TrimPrefix(d.Token, "Bot ") != s.Token {
		c.closeWith(closeAuthFailed, "Authentication failed.")
		return false
	}
	s.mu.Lock()
	sess := s.gateway.sessions[d.SessionID]
	s.mu.Unlock()
	if sess == nil {
		// INVALID_SESSION, not resumable: the client must identify again.
		return c.send(9, false) == nil
	}

	// Move the session here first, so no dispatch goes to the old
	// connection after the replay is chosen.
	c.wmu.Lock()
	sess.mu.Lock()
	old := sess.conn
	sess.conn = c
	var frames [][]byte
	complete := len(sess.replay) == 0 || sess.replay[0].seq <= d.Seq+1
	for _, f := range sess.replay {
		if f.seq > d.Seq {
			frames = append(frames, f.data)
		}
	}
	sess.mu.Unlock()
	c.wmu.Unlock()
	s.mu.Lock()
	if old != nil && old != c {
		s.gateway.remove(old)
		defer old.ws.Close()
	}
	s.mu.Unlock()
	if !complete || d.Seq > sess.lastSeq() {
		return c.send(9, false) == nil
	}

	c.wmu.Lock()
	for _, f := range frames {
		if c.write(f) != nil {
			c.wmu.Unlock()
			return false
		}
	}
	c.wmu.Unlock()
	if c.dispatch(sess, "RESUMED", map[string]any{"_trace": []string{`["gateway-prd-fake",{"micros":0}]`}}, nil) != nil {
		return false
	}
	s.mu.Lock()
	c.session, c.ready = sess, true
	s.gateway.resumes++
	s.notify()
	s.mu.Unlock()
	return true
}

func (sess *gwSession) lastSeq() int64 {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	return sess.seq
}
