package storage_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/storage/storagetest"
)

func openBolt(t testing.TB, path string, log *bytes.Buffer) *storage.Bolt {
	t.Helper()
	opts := storage.BoltOptions{LockTimeout: 100 * time.Millisecond}
	if log != nil {
		opts.Logger = slog.New(slog.NewTextHandler(log, nil))
	}
	s, err := storage.OpenBolt(path, opts)
	if err != nil {
		t.Fatalf("OpenBolt(%q) = %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestBoltContract(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), nil)
	}, func(t *testing.T, s storage.Store, id string) {
		if err := storage.BoltPut(s.(*storage.Bolt), "jobs", id, []byte(`{"v":`)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBoltLocked(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "songbot.db")
	first, err := storage.OpenBolt(path, storage.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	second, err := storage.OpenBolt(path, storage.BoltOptions{LockTimeout: 50 * time.Millisecond})
	if err == nil {
		second.Close()
		t.Fatalf("second OpenBolt(%q) = nil error; want ErrLocked", path)
	}
	if !errors.Is(err, storage.ErrLocked) {
		t.Errorf("second OpenBolt = %v; want ErrLocked", err)
	}
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "another songbot process") {
		t.Errorf("second OpenBolt = %q; want it to name %s and another songbot process", msg, path)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second OpenBolt took %v; want about the 50ms lock timeout", d)
	}
	first.Close()
	third, err := storage.OpenBolt(path, storage.BoltOptions{})
	if err != nil {
		t.Fatalf("OpenBolt after the first closed = %v", err)
	}
	third.Close()
}

func TestBoltReopen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "songbot.db")
	s, err := storage.OpenBolt(path, storage.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range []storage.Job{job("a", t0), job("b", t0.Add(time.Second))} {
		if err := s.Save(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Claim(ctx, t0, "test-token", 30*time.Second, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Errorf("Ping after Close = nil; want an error")
	}

	s = openBolt(t, path, nil)
	if n, err := s.Count(ctx); n != 2 || err != nil {
		t.Errorf("Count after reopening = %d, %v; want 2", n, err)
	}
	// Only this process can open the file, so a's lease belonged to a
	// process that is gone: reopening released it, and a is due at once.
	got, err := s.Claim(ctx, t0.Add(10*time.Second), "test-token", 30*time.Second, 10)
	if err != nil || len(got) != 2 || got[0].ID != "a" || got[0].Attempts != 2 || got[1].ID != "b" {
		t.Errorf("Claim during a's old lease after reopening = %+v, %v; want a (2 attempts) and b", got, err)
	}
}

func TestBoltCreatesDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data", "sub")
	openBolt(t, filepath.Join(dir, storage.DefaultBoltFile), nil)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("OpenBolt created %s with mode %v; want 0700", dir, perm)
	}
}

func TestBoltDecodeFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, raw, reason string
		bucket            string // where raw goes: jobs (the request), or job_state
	}{
		{"not JSON", `{"v":`, "not a JSON object of strings", "jobs"},
		{"JSON array", `["secret-token-bad"]`, "not a JSON object of strings", "jobs"},
		{"number field", `{"v":1}`, "not a JSON object of strings", "jobs"},
		{"newer version", `{"v":"3","next_poll_at":"1"}`, "unknown version 3", "jobs"},
		{"bad due time", `{"v":"1","next_poll_at":"soon"}`, `"next_poll_at" is not unix milliseconds`, "jobs"},
		{"bad attempts", `{"v":"1","attempts":"x","interaction_token":"secret-token-bad"}`, `"attempts" is not an integer`, "jobs"},
		{"version 2 without state", `{"v":"2","interaction_token":"secret-token-bad"}`, "no state record", "jobs"},
		{"damaged state", `{"next_poll_at":`, "not a JSON object of strings (the state)", "job_state"},
		{"bad state field", `{"attempts":"secret-token-bad"}`, `"attempts" is not an integer`, "job_state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			var log bytes.Buffer
			s := openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), &log)
			for _, j := range []storage.Job{job("good", t0), job("bad", t0)} {
				if err := s.Save(ctx, j); err != nil {
					t.Fatal(err)
				}
			}
			if err := storage.BoltPut(s, tt.bucket, "bad", []byte(tt.raw)); err != nil {
				t.Fatal(err)
			}
			if tt.name == "version 2 without state" {
				if err := storage.BoltDelete(s, "job_state", "bad"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Get(ctx, "bad"); !errors.Is(err, storage.ErrCorrupt) {
				t.Errorf("Get(bad) = %v; want ErrCorrupt", err)
			}
			got, err := s.Claim(ctx, t0, "test-token", time.Minute, 10)
			if err != nil || len(got) != 1 || got[0].ID != "good" {
				t.Fatalf("Claim = %v, %v; want only good", got, err)
			}
			if n := storage.BoltLen(s, "due"); n != 1 {
				t.Errorf("due bucket holds %d keys after the move aside; want 1", n)
			}
			for _, bucket := range []string{"jobs", "job_state"} {
				if v := storage.BoltGet(s, bucket, "bad"); v != nil {
					t.Errorf("%s[bad] = %q after the move aside; want none", bucket, v)
				}
			}
			var moved struct {
				Reason  string
				MovedAt int64 `json:"moved_at"`
				Raw     string
				State   string
			}
			raw := storage.BoltGet(s, "bad", "bad")
			if err := json.Unmarshal(raw, &moved); err != nil {
				t.Fatalf("bad[bad] = %q: %v; want the record as JSON", raw, err)
			}
			kept := moved.Raw
			if tt.bucket == "job_state" {
				kept = moved.State
			}
			if !strings.Contains(moved.Reason, tt.reason) || kept != tt.raw || moved.MovedAt != t0.UnixMilli() {
				t.Errorf("moved record = %+v; want reason %q, %s %q", moved, tt.reason, tt.bucket, tt.raw)
			}
			logged := log.String()
			if !strings.Contains(logged, "level=ERROR") || !strings.Contains(logged, "id=bad") {
				t.Errorf("log = %q; want an error naming id=bad", logged)
			}
			if strings.Contains(logged, "secret-token") {
				t.Errorf("log = %q; it contains the token", logged)
			}
		})
	}
}

