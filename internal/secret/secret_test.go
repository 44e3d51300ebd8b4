package secret_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/songbot-dev/songbot/internal/secret"
)

const key = "sk-live-0123456789"

func TestValueNeverPrints(t *testing.T) {
	t.Parallel()
	v := secret.New(key)
	holder := struct{ Key secret.Value }{v}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "key", v, "holder", holder)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "key", v)
	js, err := json.Marshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	out := fmt.Sprintf("%v %+v %#v %s %q %x %d", v, holder, holder, v, v, v, v) + logs.String() + string(js)
	if strings.Contains(out, key) {
		t.Errorf("printing a secret shows it: %s", out)
	}
	if got := v.Reveal(); got != key {
		t.Errorf("Reveal() = %q; want %q", got, key)
	}
}

func TestValueDecodeAndZero(t *testing.T) {
	t.Parallel()
	var v secret.Value
	if !v.IsZero() || v.Reveal() != "" {
		t.Errorf("zero Value: IsZero() = %v, Reveal() = %q; want true, empty", v.IsZero(), v.Reveal())
	}
	if err := v.Decode(key); err != nil || v.Reveal() != key || v.IsZero() {
		t.Errorf("after Decode(%q): Reveal() = %q, IsZero() = %v, err %v", key, v.Reveal(), v.IsZero(), err)
	}
}

func TestScrub(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text    string
		secrets []string
		want    string
	}{
		{"token " + key + " and " + key, []string{key}, "token [redacted] and [redacted]"},
		{"abc appears", []string{"abc"}, "abc appears"}, // too short to replace
		{"a:pw1234@b", []string{"", "pw1234"}, "a:[redacted]@b"},
	}
	for _, tt := range tests {
		if got := secret.Scrub(tt.text, tt.secrets...); got != tt.want {
			t.Errorf("Scrub(%q, %q) = %q; want %q", tt.text, tt.secrets, got, tt.want)
		}
	}
}

func TestURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, want string }{
		{"redis://user:pw@host:6379/0?password=x#f", "redis://host:6379/0"},
		{"https://whisul.com/api", "https://whisul.com/api"},
		{"://bad", "(unparsable URL)"},
	}
	for _, tt := range tests {
		if got := secret.URL(tt.raw); got != tt.want {
			t.Errorf("URL(%q) = %q; want %q", tt.raw, got, tt.want)
		}
	}
}

func TestWithoutURL(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there now
	_, err := http.Get(addr + "/webhooks/1/" + key + "?sig=" + key)
	if err == nil {
		t.Fatal("GET of a closed server succeeded")
	}
	wrapped := fmt.Errorf("deliver: %w", err)
	if got := secret.WithoutURL(wrapped); got == nil || strings.Contains(got.Error(), key) || strings.Contains(got.Error(), addr) {
		t.Errorf("WithoutURL(%v) = %v; want the cause without the URL", wrapped, got)
	}
	if op, cause := secret.SplitURLError(wrapped); op != "Get" || cause == nil || strings.Contains(cause.Error(), key) {
		t.Errorf("SplitURLError = %q, %v; want Get and the cause without the URL", op, cause)
	}
	plain := errors.New("no URL here")
	if got := secret.WithoutURL(plain); got != plain {
		t.Errorf("WithoutURL(%v) = %v; want it unchanged", plain, got)
	}
	if op, cause := secret.SplitURLError(plain); op != "" || cause != plain {
		t.Errorf("SplitURLError(%v) = %q, %v; want \"\" and it unchanged", plain, op, cause)
	}
}

func TestHandlerAndWriter(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	log := slog.New(secret.Handler(slog.NewTextHandler(&out, nil), key))
	log.With("pre", key).WithGroup("g").Info("msg "+key, "s", key, "err", fmt.Errorf("wrap %s", key), slog.Group("inner", "k", key))
	w := secret.Writer(&out, key)
	if n, err := fmt.Fprintf(w, "line %s\n", key); err != nil || n != len("line ")+len(key)+1 {
		t.Errorf("Writer.Write = %d, %v; want the input length and no error", n, err)
	}
	if strings.Contains(out.String(), key) {
		t.Errorf("output shows the secret: %s", out.String())
	}
	if got := strings.Count(out.String(), secret.Redacted); got != 6 {
		t.Errorf("output has %d redactions; want 6:\n%s", got, out.String())
	}
}
