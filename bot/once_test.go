package bot

import (
	"slices"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

func TestDuplicateDeliveryIsDeferredWithoutASecondSong(t *testing.T) {
	t.Parallel()
	for _, private := range []bool{false, true} {
		d := &fakeDiscord{}
		store := fakeStore{fakeGate: fakeGate{AdmitFn: func(time.Time, storage.Job, storage.Limits) (storage.Admission, error) {
			return storage.Admission{Duplicate: true}, nil
		}}}
		generated := 0
		w := fakeWhisul{GenerateFn: func(string) (whisul.Submission, error) {
			generated++
			return whisul.Submission{JobID: "w1", PollURL: "/jobs/w1"}, nil
		}}
		m := &fakeMetrics{}
		b := newTestBot(t, Options{Metrics: m}, d, store, w)

		b.onEvent(nil, songEvent(time.Now(), "u1", "lo-fi beat", private))

		want := discordgo.MessageFlags(0)
		if private {
			want = discordgo.MessageFlagsEphemeral
		}
		if r := d.Responses(); len(r) != 1 || r[0].Type != discordgo.InteractionResponseDeferredChannelMessageWithSource || r[0].Data.Flags != want {
			t.Errorf("private=%v: responses = %+v; want one deferral with flags %d", private, r, want)
		}
		if generated != 0 || len(d.Edits()) != 0 {
			t.Errorf("private=%v: Generate called %d times, %d edits; want none for a duplicate", private, generated, len(d.Edits()))
		}
		if !slices.Equal(m.interactions, []InteractionOutcome{InteractionDuplicate}) {
			t.Errorf("private=%v: interactions counted = %v; want [duplicate]", private, m.interactions)
		}
	}
}
