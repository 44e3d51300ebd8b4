package e2e_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

func TestSongDeliversTheFinishedSong(t *testing.T) {
	t.Parallel()
	for _, where := range []struct {
		name  string
		where discordtest.Where
	}{
		{"guild", discordtest.InGuild},
		{"bot DM", discordtest.InDM},
		{"user-installed app in a private channel", discordtest.InPrivateChannel},
	} {
		t.Run(where.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			h.whisul.SetDefault(whisultest.Script{Polls: 2})
			h.start()
			in := h.song(discordtest.SongCommand{Prompt: "lo-fi beat for a rainy night", Where: where.where})

			h.wait("the acknowledgement", func() bool { _, ok := h.discord.Callback(in.ID); return ok })
			cb, _ := h.discord.Callback(in.ID)
			var resp struct {
				Type int `json:"type"`
			}
			if err := json.Unmarshal(cb.JSON, &resp); err != nil || resp.Type != 5 {
				t.Fatalf("callback = %s; want a deferred reply (type 5)", cb.JSON)
			}

			m := h.finalReply(in)
			h.wait("the job to leave the store", func() bool { return h.outcome(in.ID) == "completed" })
			e := embed(t, m)
			jobs := h.whisul.Jobs()
			if len(jobs) != 1 {
				t.Fatalf("whisul saw %d jobs; want 1", len(jobs))
			}
			if jobs[0].Prompt != "lo-fi beat for a rainy night" {
				t.Errorf("whisul prompt = %q; want the user's prompt", jobs[0].Prompt)
			}
			if e["title"] == "" || e["url"] == nil {
				t.Errorf("embed title/url = %v/%v; want the song title linking to the audio", e["title"], e["url"])
			}
			if img, _ := e["image"].(map[string]any); img == nil || !strings.HasSuffix(img["url"].(string), ".jpg") {
				t.Errorf("embed image = %v; want the cover art", e["image"])
			}
			fields := map[string]string{}
			for _, f := range e["fields"].([]any) {
				f := f.(map[string]any)
				fields[f["name"].(string)] = f["value"].(string)
			}
			for _, name := range []string{"BPM", "Length", "Tags", "Prompt"} {
				if fields[name] == "" {
					t.Errorf("embed field %q missing; fields %v", name, fields)
				}
			}
			if !strings.Contains(string(m.Components[0]), `"style":5`) || !strings.Contains(string(m.Components[0]), "/cdn/audio/") {
				t.Errorf("components = %s; want a link button to the audio", m.Components[0])
			}
			if n := h.whisul.Count("GET", "/api/jobs/"); n != 3 {
				t.Errorf("whisul saw %d polls; want 3 (2 running, 1 completed), none after the end", n)
			}
			if n, err := h.store.Count(t.Context()); err != nil || n != 0 {
				t.Errorf("store.Count() = %d, %v; want 0 after delivery", n, err)
			}
		})
	}
}

func TestInvalidPromptIsRefusedPrivately(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.start()
	for _, prompt := range []string{"   \t ", strings.Repeat("la ", 100)} {
		in := h.song(discordtest.SongCommand{Prompt: prompt})
		resp := h.reply(in)
		cb, _ := h.discord.Callback(in.ID)
		if resp.Type != 4 || resp.Data.Flags&64 == 0 || resp.Data.Content == "" {
			t.Errorf("callback for %q = %s; want an ephemeral reply (type 4, flag 64) that says why", prompt, cb.JSON)
		}
	}
	if n := h.whisul.Count("POST", "/api/generate"); n != 0 {
		t.Errorf("whisul saw %d submissions; want none for invalid prompts", n)
	}
}

func TestMentionsInPromptsPingNoOne(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	cdn := strings.TrimSuffix(h.whisul.URL, "/api") + "/cdn"
	h.whisul.SetDefault(whisultest.Script{Polls: 1, Result: &whisultest.WireResult{
		Title: "@everyone <@&42> anthem", BPM: 120, Duration: "1:00",
		SongURL: cdn + "/audio/a.mp3", ImageURL: cdn + "/covers/a.jpg", Tags: "@here, <@7>",
	}})
	h.start()
	in := h.song(discordtest.SongCommand{Prompt: "@everyone @here <@&123> <@456> sing along"})
	if m := h.finalReply(in); len(m.Files) != 1 {
		t.Fatalf("final reply has %d files; want the audio, so the multipart edit is checked too", len(m.Files))
	}

	for _, r := range h.discord.Requests() {
		if r.Method == "GET" || len(r.JSON) == 0 || strings.Contains(r.Path, "/commands") {
			continue
		}
		var body struct {
			Data *struct {
				AllowedMentions json.RawMessage `json:"allowed_mentions"`
			} `json:"data"`
			AllowedMentions json.RawMessage `json:"allowed_mentions"`
		}
		if err := json.Unmarshal(r.JSON, &body); err != nil {
			t.Fatalf("decode %s %s: %v", r.Method, r.Path, err)
		}
		am := body.AllowedMentions
		if body.Data != nil {
			am = body.Data.AllowedMentions
		}
		if strings.Contains(r.Path, "/callback") && body.Data == nil {
			continue // a deferral carries no message
		}
		if got := mentions(t, am); got != "parse=[] users=[] roles=[]" {
			t.Errorf("%s %s allowed_mentions = %s; want nothing allowed", r.Method, r.Path, am)
		}
	}
}

func TestWhisulKeyNeverReachesDiscord(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.whisul.SetDefault(whisultest.Script{Fail: true, ErrorText: "failed with key " + whisulKey})
	h.start()
	h.finalReply(h.song(discordtest.SongCommand{Prompt: "a trap song"}))
	for _, r := range h.discord.Requests() {
		if strings.Contains(string(r.Body), whisulKey) || strings.Contains(r.Path, whisulKey) {
			t.Errorf("%s %s carries the Whisul key", r.Method, r.Path)
		}
	}
	if strings.Contains(h.logs.String(), whisulKey) {
		t.Error("the logs contain the Whisul key")
	}
}
