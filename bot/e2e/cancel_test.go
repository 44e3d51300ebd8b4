package e2e_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot"
	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

// buttons are the custom_ids of a message's buttons.
func buttons(m discordtest.Message) []string {
	var ids []string
	for _, raw := range m.Components {
		var row struct {
			Components []struct {
				CustomID string `json:"custom_id"`
			} `json:"components"`
		}
		json.Unmarshal(raw, &row)
		for _, c := range row.Components {
			ids = append(ids, c.CustomID)
		}
	}
	return ids
}

// cancelOf waits for the queued reply of in and returns its Cancel
// button's custom_id and the reply's message id.
func (h *harness) cancelOf(in discordtest.Interaction) (customID, messageID string) {
	h.t.Helper()
	h.wait("the queued reply of "+in.ID, func() bool {
		m, ok := h.discord.Original(in.Token)
		if !ok {
			return false
		}
		for _, id := range buttons(m) {
			if strings.HasPrefix(id, "song:v1:cancel:") {
				customID, messageID = id, m.ID
				return true
			}
		}
		return false
	})
	return customID, messageID
}

// queueOne starts a bot with one slot, a running song that takes an hour
// and a second song queued behind it, and returns the queued song.
func queueOne(t *testing.T, h *harness) discordtest.Interaction {
	t.Helper()
	h.whisul.SetDefault(whisultest.Script{After: time.Hour})
	h.start()
	if _, r := h.songIn("u1", "g1", "first"); r.refused() {
		t.Fatalf("first song = %+v", r)
	}
	queued, r := h.songIn("u2", "g1", "second")
	if r.refused() {
		t.Fatalf("second song = %+v", r)
	}
	return queued
}

func TestCancelByTheRequesterOrAModeratorAndNobodyElse(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, presser, perms, want string
	}{
		{"requester", "u2", "", "Cancelled: this song won't be made"},
		{"moderator", "mod1", "8192", "Cancelled by <@mod1>"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(o *bot.Options) { o.Limits = storage.Limits{MaxRunning: 1, UserDailyLimit: 1} })
			queued := queueOne(t, h)
			button, msg := h.cancelOf(queued)

			other := h.reply(h.press(button, discordtest.SongCommand{UserID: "u3", GuildID: "g1", MessageID: msg}))
			if !other.refused() || !strings.Contains(other.Data.Content, "Only the person who asked") {
				t.Errorf("another user's press = %+v; want a private refusal", other)
			}
			r := h.reply(h.press(button, discordtest.SongCommand{UserID: tt.presser, GuildID: "g1", MessageID: msg, Permissions: tt.perms}))
			if r.Type != 7 || !strings.Contains(r.Data.Content, tt.want) {
				t.Fatalf("press by the %s = %+v; want the message updated to %q", tt.name, r, tt.want)
			}
			h.wait("the cancelled outcome", func() bool { return h.outcome(queued.ID) == string(bot.JobCancelled) })
			m, _ := h.discord.Original(queued.Token)
			if len(buttons(m)) != 0 || !strings.Contains(m.Content, tt.want) {
				t.Errorf("cancelled reply = %q with buttons %v; want the cancellation and no button", m.Content, buttons(m))
			}
			if jobs := h.whisul.Jobs(); len(jobs) != 1 {
				t.Errorf("Whisul got %d jobs; want only the running one", len(jobs))
			}
			if running, waiting, err := h.store.Counts(t.Context()); err != nil || running != 1 || waiting != 0 {
				t.Errorf("Counts() = %d running, %d queued, %v; want 1 and 0", running, waiting, err)
			}
			// Its count in the daily limit came back: u2 may ask again today.
			if _, r := h.songIn("u2", "g1", "another go"); r.refused() {
				t.Errorf("/song by u2 after the cancel = %q; want it accepted", r.Data.Content)
			}
		})
	}
}

