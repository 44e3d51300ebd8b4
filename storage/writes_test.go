package storage_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/storage/storagetest"
)

// polls is how often the write-volume tests reschedule one song: a
// three-minute song polled every five seconds.
const polls = 36

// hsetWrites is what MONITOR saw HSET write into one key.
type hsetWrites struct {
	commands      int // HSET commands
	fields        int // field, value pairs
	bytes         int // of the values, as MONITOR quotes them
	requestWrites int // HSETs that wrote a field of the request
}

// requestFields are the request's hash fields, as doc.go lists them.
var requestFields = map[string]bool{
	"interaction_token": true, "app_id": true, "channel_id": true, "guild_id": true, "user_id": true,
	"prompt": true, "ephemeral": true, "interaction_at": true, "attachment_limit": true,
	"locale": true, "guild_locale": true,
}

// monitorArgs splits the arguments of one MONITOR line,
// `1700000000.000000 [0 lua] "HSET" "key" "f" "v"`, keeping Redis's quoting
// escapes: enough to count and measure.
func monitorArgs(line string) []string {
	_, rest, ok := strings.Cut(line, "] ")
	if !ok {
		return nil
	}
	var args []string
	for len(rest) > 0 && rest[0] == '"' {
		i := 1
		for i < len(rest) && rest[i] != '"' {
			if rest[i] == '\\' {
				i++
			}
			i++
		}
		if i >= len(rest) {
			break
		}
		args = append(args, rest[1:i])
		rest = strings.TrimPrefix(rest[i+1:], " ")
	}
	return args
}

// watchHSETs runs fn under MONITOR on the test server and returns what the
// HSETs into key wrote. MONITOR runs on a raw connection of its own (the
// pooled clients do not expect a connection that keeps talking). A marker
// echoed after fn tells when MONITOR has seen everything fn sent.
func watchHSETs(t *testing.T, key string, fn func()) hsetWrites {
	t.Helper()
	opts, err := redis.ParseURL(storagetest.RedisURL(t))
	if err != nil {
		t.Fatal("storagetest.RedisURL cannot be parsed")
	}
	conn, err := net.Dial(opts.Network, opts.Addr)
	if err != nil {
		t.Fatalf("dial %s: %v", opts.Addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute))
	rd := bufio.NewReader(conn)
	send := func(args ...string) string {
		t.Helper()
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := conn.Write([]byte(b.String())); err != nil {
			t.Fatalf("MONITOR connection: %v", err)
		}
		return readLine(t, rd)
	}
	if opts.Password != "" {
		user := opts.Username
		if user == "" {
			user = "default"
		}
		if reply := send("AUTH", user, opts.Password); reply != "+OK" {
			t.Fatalf("AUTH = %q", reply)
		}
	}
	if reply := send("MONITOR"); reply != "+OK" {
		t.Fatalf("MONITOR = %q", reply)
	}
	fn()
	marker := fmt.Sprintf("storagetest-marker-%d", time.Now().UnixNano())
	if err := storagetest.NewRedisClient(t).Echo(t.Context(), marker).Err(); err != nil {
		t.Fatalf("ECHO = %v", err)
	}
	var w hsetWrites
	for {
		l := readLine(t, rd)
		if strings.Contains(l, marker) {
			return w
		}
		args := monitorArgs(l)
		if len(args) < 2 || !strings.EqualFold(args[0], "HSET") || args[1] != key {
			continue
		}
		w.commands++
		request := false
		for i := 2; i+1 < len(args); i += 2 {
			w.fields++
			w.bytes += len(args[i+1])
			request = request || requestFields[args[i]]
		}
		if request {
			w.requestWrites++
		}
	}
}

func readLine(t *testing.T, rd *bufio.Reader) string {
	t.Helper()
	l, err := rd.ReadString('\n')
	if err != nil {
		t.Fatalf("MONITOR connection: %v", err)
	}
	return strings.TrimRight(l, "\r\n")
}

// TestRedisWriteVolume admits one song, then claims and reschedules it as
// the poll loop does, polls times: the request (token, prompt, channel...)
// must be written once, at admission.
func TestRedisWriteVolume(t *testing.T) {
	t.Parallel()
	s := newRedis(t, storagetest.Prefix(t), nil)
	key, _, _ := storage.RedisKeys(s, "song")
	j := gateJob("song", "u1", "g1")
	j.AppID, j.ChannelID, j.Prompt = "app", "channel", "a sea shanty about a very long voyage"
	w := watchHSETs(t, key, func() { admitAndPoll(t, s, j) })
	t.Logf("Admit + %d × (Claim + Reschedule): %d HSETs, %d fields, %d value bytes, %d of them writing the request",
		polls, w.commands, w.fields, w.bytes, w.requestWrites)
	if w.requestWrites != 1 || w.commands != 1+2*polls {
		t.Errorf("%d HSETs, %d of them writing the request; want %d, one: the request at admission only",
			w.commands, w.requestWrites, 1+2*polls)
	}
}

// TestBoltWriteVolume does what TestRedisWriteVolume does on Bolt: the
// request goes into "jobs" once; every claim and reschedule rewrites only
// the small "job_state" value and the due entry.
func TestBoltWriteVolume(t *testing.T) {
	t.Parallel()
	s := openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), nil)
	take := storage.BoltCountWrites(s)
	j := gateJob("song", "u1", "g1")
	j.AppID, j.ChannelID, j.Prompt = "app", "channel", "a sea shanty about a very long voyage"
	admitAndPoll(t, s, j)
	puts, bytes := take()
	t.Logf("Admit + %d × (Claim + Reschedule): puts %v, bytes %v", polls, puts, bytes)
	if want := map[string]int{"jobs": 1, "job_state": 1 + 2*polls, "due": 1 + 2*polls}; !cmp.Equal(puts, want) {
		t.Errorf("puts per bucket = %v; want %v: the request once, the state at every step", puts, want)
	}
}

// pollStore is what the write-volume tests drive.
type pollStore interface {
	Admit(ctx context.Context, now time.Time, job storage.Job, limits storage.Limits) (storage.Admission, error)
	Claim(ctx context.Context, now time.Time, token string, lease time.Duration, limit int) ([]storage.Job, error)
	Reschedule(ctx context.Context, id string, st storage.State) error
}

// admitAndPoll admits j, then claims and reschedules it polls times, 5 s
// apart, as the bot does for a song that is still running.
func admitAndPoll(t *testing.T, s pollStore, j storage.Job) {
	t.Helper()
	ctx := t.Context()
	if _, err := s.Admit(ctx, t0, j, storage.Limits{}); err != nil {
		t.Fatal(err)
	}
	now := t0
	for i := range polls {
		jobs, err := s.Claim(ctx, now, "test-token", time.Minute, 1)
		if err != nil || len(jobs) != 1 {
			t.Fatalf("Claim %d = %v, %v", i, jobs, err)
		}
		job := jobs[0]
		job.LastStatus = "running"
		now = now.Add(5 * time.Second)
		job.NextPollAt = now
		if err := s.Reschedule(ctx, job.ID, job.State); err != nil {
			t.Fatalf("Reschedule %d = %v", i, err)
		}
	}
}
