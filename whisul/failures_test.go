package whisul

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Whole-client failure cases against hand-written servers: malformed and
// oversized bodies, and the API key never appearing in an error.

func TestMalformedResponses(t *testing.T) {
	t.Parallel()
	huge := `{"status":"running","prompt":"` + strings.Repeat("x", maxBody) + `"}`
	tests := []struct {
		op, body, wantMsg string
		status            int
	}{
		{"job", `{"status":"running"`, "invalid JSON", 200},
		{"job", `null`, "not a JSON object", 200},
		{"job", `{"status":true}`, "status missing or not a string", 200},
		{"job", `{"status":"completed","result":[1]}`, "no result object", 200},
		{"job", `{"status":"completed","result":{"title":"x"}}`, "song_url", 200},
		{"job", huge, "response too large", 200},
		{"job", ``, "empty body", 200},
		{"job", "<!DOCTYPE html><html><body>Down for maintenance</body></html>", "", 200},
		{"job", `{"status":"completed","result":{"song_url":5,"title":["x"]}}`, "", 200},
		{"generate", `{"message":"ok"}`, "job_id missing", 202},
		{"generate", `{"job_id":42}`, "job_id missing, empty or not a string", 202},
		{"generate", `<html>Accepted</html>`, "not a JSON object", 202},
		{"generate", `{"job_id":"x","pad":"` + strings.Repeat("y", maxBody) + `"}`, "response too large", 202},
	}
	for _, tt := range tests {
		base, n := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tt.status)
			w.Write([]byte(tt.body))
		})
		c := newClient(t, Options{BaseURL: base, APIKey: key})
		var err error
		if tt.op == "generate" {
			_, err = c.Generate(t.Context(), "song")
		} else {
			_, err = c.Job(t.Context(), "id", "")
		}
		if !errors.Is(err, ErrMalformed) || !strings.Contains(fmt.Sprint(err), tt.wantMsg) {
			t.Errorf("%s with body %.60q = %v; want ErrMalformed mentioning %q", tt.op, tt.body, err, tt.wantMsg)
		}
		if got := len(n.get()); got != 1 {
			t.Errorf("%s with body %.60q made %d requests; want 1 (malformed is not retried)", tt.op, tt.body, got)
		}
	}
}

// TestKeyNeverInErrors provokes every kind of failure, against servers that
// echo the Authorization header back, and checks no error shows the key.
func TestKeyNeverInErrors(t *testing.T) {
	t.Parallel()
	echo := func(status int) string {
		base, _ := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error":%q,"message":"you sent %s"}`, r.Header.Get("Authorization"), r.Header.Get("Authorization"))
		})
		return base
	}
	var errs []error
	add := func(_ any, err error) { errs = append(errs, err) }

	for _, status := range []int{200, 202, 400, 401, 403, 404, 429, 500, 503} {
		c := newClient(t, Options{BaseURL: echo(status), APIKey: key, MaxRetries: 1})
		add(c.Generate(t.Context(), "song"))
		add(c.Job(t.Context(), "id", ""))
	}
	c := newClient(t, Options{BaseURL: echo(200), APIKey: key})
	add(c.Generate(t.Context(), " "))
	add(c.Job(t.Context(), "", ""))

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	closed := newClient(t, Options{BaseURL: "http://" + l.Addr().String() + "/api", APIKey: key, MaxRetries: 1})
	add(closed.Generate(t.Context(), "song"))
	add(closed.Job(t.Context(), "id", ""))

	hang, _ := rawServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	slow := newClient(t, Options{BaseURL: hang, APIKey: key})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	add(slow.Job(ctx, "id", ""))
	cancelled, cancel2 := context.WithCancel(t.Context())
	cancel2()
	add(slow.Generate(cancelled, "song"))

	for _, k := range []string{key + "\n", " " + key} {
		add(New(Options{APIKey: k}))
	}
	add(New(Options{APIKey: key, BaseURL: "ftp://whisul.test/api"}))

	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: no error; want one", i)
			continue
		}
		for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			if s := fmt.Sprintf(format, err); strings.Contains(s, key) {
				t.Errorf("case %d: fmt.Sprintf(%q, err) shows the key: %s", i, format, s)
			}
		}
	}
}
