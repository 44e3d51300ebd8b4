package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/songbot-dev/songbot/internal/secret"
)

// redisLogger takes go-redis's own messages (a connection pool failing to
// dial, a hook's error), which it would otherwise print to stderr with the
// standard logger, and logs them as Warn records of the bot's logger, with
// every secret scrubbed out: they quote errors, and an error may quote
// what it was given.
type redisLogger struct {
	log     *slog.Logger
	secrets []string
}

// Printf is go-redis's logging interface (internal.Logging).
func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	if ctx == nil {
		ctx = context.Background()
	}
	msg := strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: ") // component=redis says it
	l.log.Log(ctx, slog.LevelWarn, secret.Scrub(msg, l.secrets...))
}

// routeRedisLogs makes log, with component=redis, go-redis's logger for
// the whole process. go-redis swaps its logger atomically, so tests that
// start several bots may call this again.
func routeRedisLogs(log *slog.Logger, secrets ...string) {
	redis.SetLogger(redisLogger{log: log.With("component", "redis"), secrets: secrets})
}
