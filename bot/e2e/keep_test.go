package e2e_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot"
	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

func TestCompletedSongArrivesWithItsAudioAttached(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.whisul.SetDefault(whisultest.Script{Polls: 1})
	h.start()
	in := h.song(discordtest.SongCommand{Prompt: "lo-fi beat"})
	m := h.finalReply(in)
	if len(m.Files) != 1 {
		t.Fatalf("final reply has %d files; want the audio attached", len(m.Files))
	}
	f := m.Files[0]
	if !strings.HasSuffix(f.Name, ".mp3") || f.ContentType != "audio/mpeg" || len(f.Data) == 0 {
		t.Errorf("attached file = %q (%s, %d bytes); want the song's mp3", f.Name, f.ContentType, len(f.Data))
	}
	var edit *discordtest.Request
	for _, r := range h.discord.Requests() {
		if r.Method == "PATCH" && len(r.Files) > 0 {
			edit = &r
		}
	}
	if edit == nil || edit.ContentType != "multipart/form-data" {
		t.Fatalf("no multipart edit carried the audio")
	}
	if e := embed(t, m); e["image"] == nil {
		t.Error("the embed lost its cover art when the audio was attached")
	}
	if !strings.Contains(string(m.Components[0]), `"style":5`) {
		t.Errorf("components = %s; want the link button kept", m.Components[0])
	}
}

func TestAudioFallsBackToTheLink(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing.mp3":
			http.NotFound(w, r)
		case "/page.mp3":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>Access denied</body></html>")
		case "/slow.mp3":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/big.mp3":
			w.Header().Set("Content-Type", "audio/mpeg")
			w.Write(make([]byte, 4096))
		}
	}))
	t.Cleanup(cdn.Close)
	for _, name := range []string{"missing", "page", "slow", "big"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(o *bot.Options) { o.AudioTimeout = 300 * time.Millisecond })
			h.whisul.SetDefault(whisultest.Script{Result: &whisultest.WireResult{
				Title: "Fallback", BPM: 90, Duration: "1:00", SongURL: cdn.URL + "/" + name + ".mp3",
				ImageURL: cdn.URL + "/cover.jpg", Tags: "test",
			}})
			h.start()
			in := h.song(discordtest.SongCommand{Prompt: "a song", AttachmentSizeLimit: 1024})
			m := h.finalReply(in)
			if len(m.Files) != 0 {
				t.Errorf("final reply has %d files; want the link alone", len(m.Files))
			}
			embed(t, m)
			if !strings.Contains(string(m.Components[0]), name+".mp3") {
				t.Errorf("components = %s; want the link button to the song", m.Components[0])
			}
		})
	}
}

// TestConcurrentDeliveriesShareTheAudioBudget delivers 8 songs finishing
// together with a budget of two files: each reserves the 10 MiB cap (the
// CDN sends no Content-Length), so they download two at a time, and every
// one still arrives with its audio. The unit tests check the bound itself.
func TestConcurrentDeliveriesShareTheAudioBudget(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "audio/mpeg")
		w.Write(make([]byte, 64<<10))
	}))
	t.Cleanup(cdn.Close)
	h := newHarness(t, func(o *bot.Options) { o.AudioMemory = 2 * 10 << 20 })
	h.whisul.SetDefault(whisultest.Script{Result: &whisultest.WireResult{
		Title: "Bounded", BPM: 90, Duration: "1:00", SongURL: cdn.URL + "/a.mp3", ImageURL: cdn.URL + "/c.jpg", Tags: "t",
	}})
	h.start()
	var ins []discordtest.Interaction
	for i := range 8 {
		ins = append(ins, h.song(discordtest.SongCommand{Prompt: fmt.Sprintf("song %d", i)}))
	}
	h.wait("every song completed at Whisul", func() bool { return h.whisul.Running() == 0 && len(h.whisul.Jobs()) == 8 })
	close(release)
	for _, in := range ins {
		if m := h.finalReply(in); len(m.Files) != 1 {
			t.Errorf("reply %s has %d files; want the audio", in.ID, len(m.Files))
		}
	}
}

// regenButton returns the Regenerate custom_id of a finished reply.
func regenButton(t *testing.T, m discordtest.Message) string {
	t.Helper()
	for _, id := range buttons(m) {
		if strings.HasPrefix(id, "song:v1:regen:") {
			return id
		}
	}
	t.Fatalf("reply %q has no Regenerate button: %v", m.Content, buttons(m))
	return ""
}