func TestCancelRacingThePromotionHasOneWinner(t *testing.T) {
	t.Parallel()
	for round := range 6 {
		h := newHarness(t, func(o *bot.Options) { o.Limits = storage.Limits{MaxRunning: 1} })
		h.whisul.OnPrompt("first", whisultest.Script{After: time.Hour})
		h.whisul.OnPrompt("second", whisultest.Script{Polls: 1})
		h.start()
		first, _ := h.songIn("u1", "g1", "first")
		queued, _ := h.songIn("u2", "g1", "second")
		button, msg := h.cancelOf(queued)
		// The running song ends at its next poll, and its slot goes to
		// the queued song while Cancel is pressed: at once (rounds 0, 3),
		// as the first song is delivered (1, 4), when the promotion is
		// due, or once the queued song reached Whisul (2, 5), when the
		// promotion has won for sure.
		// FinishAll ends only jobs Whisul already has.
		h.wait("the first song at Whisul", func() bool { return len(h.whisul.Jobs()) == 1 })
		h.whisul.FinishAll()
		switch round % 3 {
		case 1:
			h.wait("the first song", func() bool { return h.outcome(first.ID) != "" })
		case 2:
			h.wait("the promotion", func() bool { return len(h.whisul.Jobs()) == 2 })
		}
		r := h.reply(h.press(button, discordtest.SongCommand{UserID: "u2", GuildID: "g1", MessageID: msg}))
		h.finalReply(first)
		generated := func() bool {
			for _, j := range h.whisul.Jobs() {
				if j.Prompt == "second" {
					return true
				}
			}
			return false
		}
		switch {
		case r.Type == 7: // the cancel won
			t.Logf("round %d: the cancel won", round)
			h.wait("the cancel", func() bool { return h.outcome(queued.ID) == string(bot.JobCancelled) })
			if generated() {
				t.Errorf("round %d: the cancelled song was generated", round)
			}
		case r.refused() && strings.Contains(r.Data.Content, "already started"): // the promotion won
			t.Logf("round %d: the promotion won", round)
			m := h.finalReply(queued)
			embed(t, m)
			for _, id := range buttons(m) {
				if strings.HasPrefix(id, "song:v1:cancel:") {
					t.Errorf("round %d: the delivered song still has its Cancel button", round)
				}
			}
			if !generated() {
				t.Errorf("round %d: the promoted song never reached Whisul", round)
			}
		default:
			t.Fatalf("round %d: press answered %+v", round, r)
		}
	}
}

func TestPlaceInLineIsShownAndCancelLeavesWhenTheSongStarts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *bot.Options) { o.Limits = storage.Limits{MaxRunning: 1} })
	h.whisul.OnPrompt("first", whisultest.Script{Polls: 3})
	h.whisul.OnPrompt("second", whisultest.Script{Polls: 1})
	h.start()
	first, _ := h.songIn("u1", "g1", "first")
	queued, _ := h.songIn("u2", "g1", "second")
	h.cancelOf(queued)
	m, _ := h.discord.Original(queued.Token)
	if !strings.Contains(m.Content, "1st in line") {
		t.Errorf("queued reply = %q; want its place", m.Content)
	}
	h.finalReply(first)
	final := h.finalReply(queued)
	embed(t, final)
	for _, id := range buttons(final) {
		if strings.HasPrefix(id, "song:v1:cancel:") {
			t.Errorf("delivered song keeps its Cancel button: %v", buttons(final))
		}
	}
}

func TestShowcasePostsPublicSongsOnlyWithoutPings(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.whisul.SetDefault(whisultest.Script{Polls: 1})
	h.start()
	if got := h.admin("g1", "showcase", map[string]any{"channel": discordtest.Channel(showcaseChannel)}); !strings.Contains(got, "<#"+showcaseChannel+">") {
		t.Fatalf("showcase = %q", got)
	}
	public := h.song(discordtest.SongCommand{UserID: "u1", GuildID: "g1", Prompt: "@everyone dance"})
	private := h.song(discordtest.SongCommand{UserID: "u2", GuildID: "g1", Prompt: "secret", Options: map[string]any{"private": true}})
	other := h.song(discordtest.SongCommand{UserID: "u3", GuildID: "g2", Prompt: "elsewhere"})
	for _, in := range []discordtest.Interaction{public, private, other} {
		embed(t, h.finalReply(in))
	}
	h.wait("the showcase post", func() bool { return len(h.discord.ChannelMessages(showcaseChannel)) > 0 })
	posts := h.discord.ChannelMessages(showcaseChannel)
	if len(posts) != 1 {
		t.Fatalf("showcase has %d posts; want 1 (the private song and the other server's never go there)", len(posts))
	}
	e := embed(t, posts[0])
	if desc, _ := e["description"].(string); !strings.Contains(desc, "<@u1>") {
		t.Errorf("showcase embed = %v; want it to name the requester", e)
	}
	if e["image"] == nil || e["url"] == nil {
		t.Errorf("showcase embed = %v; want the cover and the link", e)
	}
	if got := mentions(t, posts[0].AllowedMentions); got != "parse=[] users=[] roles=[]" {
		t.Errorf("showcase allowed_mentions = %s; want none", got)
	}
}

// showcaseChannel is a text channel of server g1.
const showcaseChannel = "1290000000000000001"
