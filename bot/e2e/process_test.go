package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/internal/testkit"
	"github.com/songbot-dev/songbot/storage/storagetest"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

// songbotBuild is the binary built once per test run, for the tests that
// drive real processes (load benchmarks, chaos). TestMain removes it.
var songbotBuild struct {
	once sync.Once
	dir  string
	path string
	out  []byte
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if songbotBuild.dir != "" {
		os.RemoveAll(songbotBuild.dir)
	}
	os.Exit(code)
}

// songbotBinary builds github.com/songbot-dev/songbot once and returns the
// binary's path, failing tb when the build fails.
func songbotBinary(tb testing.TB) string {
	tb.Helper()
	songbotBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "songbot-e2e-")
		if err != nil {
			songbotBuild.err = err
			return
		}
		songbotBuild.dir = dir
		songbotBuild.path = filepath.Join(dir, "songbot")
		cmd := exec.Command("go", "build", "-o", songbotBuild.path, "github.com/songbot-dev/songbot")
		songbotBuild.out, songbotBuild.err = cmd.CombinedOutput()
	})
	if songbotBuild.err != nil {
		tb.Fatalf("go build github.com/songbot-dev/songbot: %v\n%s", songbotBuild.err, songbotBuild.out)
	}
	return songbotBuild.path
}

// fleet is what bot processes share: the fake Discord, the fake Whisul and
// the store (a Redis prefix, or one DATA_DIR for the embedded store).
type fleet struct {
	tb       testing.TB
	bin      string
	discord  *discordtest.Server
	whisul   *whisultest.Server
	interval time.Duration
	redisURL string // empty: the embedded store in dataDir
	prefix   string
	dataDir  string
	// settings are extra variables every process gets: the defaults a
	// benchmark overrides, which its name must say.
	settings map[string]string
	keys     int // API keys handed out, one per process slot
}

// newFleet starts the fakes for processes on Redis (redis true) or on the
// embedded store, polling every interval.
func newFleet(tb testing.TB, redis bool, interval time.Duration, settings map[string]string) *fleet {
	tb.Helper()
	f := &fleet{
		tb:       tb,
		bin:      songbotBinary(tb),
		discord:  discordtest.NewServer(tb),
		whisul:   whisultest.NewServer(tb, whisulKey),
		interval: interval,
		settings: settings,
	}
	if redis {
		f.redisURL = storagetest.RedisURL(tb)
		f.prefix = storagetest.Prefix(tb)
		storagetest.DeleteKeysAtCleanup(tb, f.prefix)
	} else {
		f.dataDir = tb.TempDir()
	}
	return f
}

// proc is one process slot: a bot process that may be killed and started
// again, always with the same Whisul API key, so the fake Whisul's request
// log tells the slots' requests apart.
type proc struct {
	f    *fleet
	name string
	key  string
	logs string // the file every run of the slot appends its stderr to

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the current run ended
	httpAddr string
	ready    bool // the current run logged "bot ready"
	runs     int
	changed  testkit.Signal // notified on every log line and exit
	onLine   func(proc *proc, line []byte)
}

// newProc prepares a slot; start runs it.
func (f *fleet) newProc(name string) *proc {
	f.keys++
	key := fmt.Sprintf("%s-%s-%d", whisulKey, name, f.keys)
	f.whisul.AddKey(key)
	p := &proc{f: f, name: name, key: key, logs: filepath.Join(f.tb.TempDir(), name+".log")}
	f.tb.Cleanup(func() { p.stop(syscall.SIGTERM) })
	return p
}

