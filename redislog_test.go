package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/songbot-dev/songbot/internal/secret"
)

func TestRedisLoggerScrubs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	cfg := config{RedisURL: secret.New("redis://songbot:s3cret-pass@redis.example:6379/0")}
	l := redisLogger{log: slog.New(slog.NewTextHandler(&buf, nil)).With("component", "redis"), secrets: secretsOf(cfg)}
	l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v", 5,
		errors.New("AUTH s3cret-pass: WRONGPASS invalid username-password pair"))
	got := buf.String()
	for _, want := range []string{"level=WARN", `msg="connection pool: failed to dial after 5 attempts: AUTH [redacted]: WRONGPASS`, "component=redis"} {
		if !strings.Contains(got, want) {
			t.Errorf("logged %q; want it to contain %q", got, want)
		}
	}
	if strings.Contains(got, "s3cret-pass") {
		t.Errorf("logged the Redis password: %q", got)
	}
}

// lineWriter hands each line written to it to a channel, dropping lines
// nobody waits for.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) {
	select {
	case w <- string(p):
	default:
	}
	return len(p), nil
}

// TestGoRedisLogsThroughSlog has a real go-redis client fail to dial, so
// go-redis logs through the logger routeRedisLogs installs. The logger is
// the process's, so this test does not run in parallel, and it puts a
// stderr logger back when it ends.
func TestGoRedisLogsThroughSlog(t *testing.T) {
	lines := make(lineWriter, 16)
	routeRedisLogs(slog.New(slog.NewTextHandler(lines, nil)))
	t.Cleanup(func() { routeRedisLogs(slog.New(slog.NewTextHandler(os.Stderr, nil))) })
	c := redis.NewClient(&redis.Options{Addr: closedAddr(t), DialerRetries: 1, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(t.Context()).Err(); err == nil {
		t.Fatal("Ping to a closed port succeeded")
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l := <-lines:
			if strings.Contains(l, "failed to dial") {
				if !strings.Contains(l, "level=WARN") || !strings.Contains(l, "component=redis") {
					t.Errorf("go-redis logged %q; want a WARN record with component=redis", l)
				}
				return
			}
		case <-timeout:
			t.Fatal("go-redis logged nothing through slog within 10s of a failed dial")
		}
	}
}
