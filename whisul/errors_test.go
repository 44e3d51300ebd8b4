package whisul

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAPIErrorError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *APIError
		want string
	}{
		{&APIError{Op: "generate", StatusCode: 400, Code: "Invalid input", Message: "The 'prompt' field is required"},
			"whisul: generate: 400 Bad Request: Invalid input: The 'prompt' field is required"},
		{&APIError{Op: "job", StatusCode: 404, Code: "Not found"}, "whisul: job: 404 Not Found: Not found"},
		{&APIError{Op: "job", StatusCode: 502}, "whisul: job: 502 Bad Gateway"},
		{&APIError{Op: "job", StatusCode: 599, Message: "odd"}, "whisul: job: 599: odd"},
		{&APIError{StatusCode: 500}, "whisul: 500 Internal Server Error"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("(%+v).Error() = %q; want %q", *tt.err, got, tt.want)
		}
	}
}

func TestAPIErrorIs(t *testing.T) {
	t.Parallel()
	sentinels := []error{ErrInvalidPrompt, ErrUnauthorized, ErrNotFound, ErrRateLimited, ErrServer, ErrNetwork, ErrMalformed}
	tests := []struct {
		status int
		want   error // nil: matches none
	}{
		{400, ErrInvalidPrompt},
		{401, ErrUnauthorized},
		{403, ErrUnauthorized},
		{404, ErrNotFound},
		{410, ErrNotFound},
		{429, ErrRateLimited},
		{500, ErrServer},
		{503, ErrServer},
		{599, ErrServer},
		{405, nil},
		{418, nil},
		{302, nil},
	}
	for _, tt := range tests {
		err := fmt.Errorf("wrapped: %w", &APIError{Op: "job", StatusCode: tt.status})
		for _, s := range sentinels {
			if got := errors.Is(err, s); got != (s == tt.want) {
				t.Errorf("errors.Is(APIError %d, %v) = %v; want %v", tt.status, s, got, !got)
			}
		}
	}
}

func TestRetryAfterFromChain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err    error
		want   time.Duration
		wantOK bool
	}{
		{&APIError{StatusCode: 429, RetryAfter: 3 * time.Second}, 3 * time.Second, true},
		{fmt.Errorf("a: %w", fmt.Errorf("b: %w", &APIError{StatusCode: 503, RetryAfter: time.Minute})), time.Minute, true},
		{&APIError{StatusCode: 429}, 0, false},
		{errors.New("x"), 0, false},
		{nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := RetryAfter(tt.err)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("RetryAfter(%v) = %v, %v; want %v, %v", tt.err, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 2, 17, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"1", time.Second, true},
		{"0", 0, true},
		{" 120 ", 2 * time.Minute, true},
		{"99999999999999999999", 24 * time.Hour, true},
		{"Tue, 17 Feb 2026 15:00:30 GMT", 30 * time.Second, true}, // IMF-fixdate
		{"Tuesday, 17-Feb-26 15:01:00 GMT", time.Minute, true},    // RFC 850
		{"Tue Feb 17 15:00:05 2026", 5 * time.Second, true},       // asctime
		{"Tue, 17 Feb 2026 14:00:00 GMT", 0, true},                // past
		{"", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"2026-02-17T15:00:30Z", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{
		"1", "0", " 120 ", "99999999999999999999", "Tue, 17 Feb 2026 15:00:30 GMT",
		"Tuesday, 17-Feb-26 15:01:00 GMT", "Tue Feb 17 15:00:05 2026", "Tue, 17 Feb 2026 14:00:00 GMT",
		"", "-1", "1.5", "soon", "2026-02-17T15:00:30Z", "Fri, 31 Dec 9999 23:59:59 GMT", "+5", "0x10",
	} {
		f.Add(s)
	}
	now := time.Date(2026, 2, 17, 15, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("parseRetryAfter(%q) = %v, %v", v, d, ok)
		}
		if isDigits(strings.TrimSpace(v)) && (!ok || d > 24*time.Hour) {
			t.Fatalf("parseRetryAfter(%q) = %v, %v; want seconds capped at 24h", v, d, ok)
		}
	})
}

