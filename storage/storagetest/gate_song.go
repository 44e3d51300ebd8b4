package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/songbot-dev/songbot/storage"
)

// testAdmitFromSong checks the Regenerate button's admission: the job
// takes the prompt of the song the history keeps, in the same step as
// the limits; a second delivery is a Duplicate; a song the history does
// not have admits and counts nothing.
func testAdmitFromSong(t *testing.T, s GateStore) {
	h, ok := s.(storage.History)
	if !ok {
		t.Fatalf("%T keeps no history; AdmitFromSong reads the song from it", s)
	}
	ctx := t.Context()
	song := NewSong("ref-1", "u0", time.Now())
	song.Prompt = "a sea shanty about a very long voyage"
	if err := h.AddSong(ctx, song, time.Hour); err != nil {
		t.Fatalf("AddSong() = %v", err)
	}
	l := storage.Limits{MaxRunning: 1, UserDailyLimit: 1}
	admit := func(job storage.Job, ref string) (storage.Admission, error) {
		adm, err := s.AdmitFromSong(ctx, base, job, ref, l)
		adm.Limits = storage.Limits{} // mustAdmit checks them elsewhere
		return adm, err
	}

	job := gateJob("again", "u1", "g1")
	job.Prompt = ""
	adm, err := admit(job, "ref-1")
	if want := (storage.Admission{Prompt: song.Prompt}); err != nil || adm != want {
		t.Fatalf("AdmitFromSong into a free slot = %+v, %v; want running with the song's prompt", adm, err)
	}
	want := job
	want.Prompt = song.Prompt
	if got := mustGet(t, s, "again"); !cmp.Equal(got, want) {
		t.Errorf("Get after AdmitFromSong: (-got +want)\n%s", cmp.Diff(got, want))
	}
	if adm, err := admit(job, "ref-1"); err != nil || !adm.Duplicate {
		t.Errorf("AdmitFromSong of the same interaction again = %+v, %v; want Duplicate", adm, err)
	}

	q := gateJob("again-queued", "u2", "g1")
	q.Prompt = ""
	if adm, err := admit(q, "ref-1"); err != nil || adm != (storage.Admission{Queued: true, Position: 1, Prompt: song.Prompt}) {
		t.Errorf("AdmitFromSong with the slot taken = %+v, %v; want queued at 1 with the song's prompt", adm, err)
	}
	if got := mustGet(t, s, "again-queued"); got.Prompt != song.Prompt {
		t.Errorf("the queued job's prompt = %q; want the song's, %q", got.Prompt, song.Prompt)
	}
	mustCounts(t, s, 1, 1)

	gone := gateJob("gone", "u3", "g1")
	if adm, err := admit(gone, "no-such-song"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("AdmitFromSong of a song the history lacks = %+v, %v; want ErrNotFound", adm, err)
	}
	if _, err := s.Get(ctx, "gone"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get after a refused AdmitFromSong = %v; want ErrNotFound: nothing stored", err)
	}
	mustCounts(t, s, 1, 1)
	// Nothing was counted for u3: its daily limit of 1 still admits.
	if got := mustAdmit(t, s, base, gateJob("after", "u3", "g1"), storage.Limits{UserDailyLimit: 1}); got != runs() {
		t.Errorf("Admit of u3 after the refused AdmitFromSong = %+v; want it running: nothing was counted", got)
	}
}
