package storagetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/songbot-dev/songbot/internal/secret"
	"github.com/songbot-dev/songbot/internal/testkit"
	"github.com/songbot-dev/songbot/storage"
)

// server is the private redis-server of this test binary, started by the
// first RedisURL call that needs it and killed when the binary exits. No
// test's Cleanup stops it, since later tests still use it.
var server struct {
	once sync.Once
	url  string
	err  error
}

// RedisURL returns the URL of a Redis server for tests: TEST_REDIS_URL if
// set, otherwise a private redis-server on a free loopback port, started
// once per test binary. It never reads REDIS_URL, the bot's own setting,
// so that go test next to an operator's Redis writes no test keys into it.
// It fails the test if redis-server is needed and not installed.
func RedisURL(tb testing.TB) string {
	tb.Helper()
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u
	}
	server.once.Do(func() { server.url, server.err = startRedis() })
	if server.err != nil {
		tb.Fatalf("storagetest: %v", server.err)
	}
	return server.url
}

// Prefix returns a key prefix of its own for each call, so that tests
// sharing one Redis never see each other's keys.
func Prefix(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	return fmt.Sprintf("test:%x:", b)
}

// NewRedisClient returns a client of RedisURL's server that answers PING,
// closed when the test ends.
func NewRedisClient(tb testing.TB) *redis.Client {
	tb.Helper()
	raw := RedisURL(tb)
	opts, err := redis.ParseURL(raw)
	if err != nil {
		// The error may quote the URL, password included.
		tb.Fatalf("storagetest: cannot use the Redis URL %s (TEST_REDIS_URL)", secret.URL(raw))
	}
	client := redis.NewClient(opts)
	tb.Cleanup(func() { client.Close() })
	if err := client.Ping(tb.Context()).Err(); err != nil {
		tb.Fatalf("storagetest: Redis at %s does not answer: %v", secret.URL(raw), err)
	}
	return client
}

// NewRedisStore returns an empty Redis store under a fresh Prefix, with a
// job TTL of one hour, opened as the bot opens it (storage.OpenRedis). It
// is closed, and its keys deleted, when the test ends.
func NewRedisStore(tb testing.TB) *storage.Redis {
	tb.Helper()
	prefix := Prefix(tb)
	DeleteKeysAtCleanup(tb, prefix)
	raw := RedisURL(tb)
	s, err := storage.OpenRedis(tb.Context(), raw, storage.RedisOptions{Prefix: prefix, JobTTL: time.Hour})
	if err != nil {
		tb.Fatalf("storagetest: open the Redis store at %s: %v", secret.URL(raw), err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// DeleteKeysAtCleanup deletes every key that starts with prefix when the
// test ends. It uses a client of its own, since the test's stores and
// clients may be closed by then.
func DeleteKeysAtCleanup(tb testing.TB, prefix string) {
	tb.Helper()
	client := NewRedisClient(tb)
	tb.Cleanup(func() {
		// The test's context is cancelled before Cleanup runs.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			tb.Errorf("storagetest: scan %s*: %v", prefix, err)
			return
		}
		if len(keys) > 0 {
			if err := client.Del(ctx, keys...).Err(); err != nil {
				tb.Errorf("storagetest: delete keys under %s: %v", prefix, err)
			}
		}
	})
}

// startRedis starts redis-server without persistence on a free loopback
// port and waits until it answers.
func startRedis() (string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", errors.New("redis-server is not on PATH: install it " +
			"(Debian: apt-get install redis-server) or set TEST_REDIS_URL to a server tests may write to")
	}
	// Another process can take the free port before redis-server binds it.
	for try := 0; ; try++ {
		addr, err := startRedisOnce(bin)
		if err == nil {
			return "redis://" + addr, nil
		}
		if try == 2 {
			return "", err
		}
	}
}

func startRedisOnce(bin string) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "storagetest-redis-")
	if err != nil {
		return "", err
	}
	// redis-server writes nothing to dir with --save "" and --appendonly no;
	// it is removed as soon as the server runs, since nothing outlives the
	// binary to remove it later.
	defer os.Remove(dir)

	out := new(testkit.Buffer)
	started := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		// Pdeathsig fires when the starting thread exits, not the process:
		// keep this goroutine, and so its thread, until the server exits.
		runtime.LockOSThread()
		cmd := exec.Command(bin,
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir,
			"--daemonize", "no")
		cmd.Stdout, cmd.Stderr = out, out
		cmd.SysProcAttr = serverProcAttr()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		cmd.Wait()
		close(exited)
	}()
	if err := <-started; err != nil {
		return "", fmt.Errorf("start redis-server: %w", err)
	}

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := awaitPing(addr, exited); err != nil {
		return "", fmt.Errorf("redis-server on %s %v:\n%s", addr, err, out)
	}
	return addr, nil
}

// awaitPing waits until the redis-server on addr answers PING, for at most
// 10s, or until exited is closed because the server stopped.
func awaitPing(addr string, exited <-chan struct{}) error {
	client := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	defer client.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := client.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New("exited")
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("did not answer PING within 10s (%v)", err)
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
