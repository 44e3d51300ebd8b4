package discordtest

import (
	"context"
	"errors"
	"time"
)

// Gateway close codes the fake uses, as documented by Discord.
const (
	closeUnknownOpcode     = 4001
	closeDecodeError       = 4002
	closeNotAuthenticated  = 4003
	closeAuthFailed        = 4004
	closeAlreadyAuthed     = 4005
	closeInvalidShard      = 4010
	closeShardingRequired  = 4011
	closeInvalidAPIVersion = 4012
	closeDisallowedIntents = 4014
)

// privilegedIntents are GUILD_MEMBERS, GUILD_PRESENCES and MESSAGE_CONTENT.
// The application has none enabled: an IDENTIFY asking for one is closed
// with 4014, as Discord does.
const privilegedIntents = 1<<1 | 1<<8 | 1<<15

// Identify is one IDENTIFY (op 2) the fake received.
type Identify struct {
	Token   string // raw, as sent (with or without "Bot ")
	Intents int
	// Shard is the shard field, [id, count]; [0, 1] when it was left out.
	Shard [2]int
	Time  time.Time
}

type gatewayState struct {
	conns      []*gwConn // open connections, in connection order
	sessions   map[string]*gwSession
	identifies []Identify
	resumes    int // RESUMED payloads sent
	next       int // round robin over ready connections
}

func (g *gatewayState) init() { g.sessions = map[string]*gwSession{} }

// takeAll removes and returns every open connection. The caller holds s.mu.
func (g *gatewayState) takeAll() []*gwConn {
	conns := g.conns
	g.conns = nil
	for _, c := range conns {
		c.ready = false
	}
	return conns
}

func (g *gatewayState) remove(c *gwConn) {
	c.ready = false
	for i, o := range g.conns {
		if o == c {
			g.conns = append(g.conns[:i:i], g.conns[i+1:]...)
			return
		}
	}
}

// botUser is the bot's user object.
func (s *Server) botUser() map[string]any {
	return map[string]any{
		"id":            s.AppID,
		"username":      "songbot",
		"discriminator": "0",
		"global_name":   nil,
		"avatar":        nil,
		"bot":           true,
		"public_flags":  0,
		"flags":         0,
		"verified":      true,
		"mfa_enabled":   false,
		"email":         nil,
	}
}

// Identifies returns every IDENTIFY received, valid or not.
func (s *Server) Identifies() []Identify {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Identify(nil), s.gateway.identifies...)
}

// Sessions returns the number of open gateway connections that have been
// sent READY or RESUMED, i.e. that can receive dispatches.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.gateway.conns {
		if c.ready {
			n++
		}
	}
	return n
}

// Resumes returns how many RESUMEs the fake accepted.
func (s *Server) Resumes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gateway.resumes
}

// dispatchTo sends an event to one ready connection of shard (of any
// shard when shard is negative), waiting for one if there is none. sent
// runs just before the write, under no lock of the Server.
func (s *Server) dispatchTo(ctx context.Context, shard int, t string, d any, sent func()) error {
	for {
		var c *gwConn
		var sess *gwSession
		err := s.Wait(ctx, func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			c = s.gateway.pick(shard)
			if c != nil {
				sess = c.session
			}
			return c != nil
		})
		if err != nil {
			return err
		}
		err = c.dispatch(sess, t, d, sent)
		if errors.Is(err, errMoved) {
			continue // the session resumed elsewhere: pick again
		}
		var we writeError
		if errors.As(err, &we) {
			// The connection died under us. The event belongs to the
			// session now, as on Discord: a RESUME replays it.
			s.mu.Lock()
			s.gateway.remove(c)
			s.notify()
			s.mu.Unlock()
			c.ws.Close()
			return nil
		}
		return err
	}
}

// pick returns the next ready connection of shard (any shard if it is
// negative), round robin. The caller holds s.mu.
func (g *gatewayState) pick(shard int) *gwConn {
	n := len(g.conns)
	for i := range n {
		c := g.conns[(g.next+i)%n]
		if c.ready && (shard < 0 || c.session.shard == shard) {
			g.next = (g.next + i + 1) % n
			return c
		}
	}
	return nil
}

// DropConnections closes every gateway connection at once without a close
// frame, as a network failure does. The sessions stay: a client that
// RESUMEs gets the dispatches it missed.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := s.gateway.takeAll()
	s.notify()
	s.mu.Unlock()
	for _, c := range conns {
		c.ws.Close()
	}
}

// InvalidateSessions ends every session, as Discord does when it lost
// them: it forgets them and sends op 9 INVALID_SESSION (not resumable) on
// their connections, where each client must IDENTIFY again.
func (s *Server) InvalidateSessions() error { return s.sendToReady(9, false, true) }

// SendReconnect sends op 7 RECONNECT on every ready connection, as Discord
// does before it moves a session: the client should close and RESUME.
func (s *Server) SendReconnect() error { return s.sendToReady(7, nil, false) }

// sendToReady sends op with d on every ready connection, ending their
// sessions first when end is true.
func (s *Server) sendToReady(op int, d any, end bool) error {
	s.mu.Lock()
	var conns []*gwConn
	for _, c := range s.gateway.conns {
		if c.ready {
			conns = append(conns, c)
			if end {
				delete(s.gateway.sessions, c.session.id)
				c.session, c.ready = nil, false
			}
		}
	}
	s.notify()
	s.mu.Unlock()
	var errs []error
	for _, c := range conns {
		if err := c.send(op, d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
