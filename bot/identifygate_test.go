package bot

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// gatewayEcho is a TLS websocket server that sends every text message it
// receives to got.
func gatewayEcho(t *testing.T, got chan<- string) (wsURL string, roots *x509.CertPool) {
	t.Helper()
	up := websocket.Upgrader{}
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			got <- strings.TrimSpace(string(msg)) // WriteJSON ends each with a newline
		}
	}))
	t.Cleanup(ts.Close)
	roots = x509.NewCertPool()
	roots.AddCert(ts.Certificate())
	return "wss" + strings.TrimPrefix(ts.URL, "https"), roots
}

func TestIdentifyDialerHoldsLaterIdentifies(t *testing.T) {
	t.Parallel()
	got := make(chan string, 10)
	wsURL, roots := gatewayEcho(t, got)
	gated := make(chan struct{}, 10)
	release := make(chan error)
	d := identifyDialer(&websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: roots}}, func() error {
		gated <- struct{}{}
		return <-release
	})
	c, _, err := d.Dial(wsURL, nil)
	if err != nil {
		t.Fatalf("Dial(%s) = %v", wsURL, err)
	}
	defer c.Close()
	// discordgo's payloads are structs: op comes first.
	type payload struct {
		Op int `json:"op"`
		D  any `json:"d"`
	}
	// The first IDENTIFY goes out at once, as does any other payload.
	if err := c.WriteJSON(payload{2, map[string]any{"token": "x", "shard": []int{0, 1}}}); err != nil {
		t.Fatalf("first IDENTIFY: %v", err)
	}
	if err := c.WriteJSON(payload{1, 7}); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	for _, want := range []string{`{"op":2,"d":{"shard":[0,1],"token":"x"}}`, `{"op":1,"d":7}`} {
		if msg := <-got; msg != want {
			t.Errorf("the gateway got %s; want %s", msg, want)
		}
	}
	if len(gated) != 0 {
		t.Fatalf("the gate was asked %d times before a second IDENTIFY; want never", len(gated))
	}
	// A later IDENTIFY waits for the gate.
	wrote := make(chan error, 1)
	go func() { wrote <- c.WriteJSON(payload{2, map[string]any{"token": "x"}}) }()
	<-gated
	select {
	case msg := <-got:
		t.Fatalf("the gateway got %s while the gate held the IDENTIFY", msg)
	default:
	}
	release <- nil
	if err := <-wrote; err != nil {
		t.Fatalf("second IDENTIFY: %v", err)
	}
	if msg := <-got; msg != `{"op":2,"d":{"token":"x"}}` {
		t.Errorf("the gateway got %s; want the second IDENTIFY", msg)
	}
	// A gate that refuses fails the write.
	go func() { wrote <- c.WriteJSON(payload{2, nil}) }()
	<-gated
	stop := errors.New("stopping")
	release <- stop
	if err := <-wrote; !errors.Is(err, stop) {
		t.Errorf("IDENTIFY refused by the gate: write = %v; want %v", err, stop)
	}
}

func TestIdentifyDialerLeavesAProxiedGatewayAlone(t *testing.T) {
	t.Parallel()
	proxy, _ := url.Parse("http://proxy.example:3128")
	base := &websocket.Dialer{Proxy: http.ProxyURL(proxy)}
	d := identifyDialer(base, func() error { return errors.New("gated") })
	if d.NetDialContext != nil || d.NetDialTLSContext != nil {
		t.Error("identifyDialer wraps the dial of a gateway reached through a proxy; want the dialer as it was")
	}
}

func TestIsIdentifyFrame(t *testing.T) {
	t.Parallel()
	mask := []byte{0x12, 0x34, 0x56, 0x78}
	frame := func(b0 byte, masked bool, payload string) []byte {
		p := []byte{b0}
		n := len(payload)
		var lenByte byte
		var ext []byte
		switch {
		case n < 126:
			lenByte = byte(n)
		case n < 1<<16:
			lenByte, ext = 126, []byte{byte(n >> 8), byte(n)}
		default:
			lenByte = 127
			ext = make([]byte, 8)
			for i := range 8 {
				ext[7-i] = byte(n >> (8 * i))
			}
		}
		if masked {
			lenByte |= 0x80
		}
		p = append(append(p, lenByte), ext...)
		body := []byte(payload)
		if masked {
			p = append(p, mask...)
			for i := range body {
				body[i] ^= mask[i%4]
			}
		}
		return append(p, body...)
	}
	long := `{"op":2,"d":{"token":"` + strings.Repeat("t", 300) + `"}}`
	huge := `{"op":2,"d":{"token":"` + strings.Repeat("t", 70000) + `"}}`
	for _, tt := range []struct {
		name string
		p    []byte
		want bool
	}{
		{"identify", frame(0x81, true, `{"op":2,"d":{}}`), true},
		{"identify with a 16-bit length", frame(0x81, true, long), true},
		{"identify with a 64-bit length", frame(0x81, true, huge), true},
		{"heartbeat", frame(0x81, true, `{"op":1,"d":null}`), false},
		{"resume", frame(0x81, true, `{"op":6,"d":{}}`), false},
		{"op 2 in a binary frame", frame(0x82, true, `{"op":2,"d":{}}`), false},
		{"unmasked, as a server writes", frame(0x81, false, `{"op":2,"d":{}}`), false},
		{"close frame", frame(0x88, true, "\x03\xe8"), false},
		{"too short", []byte{0x81}, false},
		{"cut off", frame(0x81, true, `{"op":2,"d":{}}`)[:8], false},
	} {
		if got := isIdentifyFrame(tt.p); got != tt.want {
			t.Errorf("isIdentifyFrame(%s) = %t; want %t", tt.name, got, tt.want)
		}
	}
}

func FuzzIsIdentifyFrame(f *testing.F) {
	f.Add([]byte{0x81, 0x8f, 1, 2, 3, 4, '{', '"', 'o', 'p', '"', ':', '2', ','})
	f.Add([]byte{0x81, 0xfe, 0, 200, 1, 2, 3, 4})
	f.Add([]byte{0x81, 0xff, 0, 0, 0, 0, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		if isIdentifyFrame(p) && (p[0]&0x0f != websocket.TextMessage || p[1]&0x80 == 0 || len(p) < 14) {
			t.Errorf("isIdentifyFrame(% x) = true for a frame that is not a masked text frame with an IDENTIFY's first bytes", p)
		}
	})
}
