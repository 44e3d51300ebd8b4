package storage_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/songbot-dev/songbot/storage"
)

// v1Record is a job as songbot wrote it into "jobs" before record version
// 2: the whole record in one JSON object.
func v1Record(id string, due time.Time, attempts int) []byte {
	return fmt.Appendf(nil, `{"v":"1","whisul_id":"w-%[1]s","poll_url":"/jobs/w-%[1]s",`+
		`"interaction_token":"secret-token-%[1]s","app_id":"app","channel_id":"c","guild_id":"g",`+
		`"user_id":"u-%[1]s","prompt":"a song","ephemeral":"1","interaction_at":"%[2]d",`+
		`"submitted_at":"%[2]d","next_poll_at":"%[2]d","attempts":"%[3]d","last_status":"running",`+
		`"last_error":"","attachment_limit":"1024"}`, id, due.UnixMilli(), attempts)
}

func v1Job(id string, due time.Time, attempts int) storage.Job {
	return storage.Job{
		ID: id,
		Request: storage.Request{
			InteractionToken: "secret-token-" + id, AppID: "app", ChannelID: "c", GuildID: "g",
			UserID: "u-" + id, Prompt: "a song", Ephemeral: true, AttachmentLimit: 1024, InteractionAt: due,
		},
		State: storage.State{
			WhisulID: "w-" + id, PollURL: "/jobs/w-" + id, SubmittedAt: due, NextPollAt: due,
			Attempts: attempts, LastStatus: "running",
		},
	}
}

func jsonFields(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	var f map[string]string
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%q is not a JSON object of strings: %v", raw, err)
	}
	return f
}

// TestBoltReadsVersion1 opens records of the previous layout: they read as
// they are, and their first write splits them into request and state.
func TestBoltReadsVersion1(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openBolt(t, filepath.Join(t.TempDir(), "songbot.db"), nil)
	for _, id := range []string{"claimed", "rescheduled"} {
		// Save writes the gate's entries and the due entry; the record
		// itself is then replaced by its version 1 form.
		if err := s.Save(ctx, v1Job(id, t0, 2)); err != nil {
			t.Fatal(err)
		}
		if err := storage.BoltPut(s, "jobs", id, v1Record(id, t0, 2)); err != nil {
			t.Fatal(err)
		}
		if err := storage.BoltDelete(s, "job_state", id); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, id); err != nil || !cmp.Equal(got, v1Job(id, t0, 2)) {
			t.Errorf("Get(%q) of a version 1 record = %+v, %v; (-got +want)\n%s", id, got, err, cmp.Diff(got, v1Job(id, t0, 2)))
		}
	}

	got, err := s.Claim(ctx, t0, "test-token", time.Minute, 1)
	want := v1Job("claimed", t0, 3)
	want.ScheduledAt = want.NextPollAt
	want.NextPollAt = t0.Add(time.Minute)
	want.Lease = "test-token"
	if err != nil || len(got) != 1 || !cmp.Equal(got[0], want) {
		t.Fatalf("Claim of a version 1 record = %+v, %v; want [%+v]", got, err, want)
	}
	st := v1Job("rescheduled", t0, 0).State
	st.NextPollAt, st.LastStatus = t0.Add(time.Hour), "done"
	if err := s.Reschedule(ctx, "rescheduled", st); err != nil {
		t.Fatalf("Reschedule(%q) of a version 1 record = %v", "rescheduled", err)
	}
	wantRescheduled := v1Job("rescheduled", t0, 2) // the stored attempts stay
	wantRescheduled.NextPollAt, wantRescheduled.LastStatus = st.NextPollAt, "done"

	for _, w := range []storage.Job{want, wantRescheduled} {
		if got, err := s.Get(ctx, w.ID); err != nil || !cmp.Equal(got, w) {
			t.Errorf("Get(%q) after its first write = %+v, %v; (-got +want)\n%s", w.ID, got, err, cmp.Diff(got, w))
		}
		req := jsonFields(t, storage.BoltGet(s, "jobs", w.ID))
		if req["v"] != "2" || req["interaction_token"] != w.InteractionToken {
			t.Errorf("jobs[%s] after its first write = %v; want version 2 with the token", w.ID, req)
		}
		for _, f := range []string{"next_poll_at", "attempts", "whisul_id", "last_status"} {
			if _, ok := req[f]; ok {
				t.Errorf("jobs[%s] after its first write still holds the state field %s", w.ID, f)
			}
		}
		if state := jsonFields(t, storage.BoltGet(s, "job_state", w.ID)); state["attempts"] != fmt.Sprint(w.Attempts) {
			t.Errorf("job_state[%s] = %v; want attempts %d", w.ID, state, w.Attempts)
		}
	}
	if got, err := s.Claim(ctx, t0.Add(time.Hour), "test-token", time.Minute, 10); err != nil || len(got) != 2 {
		t.Errorf("Claim of both migrated jobs = %v, %v; want both", got, err)
	}
	for _, id := range []string{"claimed", "rescheduled"} {
		if ok, err := s.Finish(ctx, id); !ok || err != nil {
			t.Errorf("Finish(%q) = %v, %v; want true, nil", id, ok, err)
		}
	}
	for _, bucket := range []string{"jobs", "job_state", "due", "running"} {
		if n := storage.BoltLen(s, bucket); n != 0 {
			t.Errorf("%s holds %d keys after both finished; want 0", bucket, n)
		}
	}
}
