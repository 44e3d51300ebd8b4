package bot

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// TestPooledTransportReusesConnections sends two rounds of 20 requests at
// once, as many songs finishing together do: the second round must go
// over the first round's connections. Go's default transport keeps two
// idle per host, so it would open 18 new ones.
func TestPooledTransportReusesConnections(t *testing.T) {
	t.Parallel()
	const n = 20
	var opened atomic.Int32
	var arrived sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		arrived.Done()
		arrived.Wait() // every request of the round is in flight at once
		io.WriteString(w, "audio")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	client := &http.Client{Transport: pooledTransport()}
	round := func() {
		arrived.Add(n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				resp, err := client.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
		wg.Wait()
	}
	round()
	first := opened.Load()
	round()
	if again := opened.Load() - first; first != n || again != 0 {
		t.Errorf("opened %d connections for the first %d requests and %d more for the next %d; want %d, then none", first, n, again, n, n)
	}
}
