package bot

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot/i18n"
	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

func TestSongIsAcknowledgedBeforeWhisulIsCalled(t *testing.T) {
	t.Parallel()
	d := &fakeDiscord{}
	var admitted, saved []storage.Job
	store := fakeStore{
		fakeGate: fakeGate{AdmitFn: func(_ time.Time, job storage.Job, _ storage.Limits) (storage.Admission, error) {
			admitted = append(admitted, job)
			return storage.Admission{}, nil
		}},
		fakeQueue: fakeQueue{RescheduleManyFn: eachJob(func(job storage.Job) error {
			saved = append(saved, job)
			return nil
		})},
	}
	var callsAtGenerate []string
	w := fakeWhisul{GenerateFn: func(prompt string) (whisul.Submission, error) {
		callsAtGenerate = d.Calls()
		return whisul.Submission{JobID: "w1", PollURL: "/jobs/w1"}, nil
	}}
	m := &fakeMetrics{}
	b := newTestBot(t, Options{Metrics: m}, d, store, w)

	b.onEvent(nil, songEvent(time.Now(), "u1", "lo-fi beat", false))

	if want := []string{"respond"}; !slices.Equal(callsAtGenerate, want) {
		t.Fatalf("Discord calls when Generate was called = %v; want %v", callsAtGenerate, want)
	}
	if r := d.Responses()[0]; r.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource || r.Data.Flags != 0 {
		t.Errorf("first response = type %d, flags %d; want a public deferral (type 5)", r.Type, r.Data.Flags)
	}
	if len(admitted) != 1 || admitted[0].Prompt != "lo-fi beat" || admitted[0].UserID != "u1" || admitted[0].WhisulID != "" {
		t.Errorf("Admit got %+v; want one job for u1 with the prompt, not yet submitted", admitted)
	}
	if len(saved) != 1 || saved[0].WhisulID != "w1" || saved[0].PollURL != "/jobs/w1" || saved[0].SubmittedAt.IsZero() {
		t.Errorf("RescheduleMany got %+v; want the job with Whisul's id, poll URL and submission time", saved)
	}
	if e := d.Edits(); len(e) != 1 || e[0].token != "token-u1" || !strings.Contains(e[0].content, "Composing your song") {
		t.Errorf("edits = %+v; want the reply edited to the composing message", e)
	}
	if !slices.Equal(m.interactions, []InteractionOutcome{InteractionAccepted}) {
		t.Errorf("interactions counted = %v; want [accepted]", m.interactions)
	}
}

func TestInvalidPromptIsEphemeralAndStoresNothing(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, prompt, want string
	}{
		{"blank", "  \t ", "✏️ Please describe the song you'd like"},
		{"too long", strings.Repeat("la ", 100), "That description is 299 characters long; please keep it to 200 or fewer."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := &fakeDiscord{}
			m := &fakeMetrics{}
			// Every store and Whisul call panics: none is expected.
			b := newTestBot(t, Options{PromptMaxLength: 200, Metrics: m}, d, fakeStore{}, fakeWhisul{})
			b.onEvent(nil, songEvent(time.Now(), "u1", tt.prompt, false))
			r := d.Responses()
			if len(r) != 1 || r[0].Type != discordgo.InteractionResponseChannelMessageWithSource || r[0].Data.Flags != discordgo.MessageFlagsEphemeral {
				t.Fatalf("responses to %q = %+v; want one ephemeral reply (type 4, flag 64)", tt.prompt, r)
			}
			if !strings.Contains(r[0].Data.Content, tt.want) {
				t.Errorf("reply to %q = %q; want it to contain %q", tt.prompt, r[0].Data.Content, tt.want)
			}
			if !slices.Equal(m.interactions, []InteractionOutcome{InteractionInvalidPrompt}) {
				t.Errorf("interactions counted = %v; want [invalid_prompt]", m.interactions)
			}
		})
	}
}