// env is everything the process sees: only what a user sets.
func (p *proc) env(httpAddr string) []string {
	f := p.f
	env := map[string]string{
		"DISCORD_TOKEN":   f.discord.Token,
		"DISCORD_API_URL": f.discord.URL,
		"WHISUL_API_KEY":  p.key,
		"WHISUL_API_URL":  f.whisul.URL,
		"POLL_INTERVAL":   f.interval.String(),
		"HTTP_ADDR":       httpAddr,
		"LOG_FORMAT":      "json",
	}
	if f.redisURL != "" {
		env["REDIS_URL"], env["REDIS_PREFIX"] = f.redisURL, f.prefix
	} else {
		env["DATA_DIR"] = f.dataDir
	}
	for k, v := range f.settings {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// start runs the slot's binary and waits until it logged "bot ready".
func (p *proc) start() {
	p.f.tb.Helper()
	addr := freeAddr(p.f.tb)
	logFile, err := os.OpenFile(p.logs, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		p.f.tb.Fatalf("open %s: %v", p.logs, err)
	}
	cmd := exec.Command(p.f.bin)
	cmd.Env = p.env(addr)
	cmd.Stdout = logFile
	cmd.Stderr = &lineWriter{file: logFile, line: func(l []byte) { p.logLine(l) }}
	p.mu.Lock()
	p.ready, p.httpAddr = false, addr
	p.exited = make(chan struct{})
	exited := p.exited
	p.mu.Unlock()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		p.f.tb.Fatalf("start %s: %v", p.name, err)
	}
	p.mu.Lock()
	p.cmd = cmd
	p.runs++
	p.mu.Unlock()
	go func() {
		cmd.Wait()
		logFile.Close()
		close(exited)
		p.changed.Notify()
	}()
	ctx, cancel := context.WithTimeout(p.f.tb.Context(), 30*time.Second)
	defer cancel()
	err = p.changed.Wait(ctx, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.ready || isClosed(exited)
	})
	if err != nil || isClosed(exited) {
		p.f.tb.Fatalf("%s did not log \"bot ready\" within 30s (exited: %v); its log:\n%s", p.name, isClosed(exited), tail(p.logs, 40))
	}
}

// logLine sees each line the process writes to stderr.
func (p *proc) logLine(l []byte) {
	if bytes.Contains(l, []byte(`"msg":"bot ready"`)) {
		p.mu.Lock()
		p.ready = true
		p.mu.Unlock()
	}
	if p.onLine != nil {
		p.onLine(p, l)
	}
	p.changed.Notify()
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() { p.stop(syscall.SIGKILL) }

// stop signals the running process, if any, and waits for it to exit; a
// process that outlives SIGTERM by 20s is killed (and the test failed).
func (p *proc) stop(sig syscall.Signal) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-exited
		p.f.tb.Errorf("%s did not exit within 20s of %v", p.name, sig)
	}
}

// restart kills the process with SIGKILL and starts it again.
func (p *proc) restart() {
	p.f.tb.Helper()
	p.kill()
	p.start()
}

// memory reads the running process's resident set now (VmRSS) and at its
// peak (VmHWM), in bytes, from /proc/<pid>/status.
func (p *proc) memory() (rss, peak int64) {
	p.f.tb.Helper()
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd == nil {
		p.f.tb.Fatalf("%s is not running", p.name)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		p.f.tb.Fatalf("read the status of %s: %v", p.name, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if k == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	return rss, peak
}

// heapInUse reads go_memstats_heap_inuse_bytes from the process's
// /metrics on HTTP_ADDR.
func (p *proc) heapInUse() float64 { return p.metric("go_memstats_heap_inuse_bytes") }

// heapLive is the heap the process's last GC found live
// (go_gc_heap_live_bytes): what it keeps, without the garbage a snapshot
// of the heap in use also counts until the next GC.
func (p *proc) heapLive() float64 { return p.metric("go_gc_heap_live_bytes") }

// metric reads one unlabelled value from the process's /metrics.
func (p *proc) metric(name string) float64 {
	p.f.tb.Helper()
	p.mu.Lock()
	addr := p.httpAddr
	p.mu.Unlock()
	code, body := testkit.HTTPGet(p.f.tb, "http://"+addr+"/metrics")
	if code != 200 {
		p.f.tb.Fatalf("GET /metrics of %s = %d", p.name, code)
	}
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	p.f.tb.Fatalf("/metrics of %s has no %s", p.name, name)
	return 0
}

// logRecords reads every JSON log line the slot's runs wrote.
func (p *proc) logRecords() []map[string]any {
	p.f.tb.Helper()
	f, err := os.Open(p.logs)
	if err != nil {
		p.f.tb.Fatalf("open %s: %v", p.logs, err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil {
			out = append(out, rec)
		}
	}
	return out
}

// lineWriter appends a process's output to its log file and hands each
// complete line to line; exec's copying goroutine is its only writer.
type lineWriter struct {
	file    *os.File
	line    func([]byte)
	partial []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.file.Write(b)
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(w.partial[:i])
		w.partial = w.partial[i+1:]
	}
	w.partial = append([]byte(nil), w.partial...)
	return len(b), nil
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// tail returns the last n lines of a file, for failure messages.
func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
