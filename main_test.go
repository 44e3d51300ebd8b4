package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/internal/testkit"
	"github.com/songbot-dev/songbot/storage/storagetest"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

// TestMain lets the tests that need a real process (signals, SIGKILL) run
// the program as a child: the test binary re-executes itself with
// SONGBOT_TEST_MAIN=1. Every other test calls run in-process.
func TestMain(m *testing.M) {
	if os.Getenv("SONGBOT_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const testWhisulKey = "wk-main-test-c0ffee-secret"

// envOf is env as songbot's whole environment, so the developer's own
// never leaks in and tests run in parallel. A name songbot does not read
// fails the test: it is a typo.
func envOf(t *testing.T, env map[string]string) lookupFunc {
	t.Helper()
	known := map[string]bool{"TERM": true}
	for _, v := range readmeConfigVars(t) {
		known[v.name] = true
		if v.file {
			known[v.name+"_FILE"] = true
		}
	}
	for name := range env {
		if !known[name] {
			t.Fatalf("envOf: songbot reads no %s", name)
		}
	}
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// runCLI runs songbot with args in-process, on exactly env, to its end; it
// returns what it printed and the exit status main would use.
func runCLI(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	lookup := envOf(t, env)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var out, errOut testkit.Buffer
	err := run(ctx, args, lookup, &out, &errOut)
	code = exitStatus(err, &errOut)
	return out.String(), errOut.String(), code
}

// running is songbot running, in this process or as a child process.
type running struct {
	out    *testkit.Buffer // stdout and stderr
	exited chan struct{}
	code   int       // the exit status, once exited is closed
	cmd    *exec.Cmd // the child process; nil in-process
	cancel func()    // ends an in-process run, as a signal would
}

// startInProcess runs `songbot args...` on exactly env in a goroutine
// until the test ends or r.cancel is called.
func startInProcess(t *testing.T, env map[string]string, args ...string) *running {
	t.Helper()
	lookup := envOf(t, env)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{out: &testkit.Buffer{}, exited: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(r.exited)
		r.code = exitStatus(run(ctx, args, lookup, r.out, r.out), r.out)
	}()
	t.Cleanup(func() {
		cancel()
		<-r.exited
		if t.Failed() {
			t.Logf("songbot output:\n%s", r.out.String())
		}
	})
	return r
}

// startProcess runs the real program with env on top of a clean
// environment, for the tests that send it signals.
func startProcess(t *testing.T, env map[string]string) *running {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{"SONGBOT_TEST_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	r := &running{out: &testkit.Buffer{}, exited: make(chan struct{}), cmd: cmd}
	cmd.Stdout, cmd.Stderr = r.out, r.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start songbot: %v", err)
	}
	go func() {
		defer close(r.exited)
		var ee *exec.ExitError
		switch err := cmd.Wait(); {
		case errors.As(err, &ee):
			r.code = ee.ExitCode()
		case err != nil:
			r.code = -1
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-r.exited
		if t.Failed() {
			t.Logf("songbot output:\n%s", r.out.String())
		}
	})
	return r
}

// exitCode waits for songbot to end and returns its exit status.
func (r *running) exitCode(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-r.exited:
	case <-time.After(within):
		t.Fatalf("songbot still running after %v", within)
	}
	return r.code
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

// start runs the bot in-process and waits until it registered its
// commands.
func (f *fakes) start(t *testing.T) *running {
	t.Helper()
	before := f.commandRequests()
	r := startInProcess(t, f.env)
	f.waitRegistered(t, before)
	return r
}

// startProcess runs the bot as a child process and waits until it
// registered its commands.
func (f *fakes) startProcess(t *testing.T) *running {
	t.Helper()
	before := f.commandRequests()
	r := startProcess(t, f.env)
	f.waitRegistered(t, before)
	return r
}

// waitRegistered waits for a request that reads or writes the commands:
// the bot sends one right after READY.
func (f *fakes) waitRegistered(t *testing.T, before int) {
	t.Helper()
	f.wait(t, "command registration", func() bool { return f.commandRequests() > before })
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

// assertNoSecrets fails the test if any output holds a secret.
func assertNoSecrets(t *testing.T, secrets []string, outputs ...string) {
	t.Helper()
	for _, o := range outputs {
		for _, s := range secrets {
			if s != "" && strings.Contains(o, s) {
				t.Errorf("output shows a secret (%.6s…):\n%s", s, o)
			}
		}
	}
}

func TestSIGTERMStopsTheBotWithStatus0(t *testing.T) {
	t.Parallel()
	f := newFakes(t, map[string]string{"DATA_DIR": t.TempDir()})
	f.whisul.SetDefault(whisultest.Script{Polls: 1})
	p := f.startProcess(t)
	in, err := f.discord.SendCommand(t.Context(), "song", discordtest.SongCommand{Prompt: "lo-fi beat for a rainy night"})
	if err != nil {
		t.Fatalf("SendCommand() = %v", err)
	}
	f.wait(t, "the song", f.delivered(in))

	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.exitCode(t, 10*time.Second); code != 0 {
		t.Errorf("exit status after SIGTERM = %d; want 0", code)
	}
	assertNoSecrets(t, []string{testWhisulKey, f.discord.Token, in.Token}, p.out.String())
}

func TestKilledBotDeliversAfterRestart(t *testing.T) {
	t.Parallel()
	prefix := storagetest.Prefix(t)
	storagetest.DeleteKeysAtCleanup(t, prefix)
	f := newFakes(t, map[string]string{"REDIS_URL": storagetest.RedisURL(t), "REDIS_PREFIX": prefix})
	f.whisul.SetDefault(whisultest.Script{After: time.Hour})
	first := f.startProcess(t)
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

func TestEmbeddedStoreDeliversASongInProcess(t *testing.T) {
	t.Parallel()
	f := newFakes(t, map[string]string{"DATA_DIR": t.TempDir()})
	f.whisul.SetDefault(whisultest.Script{Polls: 1})
	r := f.start(t)
	in, err := f.discord.SendCommand(t.Context(), "song", discordtest.SongCommand{Prompt: "lo-fi beat for a rainy night"})
	if err != nil {
		t.Fatalf("SendCommand() = %v", err)
	}
	f.wait(t, "the song", f.delivered(in))
	r.cancel()
	if code := r.exitCode(t, 10*time.Second); code != 0 {
		t.Errorf("exit status after the context ended = %d; want 0", code)
	}
	out := r.out.String()
	if !strings.Contains(out, "stopped; pending jobs stay in the store") {
		t.Errorf("the log does not say the bot stopped cleanly:\n%s", out)
	}
	assertNoSecrets(t, []string{testWhisulKey, f.discord.Token, in.Token}, out)
}