// TestBoltFinishDamagedDue checks that Finish finds the due entry of a job
// whose state's next_poll_at no longer names it.
func TestBoltFinishDamagedDue(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), nil)
	if err := s.Save(ctx, job("a", t0)); err != nil {
		t.Fatal(err)
	}
	if err := storage.BoltPut(s, "job_state", "a", []byte(`{"next_poll_at":"soon"}`)); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Finish(ctx, "a"); !ok || err != nil {
		t.Errorf("Finish(a) = %v, %v; want true, nil", ok, err)
	}
	if n := storage.BoltLen(s, "due"); n != 0 {
		t.Errorf("due bucket holds %d keys after Finish; want 0", n)
	}
}

// TestBoltFinishTrustsReadableDue checks that Finish does not scan the due
// bucket for a record whose next_poll_at is readable, as every queued job's
// is although it has no due entry; a stray entry is left to Claim.
func TestBoltFinishTrustsReadableDue(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), nil)
	if err := s.Save(ctx, job("a", t0)); err != nil {
		t.Fatal(err)
	}
	// Move the state an hour on without its due entry.
	var rec map[string]string
	if err := json.Unmarshal(storage.BoltGet(s, "job_state", "a"), &rec); err != nil {
		t.Fatal(err)
	}
	rec["next_poll_at"] = fmt.Sprint(t0.Add(time.Hour).UnixMilli())
	raw, _ := json.Marshal(rec)
	if err := storage.BoltPut(s, "job_state", "a", raw); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Finish(ctx, "a"); !ok || err != nil {
		t.Fatalf("Finish(a) = %v, %v; want true, nil", ok, err)
	}
	if n := storage.BoltLen(s, "due"); n != 1 {
		t.Errorf("due bucket holds %d keys after Finish; want 1, the stray entry not scanned for", n)
	}
	if jobs, err := s.Claim(ctx, t0, "test-token", time.Minute, 10); len(jobs) != 0 || err != nil {
		t.Errorf("Claim past the stray entry = %v, %v; want nothing", jobs, err)
	}
	if n := storage.BoltLen(s, "due"); n != 0 {
		t.Errorf("due bucket holds %d keys after Claim; want 0", n)
	}
}
