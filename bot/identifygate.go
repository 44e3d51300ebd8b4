package bot

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"

	"github.com/gorilla/websocket"
)

// discordgo IDENTIFYs on its own, from its read loop, when Discord answers
// INVALID_SESSION (op 9), as it does to a RESUME after an outage, and
// nothing in its API comes in between. Discord allows max_concurrency
// IDENTIFYs per 5 seconds; an outage that invalidates every session would
// have every shard of every process IDENTIFY at once. So each shard's
// session dials the gateway through identifyDialer, whose connections
// look at each frame the session writes and hold an IDENTIFY, after the
// shard's first (which openShards reserves before it opens the session),
// until gate lets it go.

// identifyPrefix opens an IDENTIFY as discordgo encodes it.
var identifyPrefix = []byte(`{"op":2,`)

// identifyDialer returns a copy of base whose connections call gate
// before they write an IDENTIFY, except the first one written on any of
// them; an error from gate fails the write, and so the connection. A
// gateway reached through a proxy is dialed as base dials it, ungated:
// the TLS the dialer would then wrap is the proxy's business.
func identifyDialer(base *websocket.Dialer, gate func() error) *websocket.Dialer {
	d := *base
	if d.Proxy != nil {
		if u, _ := d.Proxy(&http.Request{URL: &url.URL{Scheme: "https", Host: "gateway.discord.gg"}}); u != nil {
			return &d
		}
	}
	var sent atomic.Bool // the first IDENTIFY went out
	wrap := func(c net.Conn) net.Conn {
		return &identifyConn{Conn: c, gate: func() error {
			if !sent.Swap(true) {
				return nil
			}
			return gate()
		}}
	}
	dial := d.NetDialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return wrap(c), nil
	}
	// For wss:// the frames must be read before TLS encrypts them, so the
	// handshake is made here, as the websocket package would make it.
	d.NetDialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cfg := &tls.Config{}
		if d.TLSClientConfig != nil {
			cfg = d.TLSClientConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		return wrap(tc), nil
	}
	return &d
}

// identifyConn is a gateway connection that calls gate before it writes an
// IDENTIFY frame.
type identifyConn struct {
	net.Conn
	gate func() error
}

// Write holds an IDENTIFY frame until gate lets it go. The websocket
// package writes each frame with one Write, header first.
func (c *identifyConn) Write(p []byte) (int, error) {
	if isIdentifyFrame(p) {
		if err := c.gate(); err != nil {
			return 0, err
		}
	}
	return c.Conn.Write(p)
}

// isIdentifyFrame reports whether p is a masked text frame, as a client
// writes it, whose payload opens as an IDENTIFY.
func isIdentifyFrame(p []byte) bool {
	if len(p) < 2 || p[0]&0x0f != websocket.TextMessage || p[1]&0x80 == 0 {
		return false
	}
	head := 2
	switch n := p[1] & 0x7f; {
	case n == 126:
		head += 2
	case n == 127:
		head += 8
	case int(n) < len(identifyPrefix):
		return false
	}
	if len(p) < head+4+len(identifyPrefix) {
		return false
	}
	mask := p[head : head+4]
	payload := make([]byte, len(identifyPrefix))
	for i := range payload {
		payload[i] = p[head+4+i] ^ mask[i%4]
	}
	return bytes.Equal(payload, identifyPrefix)
}