func TestRefusalSaysWhichLimitApplied(t *testing.T) {
	t.Parallel()
	retryAt := time.Unix(1_800_000_000, 0)
	for _, tt := range []struct {
		name   string
		opts   Options
		admit  storage.Admission // nil Admit when zero: the store is not asked
		reason RefusalReason
		want   string
	}{
		{"store cooldown", Options{}, storage.Admission{Refused: storage.RefusedCooldown, RetryAt: retryAt}, RefusedCooldown,
			"⏳ Please wait a little between songs. You can ask again <t:1800000000:R>."},
		{"store user limit", Options{Limits: storage.Limits{UserMaxActive: 2}}, storage.Admission{Refused: storage.RefusedUserActive}, RefusedUserActive,
			"🎶 You already have 2 songs on the way. You can ask for another as soon as one is done."},
		{"blocked word, before the store", Options{BlockedWords: []string{"forbidden"}}, storage.Admission{}, RefusedBlockedWord,
			"✏️ Your description contains a word that isn't allowed here. Please describe the song differently."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := &fakeDiscord{}
			m := &fakeMetrics{}
			var store fakeStore
			if tt.admit.Refused != "" {
				store.AdmitFn = func(time.Time, storage.Job, storage.Limits) (storage.Admission, error) { return tt.admit, nil }
			}
			opts := tt.opts
			opts.Metrics = m
			b := newTestBot(t, opts, d, store, fakeWhisul{})
			b.onEvent(nil, songEvent(time.Now(), "u1", "a forbidden song", false))
			r := d.Responses()
			if len(r) != 1 || r[0].Data.Flags != discordgo.MessageFlagsEphemeral || r[0].Data.Content != tt.want {
				t.Fatalf("responses = %+v; want one ephemeral reply %q", r, tt.want)
			}
			if !slices.Equal(m.refusals, []RefusalReason{tt.reason}) {
				t.Errorf("refusals counted = %v; want [%s]", m.refusals, tt.reason)
			}
		})
	}
}

func TestQueuedSongSaysItsPlaceInLine(t *testing.T) {
	t.Parallel()
	d := &fakeDiscord{}
	store := fakeStore{fakeGate: fakeGate{AdmitFn: func(time.Time, storage.Job, storage.Limits) (storage.Admission, error) {
		return storage.Admission{Queued: true, Position: 3}, nil
	}}}
	b := newTestBot(t, Options{}, d, store, fakeWhisul{}) // Generate panics: a queued song waits
	b.onEvent(nil, songEvent(time.Now(), "u1", "lo-fi beat", false))
	if r := d.Responses(); len(r) != 1 || r[0].Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
		t.Fatalf("responses = %+v; want one deferral", r)
	}
	if e := d.Edits(); len(e) != 1 || !strings.Contains(e[0].content, "yours is **3rd in line**") {
		t.Errorf("edits = %+v; want the reply to say it is 3rd in line", e)
	}
}

func TestRateLimitedSubmissionIsRescheduled(t *testing.T) {
	t.Parallel()
	d := &fakeDiscord{}
	var saved []storage.Job
	store := fakeStore{
		fakeGate: fakeGate{AdmitFn: func(time.Time, storage.Job, storage.Limits) (storage.Admission, error) {
			return storage.Admission{}, nil
		}},
		// Finish is unset: a rate-limited song must not end.
		fakeQueue: fakeQueue{RescheduleManyFn: eachJob(func(job storage.Job) error { saved = append(saved, job); return nil })},
	}
	w := fakeWhisul{GenerateFn: func(string) (whisul.Submission, error) {
		return whisul.Submission{}, &whisul.APIError{Op: "generate", StatusCode: 429, RetryAfter: 5 * time.Second}
	}}
	b := newTestBot(t, Options{}, d, store, w)
	start := time.Now()
	b.onEvent(nil, songEvent(start, "u1", "lo-fi beat", false))
	b.states.wait()
	if len(saved) != 1 {
		t.Fatalf("RescheduleMany wrote %d jobs; want one", len(saved))
	}
	if j := saved[0]; j.WhisulID != "" || j.LastError == "" || j.NextPollAt.Before(start.Add(5*time.Second)) {
		t.Errorf("rescheduled job = WhisulID %q, LastError %q, due in %v; want unsubmitted, the error kept, due after Retry-After (5s)",
			j.WhisulID, j.LastError, j.NextPollAt.Sub(start))
	}
	if e := d.Edits(); len(e) != 1 || e[0].content != english(t).Text(i18n.BusyWaiting) {
		t.Errorf("edits = %+v; want the busy message", e)
	}
}
