package secret

import (
	"context"
	"fmt"
	"io"
	"log/slog"
)

// Handler wraps h so that the secrets are removed from every message and
// attribute before they reach it: log lines quote text that came from
// elsewhere (a server's error, a URL), and that text can echo a secret.
func Handler(h slog.Handler, secrets ...string) slog.Handler {
	return handler{h, secrets}
}

type handler struct {
	slog.Handler
	secrets []string
}

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Scrub(r.Message, h.secrets...), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return handler{h.Handler.WithAttrs(clean), h.secrets}
}

func (h handler) WithGroup(name string) slog.Handler {
	return handler{h.Handler.WithGroup(name), h.secrets}
}

// attr scrubs strings, groups and anything printed as text (errors).
func (h handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Scrub(v.String(), h.secrets...))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]any, len(group))
		for i, g := range group {
			clean[i] = h.attr(g)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		return slog.String(a.Key, Scrub(fmt.Sprint(v.Any()), h.secrets...))
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// Writer wraps w so that the secrets are replaced in everything written
// through it: a last guard for output a command prints. Each Write is
// scrubbed on its own, so write whole lines.
func Writer(w io.Writer, secrets ...string) io.Writer {
	return writer{w, secrets}
}

type writer struct {
	w       io.Writer
	secrets []string
}

func (r writer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, Scrub(string(p), r.secrets...)); err != nil {
		return 0, err
	}
	return len(p), nil
}
