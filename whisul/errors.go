package whisul

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors. Callers test for them with errors.Is; the errors this
// package returns carry more detail (see APIError).
var (
	// ErrInvalidPrompt: Whisul rejected the request body (400), or the
	// prompt was empty and no request was made.
	ErrInvalidPrompt = errors.New("whisul: invalid prompt")
	// ErrUnauthorized: the API key is missing, invalid or expired (401, 403).
	ErrUnauthorized = errors.New("whisul: unauthorized")
	// ErrNotFound: the job does not exist or has expired (404, 410).
	ErrNotFound = errors.New("whisul: job not found")
	// ErrRateLimited: too many requests (429); see RetryAfter.
	ErrRateLimited = errors.New("whisul: rate limited")
	// ErrServer: Whisul answered 5xx.
	ErrServer = errors.New("whisul: server error")
	// ErrNetwork: no HTTP response arrived (connection refused, reset,
	// timeout, ...). The underlying error stays reachable with errors.Is/As.
	ErrNetwork = errors.New("whisul: network error")
	// ErrMalformed: the response could not be understood.
	ErrMalformed = errors.New("whisul: malformed response")
)

// maxBody caps how much of any response body is read.
const maxBody = 1 << 20

// maxErrorText caps the Code and Message copied from an error body, and
// server text in log lines, so a misbehaving server cannot fill logs.
const maxErrorText = 300

// APIError is a non-2xx answer from Whisul.
type APIError struct {
	Op         string // "generate" or "job"
	StatusCode int
	Code       string // Whisul's "error" field, e.g. "Invalid input"
	Message    string // Whisul's "message" field
	// RetryAfter is the server's Retry-After, when it sent a positive one.
	RetryAfter time.Duration
}

// Error reads like
// "whisul: generate: 400 Bad Request: Invalid input: The 'prompt' field is required".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("whisul: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" ")
		b.WriteString(t)
	}
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is maps the status code to the sentinel errors, so callers can write
// errors.Is(err, whisul.ErrRateLimited).
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrInvalidPrompt:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusGone
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServer:
		return e.StatusCode >= 500 && e.StatusCode <= 599
	}
	return false
}

// RetryAfter returns the Retry-After of an APIError anywhere in err's chain.
// It reports false when there is none or it was not positive.
func RetryAfter(err error) (time.Duration, bool) {
	var ae *APIError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		return ae.RetryAfter, true
	}
	return 0, false
}

// opError gives a failure an operation and a kind (one of the sentinels)
// while keeping its cause reachable.
type opError struct {
	op   string
	kind error  // a sentinel, matched by Is
	msg  string // detail, used when err is nil
	err  error  // cause, may be nil
}

func (e *opError) Error() string {
	s := "whisul: " + e.op + ": " + strings.TrimPrefix(e.kind.Error(), "whisul: ")
	if e.msg != "" {
		s += ": " + e.msg
	}
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

func (e *opError) Is(target error) bool { return target == e.kind }
func (e *opError) Unwrap() error        { return e.err }

func malformed(op, format string, args ...any) error {
	return &opError{op: op, kind: ErrMalformed, msg: fmt.Sprintf(format, args...)}
}

// checkResponse reads resp's body (at most maxBody bytes) and decides the
// outcome of one HTTP attempt: the body for a 2xx answer, else an error.
// It is the only place a status code becomes an error. The caller closes
// resp.Body.
//
// An oversized 2xx body is ErrMalformed. For an error status the status
// decides and the body only adds detail, so an oversized or non-JSON error
// body still yields an APIError.
func (c *Client) checkResponse(op string, resp *http.Response) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
	if err != nil && ok {
		return nil, &opError{op: op, kind: ErrNetwork, msg: "reading response body", err: err}
	}
	tooLarge := len(body) > maxBody || err != nil
	if ok {
		if tooLarge {
			return nil, malformed(op, "response too large (over %d bytes)", maxBody)
		}
		return body, nil
	}
	ae := &APIError{Op: op, StatusCode: resp.StatusCode}
	if !tooLarge { // a partial error body is not worth reporting
		code, message := errorFields(body)
		ae.Code = c.scrub(code, maxErrorText)
		ae.Message = c.scrub(message, maxErrorText)
	}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), c.now()); ok {
		ae.RetryAfter = d
	}
	return nil, ae
}

// errorFields extracts Whisul's documented error body,
// {"error": "...", "message": "..."}. A body that is not that (an HTML page
// from a proxy, say) becomes the message, its whitespace collapsed. Both
// are returned whole: the caller redacts, then clips (see Client.scrub).
func errorFields(body []byte) (code, message string) {
	var w struct {
		Error   any `json:"error"`
		Message any `json:"message"`
	}
	if err := json.Unmarshal(body, &w); err == nil {
		code, _ = w.Error.(string)
		message, _ = w.Message.(string)
		if code != "" || message != "" {
			return code, message
		}
	}
	text := strings.Join(strings.Fields(string(body)), " ")
	if text == "" || text == "{}" || text == "null" {
		return "", ""
	}
	return "", text
}

// clip shortens s to n bytes without splitting a rune, marking the cut
// with "...". Server text bound for an error or a Job field goes through
// Client.scrub instead, which redacts the key before clipping.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP-date.
// A date in the past gives 0. It reports false for an absent or unreadable
// value.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > int64(24*time.Hour/time.Second) {
			// Absurdly large: cap at a day rather than overflow.
			return 24 * time.Hour, true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
