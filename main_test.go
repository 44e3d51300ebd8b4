package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/storage/storagetest"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

// TestMain lets tests run the real program as a child process: the test
// binary re-executes itself with SONGBOT_TEST_MAIN=1.
func TestMain(m *testing.M) {
	if os.Getenv("SONGBOT_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const testWhisulKey = "wk-main-test-c0ffee-secret"

// process is songbot running as a child process.
type process struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	exited chan struct{}
	err    error
}

// startProcess runs songbot with env on top of a clean environment.
func startProcess(t *testing.T, env map[string]string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{"SONGBOT_TEST_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &process{cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stdout = p.stderr
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start songbot: %v", err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("songbot output:\n%s", p.stderr.String())
		}
	})
	return p
}

// exitCode waits for the process to end and returns its status.
func (p *process) exitCode(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(within):
		t.Fatalf("songbot still running after %v", within)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("songbot: %v", p.err)
	}
	return 0
}

func TestMissingRequiredVariableExitsWithStatus2(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no Discord token", map[string]string{"WHISUL_API_KEY": testWhisulKey}, "DISCORD_TOKEN"},
		{"no Whisul key", map[string]string{"DISCORD_TOKEN": "discord-secret-token"}, "WHISUL_API_KEY"},
		{"bad duration", map[string]string{"DISCORD_TOKEN": "discord-secret-token", "WHISUL_API_KEY": testWhisulKey, "POLL_INTERVAL": "soon"}, "POLL_INTERVAL"},
		{"bad log level", map[string]string{"DISCORD_TOKEN": "discord-secret-token", "WHISUL_API_KEY": testWhisulKey, "LOG_LEVEL": "loud"}, "LOG_LEVEL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startProcess(t, tt.env)
			if code := p.exitCode(t, 10*time.Second); code != 2 {
				t.Errorf("exit status = %d; want 2", code)
			}
			out := p.stderr.String()
			if !strings.Contains(out, tt.want) {
				t.Errorf("output %q does not name %s", out, tt.want)
			}
			for _, secret := range []string{testWhisulKey, "discord-secret-token"} {
				if strings.Contains(out, secret) {
					t.Errorf("output %q contains a secret", out)
				}
			}
		})
	}
}

// fakes are the services one songbot process talks to.
type fakes struct {
	discord *discordtest.Server
	whisul  *whisultest.Server
	env     map[string]string
}

func newFakes(t *testing.T, env map[string]string) *fakes {
	f := &fakes{discord: discordtest.NewServer(t), whisul: whisultest.NewServer(t, testWhisulKey)}
	f.env = map[string]string{
		"DISCORD_TOKEN":   f.discord.Token,
		"DISCORD_API_URL": f.discord.URL,
		"WHISUL_API_KEY":  testWhisulKey,
		"WHISUL_API_URL":  f.whisul.URL,
		"POLL_INTERVAL":   "50ms",
		"LOG_LEVEL":       "debug",
		"HTTP_ADDR":       "",
	}
	for k, v := range env {
		f.env[k] = v
	}
	return f
}

// start runs songbot and waits until it registered its commands.
func (f *fakes) start(t *testing.T) *process {
	t.Helper()
	before := f.commandRequests()
	p := startProcess(t, f.env)
	// The bot registers its commands, or checks that they are registered,
	// right after READY.
	f.wait(t, "command registration", func() bool { return f.commandRequests() > before })
	return p
}

// commandRequests counts the requests that read or write commands.
func (f *fakes) commandRequests() int {
	n := 0
	for _, r := range f.discord.Requests() {
		if strings.HasSuffix(r.Path, "/commands") {
			n++
		}
	}
	return n
}

func (f *fakes) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if err := f.discord.Wait(ctx, cond); err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func (f *fakes) delivered(in discordtest.Interaction) func() bool {
	return func() bool {
		m, ok := f.discord.Original(in.Token)
		return ok && len(m.Embeds) > 0
	}
}

func TestEmbeddedStoreDeliversASong(t *testing.T) {
	t.Parallel()
	f := newFakes(t, map[string]string{"DATA_DIR": t.TempDir()})
	f.whisul.SetDefault(whisultest.Script{Polls: 1})
	p := f.start(t)
	in, err := f.discord.SendCommand(t.Context(), "song", discordtest.SongCommand{Prompt: "lo-fi beat for a rainy night"})
	if err != nil {
		t.Fatalf("SendCommand() = %v", err)
	}
	f.wait(t, "the song", f.delivered(in))

	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.exitCode(t, 10*time.Second); code != 0 {
		t.Errorf("exit status after SIGTERM = %d; want 0", code)
	}
	out := p.stderr.String()
	for _, secret := range []string{testWhisulKey, f.discord.Token, in.Token} {
		if strings.Contains(out, secret) {
			t.Errorf("the logs contain a secret (%.6s…)", secret)
		}
	}
}

func TestKilledBotDeliversAfterRestart(t *testing.T) {
	t.Parallel()
	prefix := storagetest.Prefix(t)
	storagetest.DeleteKeysAtCleanup(t, prefix)
	f := newFakes(t, map[string]string{"REDIS_URL": storagetest.RedisURL(t), "REDIS_PREFIX": prefix})
	f.whisul.SetDefault(whisultest.Script{After: time.Hour})
	first := f.start(t)
	in, err := f.discord.SendCommand(t.Context(), "song", discordtest.SongCommand{Prompt: "a song that survives SIGKILL"})
	if err != nil {
		t.Fatalf("SendCommand() = %v", err)
	}
	f.wait(t, "the composing message", func() bool {
		m, ok := f.discord.Original(in.Token)
		return ok && strings.Contains(m.Content, "Composing")
	})
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill: %v", err)
	}
	first.exitCode(t, 10*time.Second)

	f.whisul.FinishAll()
	f.start(t)
	f.wait(t, "the song after the restart", f.delivered(in))
}

// lockedBuffer collects a child's output safely.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