func TestCheckResponse(t *testing.T) {
	t.Parallel()
	c := newClient(t, Options{APIKey: "sekret-key"})
	c.now = func() time.Time { return time.Date(2026, 2, 17, 15, 0, 0, 0, time.UTC) }
	big := strings.Repeat("x", maxBody+1)
	tests := []struct {
		name       string
		status     int
		header     string // Retry-After
		body       string
		wantBody   string
		wantErr    error
		wantString string // substring of the error
		wantRA     time.Duration
	}{
		{"ok", 200, "", `{"a":1}`, `{"a":1}`, nil, "", 0},
		{"accepted", 202, "", `{}`, `{}`, nil, "", 0},
		{"ok at the cap", 200, "", big[:maxBody], big[:maxBody], nil, "", 0},
		{"ok too large", 200, "", big, "", ErrMalformed, "response too large", 0},
		{"400", 400, "", `{"error":"Invalid input","message":"The 'prompt' field is required"}`, "", ErrInvalidPrompt,
			"whisul: generate: 400 Bad Request: Invalid input: The 'prompt' field is required", 0},
		{"429 seconds", 429, "7", `{"error":"Too many requests"}`, "", ErrRateLimited, "429 Too Many Requests: Too many requests", 7 * time.Second},
		{"503 date", 503, "Tue, 17 Feb 2026 15:01:00 GMT", ``, "", ErrServer, "503 Service Unavailable", time.Minute},
		{"500 html", 500, "", "<html>\n<body>Bad   gateway</body></html>", "", ErrServer, "500 Internal Server Error: <html> <body>Bad gateway</body></html>", 0},
		{"500 too large", 500, "", big, "", ErrServer, "500 Internal Server Error", 0},
		{"401 echoes key", 401, "", `{"error":"Unauthorized","message":"key sekret-key is invalid"}`, "", ErrUnauthorized, "key [redacted] is invalid", 0},
		{"long message", 404, "", `{"message":"` + strings.Repeat("é", 400) + `"}`, "", ErrNotFound, "é...", 0},
	}
	for _, tt := range tests {
		resp := &http.Response{StatusCode: tt.status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(tt.body))}
		if tt.header != "" {
			resp.Header.Set("Retry-After", tt.header)
		}
		body, err := c.checkResponse("generate", resp)
		if string(body) != tt.wantBody || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("checkResponse(%s) = %.40q, %v; want %.40q, %v", tt.name, body, err, tt.wantBody, tt.wantErr)
			continue
		}
		if err == nil {
			continue
		}
		if !strings.Contains(err.Error(), tt.wantString) || strings.Contains(err.Error(), "sekret-key") {
			t.Errorf("checkResponse(%s) error = %q; want it to contain %q and not the key", tt.name, err, tt.wantString)
		}
		if len(err.Error()) > 2*maxErrorText+100 {
			t.Errorf("checkResponse(%s) error is %d bytes long", tt.name, len(err.Error()))
		}
		if ra, _ := RetryAfter(err); ra != tt.wantRA {
			t.Errorf("RetryAfter(checkResponse(%s)) = %v; want %v", tt.name, ra, tt.wantRA)
		}
	}
}

func TestOpErrorUnwraps(t *testing.T) {
	t.Parallel()
	cause := errors.New("connection reset")
	err := fmt.Errorf("outer: %w", &opError{op: "job", kind: ErrNetwork, err: cause})
	if !errors.Is(err, ErrNetwork) || !errors.Is(err, cause) || errors.Is(err, ErrServer) {
		t.Errorf("opError chain: Is(ErrNetwork), Is(cause), Is(ErrServer) = %v, %v, %v; want true, true, false",
			errors.Is(err, ErrNetwork), errors.Is(err, cause), errors.Is(err, ErrServer))
	}
	if got, want := err.Error(), "outer: whisul: job: network error: connection reset"; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
}

// TestCheckResponseRedactsBeforeClipping puts the key across the clip
// boundary, where clipping first would leave a piece of it behind.
func TestCheckResponseRedactsBeforeClipping(t *testing.T) {
	t.Parallel()
	c := newClient(t, Options{APIKey: key})
	for _, at := range []int{maxErrorText - 10, maxErrorText - len(key) + 1, maxErrorText - 1} {
		pad := strings.Repeat("a", at)
		bodies := map[string]string{
			"message": `{"error":"Invalid input","message":"` + pad + key + ` is not allowed"}`,
			"code":    `{"error":"` + pad + key + `","message":"x"}`,
			"html":    "<p>" + pad[3:] + key + " is not allowed</p>",
		}
		for name, body := range bodies {
			resp := &http.Response{StatusCode: 400, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
			_, err := c.checkResponse("generate", resp)
			if err == nil || strings.Contains(err.Error(), key[:10]) {
				t.Errorf("checkResponse(%s with the key at %d) = %v; want an error without any of %q", name, at, err, key[:10])
			}
		}
	}
}
