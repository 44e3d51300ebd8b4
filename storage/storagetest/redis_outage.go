//go:build unix

package storagetest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/internal/testkit"
)

// RedisServer is a redis-server of one test's own, for outage tests: it
// can be stopped and started again on the same port, keeping its data
// (append-only file, fsync on every write), or frozen so that connections
// hang as they do to a host that is gone.
type RedisServer struct {
	URL string // redis://127.0.0.1:port

	tb   testing.TB
	bin  string
	dir  string
	port int

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	out    *testkit.Buffer
	paused bool
}

// StartRedisServer starts a private redis-server for tb, stopped at
// cleanup. It fails the test when redis-server is not installed.
func StartRedisServer(tb testing.TB) *RedisServer {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatalf("storagetest: redis-server is not on PATH: install it (Debian: apt-get install redis-server)")
	}
	port, err := freePort()
	if err != nil {
		tb.Fatalf("storagetest: %v", err)
	}
	s := &RedisServer{tb: tb, bin: bin, dir: tb.TempDir(), port: port}
	s.URL = "redis://" + s.addr()
	tb.Cleanup(func() {
		s.Resume()
		s.Stop()
	})
	s.Start()
	return s
}

func (s *RedisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Start starts the server on its port, loading what it stored before a
// Stop, and waits until it answers PING.
func (s *RedisServer) Start() {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	s.out = new(testkit.Buffer)
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", s.dir,
		"--daemonize", "no")
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("storagetest: start redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited

	if err := awaitPing(s.addr(), exited); err != nil {
		select {
		case <-exited:
			s.cmd = nil // nothing left to stop
		default:
		}
		s.tb.Fatalf("storagetest: redis-server on %s %v:\n%s", s.addr(), err, s.out)
	}
}

// Stop shuts the server down (SIGTERM: its data stays on disk) and waits
// until it has exited; connections to it are then refused.
func (s *RedisServer) Stop() {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.tb.Errorf("storagetest: stop redis-server: %v", err)
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// Pause freezes the server (SIGSTOP): connections are accepted by the
// kernel but nothing answers, as with a host that hangs.
func (s *RedisServer) Pause() { s.signal(syscall.SIGSTOP, true) }

// Resume lets a paused server run again.
func (s *RedisServer) Resume() { s.signal(syscall.SIGCONT, false) }

func (s *RedisServer) signal(sig syscall.Signal, paused bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.paused == paused {
		return
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.tb.Errorf("storagetest: %v redis-server: %v", sig, err)
		return
	}
	s.paused = paused
}

// String is the server's address, for test messages.
func (s *RedisServer) String() string { return fmt.Sprintf("redis-server on %s", s.addr()) }
