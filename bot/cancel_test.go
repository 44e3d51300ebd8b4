package bot

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/storage"
)

// cancelPress is a press of the Cancel button of job by presser, a member
// with perms.
func cancelPress(t *testing.T, job storage.Job, presser string, perms int64) incoming {
	t.Helper()
	in := songEvent(time.Now(), presser, "", false).Struct.(*discordgo.InteractionCreate).Interaction
	in.Type = discordgo.InteractionMessageComponent
	in.Member.Permissions = perms
	in.Data = discordgo.MessageComponentInteractionData{CustomID: cancelComponents(english(t), job)[0].(discordgo.ActionsRow).Components[0].(discordgo.Button).CustomID, ComponentType: discordgo.ButtonComponent}
	return incoming{Interaction: in}
}

func TestCancelByTheRequesterOrAModerator(t *testing.T) {
	t.Parallel()
	job := pendingJob(time.Now(), "u1", false)
	for _, tt := range []struct {
		name    string
		presser string
		perms   int64
		want    string
	}{
		{"requester", "u1", 0, "Cancelled: this song won't be made"},
		{"manage server", "mod1", discordgo.PermissionManageGuild, "Cancelled by <@mod1>"},
		{"manage messages", "mod2", discordgo.PermissionManageMessages, "Cancelled by <@mod2>"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := &fakeDiscord{}
			var cancelled []string
			var done []JobOutcome
			store := fakeStore{fakeRoster: fakeRoster{CancelFn: func(id string) (storage.Job, error) {
				cancelled = append(cancelled, id)
				return job, nil
			}}}
			b := newTestBot(t, Options{OnJobDone: func(_ string, o JobOutcome) { done = append(done, o) }}, d, store, fakeWhisul{})
			b.handleCancel(context.Background(), cancelPress(t, job, tt.presser, tt.perms))
			if len(cancelled) != 1 || cancelled[0] != job.ID {
				t.Errorf("Cancel calls = %v; want [%s]", cancelled, job.ID)
			}
			rs := d.Responses()
			if len(rs) != 1 || rs[0].Type != discordgo.InteractionResponseUpdateMessage {
				t.Fatalf("responses = %+v; want one message update", rs)
			}
			if got := rs[0].Data.Content; !strings.Contains(got, tt.want) || !strings.Contains(got, quotePrompt(job.Prompt)) {
				t.Errorf("update = %q; want it to contain %q and the prompt", got, tt.want)
			}
			if rs[0].Data.Components == nil || len(rs[0].Data.Components) != 0 {
				t.Errorf("update components = %v; want the button removed (an empty list)", rs[0].Data.Components)
			}
			if len(done) != 1 || done[0] != JobCancelled {
				t.Errorf("OnJobDone outcomes = %v; want [cancelled]", done)
			}
		})
	}
}

func TestCancelRefusedOrTooLate(t *testing.T) {
	t.Parallel()
	job := pendingJob(time.Now(), "u1", false)
	for _, tt := range []struct {
		name     string
		presser  string
		err      error
		want     string
		noCancel bool
	}{
		{"another user", "u2", nil, "Only the person who asked", true},
		{"already running", "u1", storage.ErrNotQueued, "already started", false},
		{"gone", "u1", storage.ErrNotFound, "no longer waiting", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := &fakeDiscord{}
			calls := 0
			store := fakeStore{fakeRoster: fakeRoster{CancelFn: func(string) (storage.Job, error) { calls++; return storage.Job{}, tt.err }}}
			b := newTestBot(t, Options{}, d, store, fakeWhisul{})
			b.handleCancel(context.Background(), cancelPress(t, job, tt.presser, discordgo.PermissionSendMessages))
			if got := lastReply(t, d); !strings.Contains(got, tt.want) {
				t.Errorf("reply = %q; want it to contain %q", got, tt.want)
			}
			if tt.noCancel && calls != 0 {
				t.Errorf("Cancel called %d times for a user who may not cancel", calls)
			}
		})
	}
}

func TestQueuedReplyHasCancelAndTheStartRemovesIt(t *testing.T) {
	t.Parallel()
	var edits []*discordgo.WebhookEdit
	d := &fakeDiscord{EditReplyFn: func(_, _ string, e *discordgo.WebhookEdit) error { edits = append(edits, e); return nil }}
	job := pendingJob(time.Now(), "u1", false)
	r := replyTo(d, job)
	r.editWith(context.Background(), slog.New(slog.DiscardHandler), "queued", cancelComponents(english(t), job))
	r.editText(context.Background(), slog.New(slog.DiscardHandler), "composing")
	if len(edits) != 2 {
		t.Fatalf("%d edits; want 2", len(edits))
	}
	if c := edits[0].Components; c == nil || len(*c) != 1 {
		t.Errorf("queued edit components = %v; want the Cancel row", c)
	} else if id := (*c)[0].(discordgo.ActionsRow).Components[0].(discordgo.Button).CustomID; id != cancelPrefix+job.ID+":u1" {
		t.Errorf("Cancel custom_id = %q", id)
	}
	if c := edits[1].Components; c == nil || len(*c) != 0 {
		t.Errorf("progress edit components = %v; want an empty list, which removes the button", c)
	}
}
