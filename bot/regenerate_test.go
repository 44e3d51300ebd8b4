package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot/i18n"
	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

// regenEvent is user pressing Regenerate on the song ref.
func regenEvent(created time.Time, user, ref string) *discordgo.Event {
	return interactionEvent(&discordgo.Interaction{
		ID:        snowflake(created, 2),
		AppID:     "app1",
		Type:      discordgo.InteractionMessageComponent,
		Data:      discordgo.MessageComponentInteractionData{CustomID: regenPrefix + ref, ComponentType: discordgo.ButtonComponent},
		GuildID:   "guild1",
		ChannelID: "chan1",
		Member:    &discordgo.Member{User: &discordgo.User{ID: user}},
		Token:     "token-" + user,
		Message:   &discordgo.Message{ID: "m1"},
	})
}

// TestRegenerateAdmitsWithTheSongsPromptInOneStep: the admission reads the
// prompt (the fake history has no Song, so a lookup of its own would
// panic), and the song made is the old one's.
func TestRegenerateAdmitsWithTheSongsPromptInOneStep(t *testing.T) {
	t.Parallel()
	d := &fakeDiscord{}
	var refs []string
	store := fakeStore{
		fakeGate: fakeGate{AdmitFromSongFn: func(_ time.Time, job storage.Job, ref string, _ storage.Limits) (storage.Admission, error) {
			refs = append(refs, ref)
			if job.Prompt != "" || job.UserID != "u2" {
				t.Errorf("AdmitFromSong got prompt %q for %q; want an empty prompt for u2, the store fills it", job.Prompt, job.UserID)
			}
			return storage.Admission{Prompt: "sea shanty"}, nil
		}},
		fakeQueue: fakeQueue{RescheduleManyFn: eachJob(func(storage.Job) error { return nil })},
	}
	generated := make(chan string, 1)
	w := fakeWhisul{GenerateFn: func(prompt string) (whisul.Submission, error) {
		generated <- prompt
		return whisul.Submission{JobID: "w1", PollURL: "/jobs/w1"}, nil
	}}
	b := newTestBot(t, Options{}, d, store, w)

	b.onEvent(nil, regenEvent(time.Now(), "u2", "ref-1"))

	if len(refs) != 1 || refs[0] != "ref-1" {
		t.Fatalf("AdmitFromSong refs = %v; want [ref-1]", refs)
	}
	if r := d.Responses(); len(r) != 1 || r[0].Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
		t.Fatalf("responses = %+v; want one deferral", r)
	}
	if got := <-generated; got != "sea shanty" {
		t.Errorf("Whisul was asked for %q; want the song's prompt", got)
	}
}

func TestRegenerateOfAGoneSongSaysSoPrivately(t *testing.T) {
	t.Parallel()
	d := &fakeDiscord{}
	store := fakeStore{fakeGate: fakeGate{AdmitFromSongFn: func(time.Time, storage.Job, string, storage.Limits) (storage.Admission, error) {
		return storage.Admission{}, storage.ErrNotFound
	}}}
	b := newTestBot(t, Options{}, d, store, fakeWhisul{})

	b.onEvent(nil, regenEvent(time.Now(), "u2", "gone"))

	r := d.Responses()
	if len(r) != 1 || r[0].Type != discordgo.InteractionResponseChannelMessageWithSource || r[0].Data.Flags&discordgo.MessageFlagsEphemeral == 0 {
		t.Fatalf("responses = %+v; want one private message", r)
	}
	if !strings.Contains(r[0].Data.Content, "no longer") && !strings.Contains(r[0].Data.Content, "expired") {
		t.Errorf("answer = %q; want it to say the song is gone", r[0].Data.Content)
	}
}

func TestRegenerateOfAPromptBlockedSinceIsRefusedAndFreesTheSlot(t *testing.T) {
	t.Parallel()
	d := &fakeDiscord{}
	var finished []string
	store := fakeStore{
		fakeGate: fakeGate{AdmitFromSongFn: func(time.Time, storage.Job, string, storage.Limits) (storage.Admission, error) {
			return storage.Admission{Prompt: "a forbidden tune"}, nil
		}},
		fakeQueue: fakeQueue{FinishFn: func(id string) (bool, error) {
			finished = append(finished, id)
			return true, nil
		}},
	}
	b := newTestBot(t, Options{BlockedWords: []string{"forbidden"}}, d, store, fakeWhisul{})
	ev := regenEvent(time.Now(), "u2", "ref-1")

	b.onEvent(nil, ev)

	r := d.Responses()
	if len(r) != 1 || r[0].Data == nil || r[0].Data.Flags&discordgo.MessageFlagsEphemeral == 0 {
		t.Fatalf("responses = %+v; want one private refusal", r)
	}
	if want := b.texts.For(i18n.Source).Text(i18n.RefusedWord); r[0].Data.Content != want {
		t.Errorf("refusal = %q; want %q", r[0].Data.Content, want)
	}
	if id := ev.Struct.(*discordgo.InteractionCreate).ID; len(finished) != 1 || finished[0] != id {
		t.Errorf("Finish calls = %v; want the admitted job %s released", finished, id)
	}
}
