// Package secret keeps tokens, keys and passwords out of logs, errors and
// messages: one type that never prints its value, and the helpers that
// remove a known secret from text on its way out.
package secret

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
)

// Redacted is what every secret prints as.
const Redacted = "[redacted]"

// minLen is the shortest value Scrub replaces: replacing one or two
// letters everywhere would garble text without protecting anything.
const minLen = 4

// Value holds a secret behind a pointer, so even printing a struct that
// holds one with %v shows an address, and printing the Value itself, in any
// verb, in JSON or in a log, shows [redacted]. Reveal is the one way out.
type Value struct{ p *string }

// New returns a Value holding s.
func New(s string) Value { return Value{&s} }

// Reveal returns the secret itself, for the one place that sends it.
func (v Value) Reveal() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

// IsZero reports whether no secret is set.
func (v Value) IsZero() bool { return v.Reveal() == "" }

// Decode lets envconfig read a Value from the environment.
func (v *Value) Decode(s string) error {
	v.p = &s
	return nil
}

func (Value) String() string               { return Redacted }
func (Value) GoString() string             { return Redacted }
func (Value) LogValue() slog.Value         { return slog.StringValue(Redacted) }
func (Value) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
func (Value) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// Format prints [redacted] whatever the verb and flags.
func (Value) Format(f fmt.State, _ rune) { io.WriteString(f, Redacted) }

// Scrub replaces every secret of at least four characters in text with
// [redacted]. Apply it before clipping text, so no part of a secret that
// straddles the cut survives.
func Scrub(text string, secrets ...string) string {
	for _, s := range secrets {
		if len(s) >= minLen {
			text = strings.ReplaceAll(text, s, Redacted)
		}
	}
	return text
}

// URL returns raw without user information, query or fragment, any of
// which may hold a password: safe for logs and messages.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// WithoutURL returns the error that a *url.Error in err's chain wraps, so
// the request URL, which may carry a token or a signed query, is left
// out; or err itself when it holds no *url.Error.
func WithoutURL(err error) error {
	_, cause := SplitURLError(err)
	return cause
}

// SplitURLError is WithoutURL that also returns the failed request's
// operation ("Get", "Post"), or "" when err holds no *url.Error.
func SplitURLError(err error) (op string, cause error) {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op, ue.Err
	}
	return "", err
}
