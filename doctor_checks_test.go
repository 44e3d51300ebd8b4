package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/storage/storagetest"
	"github.com/songbot-dev/songbot/whisul"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

func TestRunChecksPrintsOneAlignedLineEach(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	ok := runChecks(t.Context(), &out, []check{
		{Name: "config", Run: func(context.Context) (string, error) { return "valid", nil }},
		{Name: "whisul key", Run: func(context.Context) (string, error) {
			return "", errors.New("rejected (401)\nset WHISUL_API_KEY")
		}},
		{Name: "store", Run: func(context.Context) (string, error) { return "", skip("needs a valid configuration") }},
	})
	if ok {
		t.Error("runChecks() = true with a failed check; want false")
	}
	want := "ok    config      valid\n" +
		"FAIL  whisul key  rejected (401) ; set WHISUL_API_KEY\n" +
		"skip  store       needs a valid configuration\n"
	if out.String() != want {
		t.Errorf("runChecks printed\n%s\nwant\n%s", out.String(), want)
	}
}

func TestRunChecksAllPass(t *testing.T) {
	t.Parallel()
	pass := func(context.Context) (string, error) { return "fine", nil }
	if !runChecks(t.Context(), &bytes.Buffer{}, []check{{Name: "a", Run: pass}, {Name: "b", Run: pass}}) {
		t.Error("runChecks() = false with every check passing; want true")
	}
}

func TestStoreCheck(t *testing.T) {
	t.Parallel()
	redisURL := storagetest.RedisURL(t)
	tests := []struct {
		name   string
		open   func(t *testing.T) func(context.Context) (store, error)
		wantOK bool
		want   string
	}{
		{"redis answers", func(t *testing.T) func(context.Context) (store, error) {
			prefix := storagetest.Prefix(t)
			storagetest.DeleteKeysAtCleanup(t, prefix)
			return func(ctx context.Context) (store, error) {
				return storage.OpenRedis(ctx, redisURL, storage.RedisOptions{Prefix: prefix})
			}
		}, true, "answers; 0 songs pending"},
		{"redis unreachable", func(t *testing.T) func(context.Context) (store, error) {
			return func(ctx context.Context) (store, error) {
				return storage.OpenRedis(ctx, "redis://"+closedAddr(t), storage.RedisOptions{})
			}
		}, false, "connection refused"},
		{"redis closed after opening", func(t *testing.T) func(context.Context) (store, error) {
			return func(context.Context) (store, error) {
				s := storagetest.NewRedisStore(t)
				s.Close()
				return s, nil
			}
		}, false, "does not answer"},
		{"embedded file writable", func(t *testing.T) func(context.Context) (store, error) {
			path := filepath.Join(t.TempDir(), "data", "songbot.db")
			return func(context.Context) (store, error) { return storage.OpenBolt(path, storage.BoltOptions{}) }
		}, true, "answers; 0 songs pending"},
		{"embedded file in use by the bot", func(t *testing.T) func(context.Context) (store, error) {
			path := filepath.Join(t.TempDir(), "songbot.db")
			held, err := storage.OpenBolt(path, storage.BoltOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { held.Close() })
			return func(context.Context) (store, error) {
				return storage.OpenBolt(path, storage.BoltOptions{LockTimeout: 50 * time.Millisecond})
			}
		}, true, "in use by a running songbot"},
		{"embedded folder not writable", func(t *testing.T) func(context.Context) (store, error) {
			// A regular file where the folder should be.
			notDir := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(notDir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return func(context.Context) (store, error) {
				return storage.OpenBolt(filepath.Join(notDir, "songbot.db"), storage.BoltOptions{})
			}
		}, false, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			ok := runChecks(t.Context(), &out, []check{storeCheck("the store", tt.open(t))})
			if ok != tt.wantOK || !strings.Contains(out.String(), tt.want) {
				t.Errorf("store check = %v, %q; want %v with %q", ok, out.String(), tt.wantOK, tt.want)
			}
		})
	}
}

func TestWhisulKeyCheck(t *testing.T) {
	t.Parallel()
	const key = "wk-doctor-test-secret"
	fake := whisultest.NewServer(t, key)
	tests := []struct {
		name, url, key string
		wantOK         bool
		want           string
	}{
		{"key accepted", fake.URL, key, true, "accepted by " + fake.URL},
		{"key rejected", fake.URL, "wk-wrong-secret", false, "rejected (401)"},
		{"unreachable", "http://" + closedAddr(t) + "/api", key, false, "could not reach Whisul"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := whisul.New(whisul.Options{BaseURL: tt.url, APIKey: tt.key, MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			ok := runChecks(t.Context(), &out, []check{whisulKeyCheck(c, tt.url)})
			if ok != tt.wantOK || !strings.Contains(out.String(), tt.want) {
				t.Errorf("whisul key check = %v, %q; want %v with %q", ok, out.String(), tt.wantOK, tt.want)
			}
			if !tt.wantOK && !strings.Contains(out.String(), "WHISUL_") {
				t.Errorf("failure %q does not say which setting to fix", out.String())
			}
			if strings.Contains(out.String(), tt.key) {
				t.Errorf("output %q shows the key", out.String())
			}
		})
	}
	if n := len(fake.Jobs()); n != 0 {
		t.Errorf("the check created %d jobs at Whisul; want none", n)
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
