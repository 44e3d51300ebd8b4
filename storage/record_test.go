package storage

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRecordRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 6, 1, 12, 0, 0, 123_000_000, time.UTC)
	tests := []Job{
		{ID: "empty"},
		{
			ID: "full",
			Request: Request{
				InteractionToken: "tok", AppID: "app", ChannelID: "c", GuildID: "g", UserID: "u",
				Prompt: "la la\n🎵", Ephemeral: true, AttachmentLimit: 8 << 20, InteractionAt: at,
				Locale: "pt-BR", GuildLocale: "fr",
			},
			State: State{
				WhisulID: "w1", PollURL: "/jobs/w1", SubmittedAt: at.Add(time.Second),
				NextPollAt: at.Add(time.Minute), Attempts: -3, LastStatus: "queued", LastError: "e",
			},
		},
	}
	for _, want := range tests {
		got, err := decodeRecord(want.ID, pairsToMap(encodeRecord(want)), recordV1)
		if err != nil || !cmp.Equal(got, want) {
			t.Errorf("decodeRecord(encodeRecord(%q)) = %+v, %v; (-got +want)\n%s", want.ID, got, err, cmp.Diff(got, want))
		}
	}
}

// TestRecordTimes checks that times keep milliseconds and drop the rest.
func TestRecordTimes(t *testing.T) {
	t.Parallel()
	in := time.Date(2025, 6, 1, 12, 0, 0, 123_456_789, time.FixedZone("X", 3600))
	got, err := decodeRecord("a", pairsToMap(encodeRecord(Job{State: State{NextPollAt: in}})), recordV1)
	if want := in.Truncate(time.Millisecond); err != nil || !got.NextPollAt.Equal(want) {
		t.Errorf("NextPollAt after a round trip = %v, %v; want %v", got.NextPollAt, err, want)
	}
}

// TestDecodeRecordTolerates checks what a version 1 reader accepts from a
// record written by a later version 1 writer.
func TestDecodeRecordTolerates(t *testing.T) {
	t.Parallel()
	got, err := decodeRecord("a", map[string]string{"v": "1", "new_field": "x", "prompt": "p"}, recordV1)
	if want := (Job{ID: "a", Request: Request{Prompt: "p"}}); err != nil || !cmp.Equal(got, want) {
		t.Errorf("decodeRecord(unknown and missing fields) = %+v, %v; want %+v", got, err, want)
	}
}

func TestDecodeRecordErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fields map[string]string
		want   string
	}{
		{nil, "empty record"},
		{map[string]string{"prompt": "p"}, `no "v" field`},
		{map[string]string{"v": "2"}, "unknown version 2"},
		{map[string]string{"v": "SECRET"}, `"v" is not a version number`},
		{map[string]string{"v": "1", "next_poll_at": "SECRET"}, `"next_poll_at" is not unix milliseconds`},
		{map[string]string{"v": "1", "interaction_at": "1.5"}, `"interaction_at" is not unix milliseconds`},
		{map[string]string{"v": "1", "submitted_at": "x"}, `"submitted_at" is not unix milliseconds`},
		{map[string]string{"v": "1", "attempts": "SECRET"}, `"attempts" is not an integer`},
		{map[string]string{"v": "1", "ephemeral": "true"}, `"ephemeral" is not 0 or 1`},
	}
	for _, tt := range tests {
		_, err := decodeRecord("a", tt.fields, recordV1)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("decodeRecord(%v) = %v; want ErrCorrupt with %q", tt.fields, err, tt.want)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("decodeRecord(%v) = %v; it repeats a field's value", tt.fields, err)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add("1", "1748779200000", "0", "0", "tok")
	f.Add("1", "", "", "", "")
	f.Add("2", "-5", "9999999999999999999", "1", "x")
	f.Add("", "soon", "many", "yes", "secret")
	f.Fuzz(func(t *testing.T, v, next, attempts, ephemeral, token string) {
		fields := map[string]string{
			"v": v, "next_poll_at": next, "attempts": attempts,
			"ephemeral": ephemeral, "interaction_token": token,
		}
		job, err := decodeRecord("id", fields, recordV1)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decodeRecord(%v) = %v; want it to wrap ErrCorrupt", fields, err)
			}
			return
		}
		again, err := decodeRecord("id", pairsToMap(encodeRecord(job)), recordV1)
		if err != nil || !cmp.Equal(again, job) {
			t.Fatalf("re-encoding %+v gives %+v, %v", job, again, err)
		}
	})
}

func TestWrapErr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{ErrNotFound, "storage: get: job not found"},
		{errors.New("boom"), "storage: get: boom"},
	}
	for _, tt := range tests {
		err := wrapErr("get", tt.err)
		if err.Error() != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("wrapErr(get, %v) = %q; want %q, wrapping the cause", tt.err, err, tt.want)
		}
	}
	if err := wrapErr("get", nil); err != nil {
		t.Errorf("wrapErr(get, nil) = %v; want nil", err)
	}
}