func (h *harness) press(customID string, c discordtest.SongCommand) discordtest.Interaction {
	h.t.Helper()
	in, err := h.discord.SendButton(h.t.Context(), customID, c)
	if err != nil {
		h.t.Fatalf("SendButton(%q) = %v", customID, err)
	}
	return in
}

func TestRegenerateStartsTheSamePromptForThePresser(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *bot.Options) { o.Limits = storage.Limits{UserMaxActive: 1} })
	h.whisul.SetDefault(whisultest.Script{Polls: 1})
	first := h.start()
	in := h.song(discordtest.SongCommand{Prompt: "synthwave sunrise", UserID: "111"})
	m := h.finalReply(in)
	button := regenButton(t, m)

	// A restart in between: the button carries its own state.
	first.stop(t)
	h.opts.Store = nil
	h.start()

	again := h.press(button, discordtest.SongCommand{UserID: "222", MessageID: m.ID})
	embed(t, h.finalReply(again))
	jobs := h.whisul.Jobs()
	if len(jobs) != 2 || jobs[1].Prompt != "synthwave sunrise" {
		t.Fatalf("whisul jobs = %+v; want a second one with the same prompt", jobs)
	}
	job, err := h.store.Songs(t.Context(), "222", 10)
	if err != nil || len(job) != 1 {
		t.Errorf("Songs(presser) = %v, %v; want the new song under the presser's name", job, err)
	}

	// Under the limits like /song: the presser already has a song running.
	h.whisul.SetDefault(whisultest.Script{After: time.Hour})
	h.reply(h.press(button, discordtest.SongCommand{UserID: "333", MessageID: m.ID}))
	if r := h.reply(h.press(button, discordtest.SongCommand{UserID: "333", MessageID: m.ID})); !r.refused() {
		t.Errorf("second press while one song runs = %+v; want an ephemeral refusal", r)
	}
}

func TestRegenerateOnAForgottenSongAnswersPolitely(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.start()
	r := h.reply(h.press("song:v1:regen:999999", discordtest.SongCommand{}))
	if !r.refused() || !strings.Contains(r.Data.Content, "no longer remember") {
		t.Errorf("press on a forgotten song = %+v; want a polite ephemeral reply", r)
	}
	if n := h.whisul.Count("POST", "/api/generate"); n != 0 {
		t.Errorf("whisul saw %d submissions; want none", n)
	}
}

func TestPrivateSongIsEphemeralThroughout(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.whisul.SetDefault(whisultest.Script{Polls: 1})
	h.start()
	in := h.song(discordtest.SongCommand{Prompt: "a secret song", Options: map[string]any{"private": true}})
	if r := h.reply(in); r.Type != 5 || r.Data.Flags&64 == 0 {
		t.Errorf("acknowledgement = %+v; want a deferred ephemeral reply", r)
	}
	m := h.finalReply(in)
	if m.Flags&64 == 0 || len(m.Embeds) == 0 {
		t.Errorf("final reply flags = %d with %d embeds; want the song, ephemeral", m.Flags, len(m.Embeds))
	}
}

func TestPrivateSongFallsBackToDMOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.whisul.SetDefault(whisultest.Script{Polls: 2})
	h.start()
	in := h.song(discordtest.SongCommand{Prompt: "a secret song", UserID: "444", Options: map[string]any{"private": true}})
	h.wait("the composing message", func() bool {
		m, _ := h.discord.Original(in.Token)
		return strings.Contains(m.Content, "Composing")
	})
	h.discord.ExpireToken(in.Token)
	h.wait("the job to end", func() bool { return h.outcome(in.ID) != "" })
	if n := len(h.discord.ChannelMessages(in.ChannelID)); n != 0 {
		t.Errorf("the private song was posted in the channel (%d messages)", n)
	}
	if dms := h.discord.ChannelMessages(h.discord.DMChannel("444")); len(dms) != 1 {
		t.Errorf("DMs = %d; want the private song sent by DM", len(dms))
	}
}

func TestSongsListsTheCallersSongsNewestFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.whisul.OnPrompt("fails", whisultest.Script{Fail: true})
	h.start()
	cdn := strings.TrimSuffix(h.whisul.URL, "/api") + "/cdn"
	for _, s := range []struct{ user, prompt, title string }{
		{"501", "first", "Alpha"}, {"502", "other", "Other user's"}, {"501", "fails", ""}, {"501", "second", "Beta"},
	} {
		if s.title != "" {
			h.whisul.OnPrompt(s.prompt, whisultest.Script{Result: &whisultest.WireResult{
				Title: s.title, BPM: 100, Duration: "2:00", SongURL: cdn + "/audio/" + s.prompt + ".mp3", ImageURL: cdn + "/covers/c.jpg", Tags: "t",
			}})
		}
		h.finalReply(h.song(discordtest.SongCommand{Prompt: s.prompt, UserID: s.user}))
	}
	in, err := h.discord.SendCommand(t.Context(), "songs", discordtest.SongCommand{UserID: "501"})
	if err != nil {
		t.Fatal(err)
	}
	r := h.reply(in)
	if r.Type != 4 || r.Data.Flags&64 == 0 {
		t.Fatalf("/songs answer = %+v; want an ephemeral reply", r)
	}
	beta, alpha := strings.Index(r.Data.Content, "Beta"), strings.Index(r.Data.Content, "Alpha")
	if beta < 0 || alpha < 0 || beta > alpha {
		t.Errorf("/songs = %q; want Beta then Alpha", r.Data.Content)
	}
	if strings.Contains(r.Data.Content, "Other user") || strings.Count(r.Data.Content, "\n") != 3 {
		t.Errorf("/songs = %q; want only the caller's two finished songs", r.Data.Content)
	}
}

func TestCommandsAreNotRegisteredAgainWhenUnchanged(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	first := h.start()
	first.stop(t)
	h.opts.Store = nil
	h.start()
	if n := h.discord.CommandWrites(); n != 1 {
		t.Errorf("commands written %d times over two starts; want 1", n)
	}
	if cmds := h.discord.Commands(""); len(cmds) != 3 {
		t.Errorf("registered commands = %d; want song, songs and songadmin", len(cmds))
	}
}

func TestAudioRefusedByDiscordFallsBackToTheLink(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.whisul.SetDefault(whisultest.Script{Polls: 3})
	h.start()
	in := h.song(discordtest.SongCommand{Prompt: "a song too big for this server"})
	h.wait("the composing message", func() bool {
		m, _ := h.discord.Original(in.Token)
		return strings.Contains(m.Content, "Composing")
	})
	h.discord.FailNext("PATCH", "/api/v9/webhooks/", 1, 413, `{"message":"Request entity too large","code":40005}`)
	m := h.finalReply(in)
	if len(m.Files) != 0 || len(m.Embeds) == 0 {
		t.Errorf("final reply = %d files, %d embeds; want the song as a link after Discord refused the file", len(m.Files), len(m.Embeds))
	}
	if msgs := h.discord.ChannelMessages(in.ChannelID); len(msgs) != 0 {
		t.Errorf("got %d fallback messages; want the reply edited", len(msgs))
	}
}

func TestSlowAudioNeverCostsTheDelivery(t *testing.T) {
	t.Parallel()
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	}))
	t.Cleanup(cdn.Close)
	h := newHarness(t, func(o *bot.Options) { o.Lease = 2 * time.Second })
	h.whisul.SetDefault(whisultest.Script{Polls: 1, Result: &whisultest.WireResult{
		Title: "Slow", BPM: 90, Duration: "1:00", SongURL: cdn.URL + "/a.mp3", ImageURL: cdn.URL + "/c.jpg", Tags: "t",
	}})
	h.start()
	in := h.song(discordtest.SongCommand{Prompt: "a song on a slow CDN"})
	m := h.finalReply(in)
	if len(m.Embeds) == 0 || len(m.Files) != 0 {
		t.Errorf("final reply = %d embeds, %d files; want the song edited in as a link", len(m.Embeds), len(m.Files))
	}
	if got := h.outcome(in.ID); got != "completed" {
		t.Errorf("outcome = %q; want completed", got)
	}
	if n := len(h.discord.ChannelMessages(in.ChannelID)); n != 0 {
		t.Errorf("got %d fallback messages; want the reply edited", n)
	}
	if n := h.whisul.Count("GET", "/api/jobs/"); n != 2 {
		t.Errorf("whisul saw %d polls; want 2 (no poll again after the song finished)", n)
	}
}
