package bot

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

func TestPlacesInLineAreEditedOnlyWhenChangedAndClaimed(t *testing.T) {
	t.Parallel()
	now := time.Now()
	moved, same, claimedElsewhere, stale := pendingJob(now, "u1", false), pendingJob(now, "u2", false), pendingJob(now, "u3", false), pendingJob(now, "u4", false)
	moved.ID, same.ID, claimedElsewhere.ID, stale.ID = "1", "2", "3", "4"
	stale.InteractionAt = now.Add(-20 * time.Minute) // its token is dead
	var mu sync.Mutex
	var claims []string
	store := fakeStore{fakeRoster: fakeRoster{
		QueueFn: func(limit int) ([]storage.ActiveJob, error) {
			if limit != 0 {
				t.Errorf("Queue(%d); want the whole queue", limit)
			}
			return []storage.ActiveJob{
				{Job: moved, Queued: true, Position: 2, ShownPosition: 5},
				{Job: same, Queued: true, Position: 3, ShownPosition: 3},
				{Job: claimedElsewhere, Queued: true, Position: 4, ShownPosition: 6},
				{Job: stale, Queued: true, Position: 5, ShownPosition: 7},
			}, nil
		},
		ClaimPositionEditFn: func(id string, position int, every time.Duration) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			claims = append(claims, id)
			if every != positionEditEvery {
				t.Errorf("ClaimPositionEdit every = %v; want %v", every, positionEditEvery)
			}
			return id == "1", nil
		},
	}}
	var edits []*discordgo.WebhookEdit
	d := &fakeDiscord{EditReplyFn: func(_, token string, e *discordgo.WebhookEdit) error {
		mu.Lock()
		defer mu.Unlock()
		edits = append(edits, e)
		return nil
	}}
	b := newTestBot(t, Options{}, d, store, fakeWhisul{})
	b.updatePositions(context.Background())
	if strings.Join(sortedCopy(claims), ",") != "1,3" {
		t.Errorf("claimed %v; want the two live replies whose place changed", claims)
	}
	if len(edits) != 1 || !strings.Contains(*edits[0].Content, "2nd in line") || edits[0].Components == nil || len(*edits[0].Components) != 1 {
		t.Fatalf("edits = %+v; want one, of the moved song, to 2nd with its Cancel button", edits)
	}
}

func TestShowcasePostsPublicServerSongsWithoutPings(t *testing.T) {
	t.Parallel()
	result := &whisul.Result{Title: "Rainy night", SongURL: "https://cdn.example/s.mp3", ImageURL: "https://cdn.example/c.png"}
	for _, tt := range []struct {
		name    string
		private bool
		guild   string
		channel string
		posted  bool
	}{
		{"public with a showcase", false, "guild1", "show1", true},
		{"private", true, "guild1", "show1", false},
		{"no showcase", false, "guild1", "", false},
		{"a DM", false, "", "show1", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := &fakeDiscord{}
			store := fakeStore{fakeSettings: fakeSettings{GuildSettingsFn: func(string) (storage.GuildSettings, error) {
				return storage.GuildSettings{ShowcaseChannelID: tt.channel}, nil
			}}}
			b := newTestBot(t, Options{}, d, store, fakeWhisul{})
			job := pendingJob(time.Now(), "u1", tt.private)
			job.GuildID = tt.guild
			b.showcase(context.Background(), b.log, job, result)
			sent := d.Sent()
			if !tt.posted {
				if len(sent) != 0 {
					t.Errorf("posted %+v; want nothing", sent)
				}
				return
			}
			if len(sent) != 1 || sent[0].channelID != "show1" {
				t.Fatalf("sent %+v; want one post in show1", sent)
			}
			m := sent[0].msg
			if m.AllowedMentions == nil || len(m.AllowedMentions.Parse)+len(m.AllowedMentions.Users)+len(m.AllowedMentions.Roles) != 0 {
				t.Errorf("allowed mentions %+v; want none", m.AllowedMentions)
			}
			e := m.Embeds[0]
			if e.Title != "Rainy night" || e.URL != result.SongURL || e.Image == nil || e.Image.URL != result.ImageURL || !strings.Contains(e.Description, "<@u1>") {
				t.Errorf("embed = %+v; want the title, link, cover and requester", e)
			}
		})
	}
}

func TestStandingSaysWhatIsOnTheWayAndWhatIsLeft(t *testing.T) {
	t.Parallel()
	tr := english(t)
	now := time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)
	running, queued := pendingJob(now, "u1", false), pendingJob(now, "u1", false)
	queued.Prompt = "sea shanty"
	st := standing{
		active:  []storage.ActiveJob{{Job: running}, {Job: queued, Queued: true, Position: 4}},
		usage:   storage.Usage{UserToday: 3, GuildToday: 9, BotToday: 10, CooldownUntil: now.Add(10 * time.Second)},
		limits:  storage.Limits{UserDailyLimit: 5, GuildDailyLimit: 10, DailyLimit: 100},
		inGuild: true,
	}
	got := standingText(tr, st, now)
	for _, want := range []string{"Being made: lo\\-fi beat", "4th in line: sea shanty", "1 more song today", "next song can start <t:1796130010:R>"} {
		if !strings.Contains(got, want) {
			t.Errorf("standing = %q; want it to contain %q", got, want)
		}
	}
	st.inGuild = false // a DM: the server's limit does not apply
	if got := standingText(tr, st, now); !strings.Contains(got, "2 more songs today") {
		t.Errorf("DM standing = %q; want the user's 2 left", got)
	}
	st.usage.UserToday = 5
	if got := standingText(tr, st, now); !strings.Contains(got, "all your songs for today. More <t:1796169600:R>") {
		t.Errorf("standing at the limit = %q", got)
	}
	if got := standingText(tr, standing{}, now); got != "" {
		t.Errorf("standing with nothing to say = %q; want empty", got)
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	slices.Sort(c)
	return c
}
