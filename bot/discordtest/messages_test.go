package discordtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
)

func TestMultipartEditRecordsFiles(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	dg, got := openSession(t, s)
	sent, i := sendAndReceive(testContext(t), t, s, got, SongCommand{Prompt: "with a file"})
	deferReply(t, dg, i, 0)
	audio := []byte("ID3 fake mp3")
	m, err := dg.InteractionResponseEdit(i, &discordgo.WebhookEdit{
		Content: ptr("here it is"),
		Files:   []*discordgo.File{{Name: "my song.mp3", ContentType: "audio/mpeg", Reader: bytes.NewReader(audio)}},
	})
	if err != nil {
		t.Fatalf("InteractionResponseEdit with a file: %v", err)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Filename != "my_song.mp3" || m.Attachments[0].Size != len(audio) ||
		m.Attachments[0].ContentType != "audio/mpeg" || !strings.HasPrefix(m.Attachments[0].URL, "https://cdn.discordapp.com/attachments/") {
		t.Errorf("returned attachments %+v; want the uploaded mp3", m.Attachments)
	}
	orig, _ := s.Original(sent.Token)
	if len(orig.Files) != 1 || orig.Files[0].Name != "my song.mp3" || orig.Files[0].Field != "files[0]" ||
		orig.Files[0].ContentType != "audio/mpeg" || !bytes.Equal(orig.Files[0].Data, audio) || len(orig.Attachments) != 1 {
		t.Errorf("Original files %+v, %d attachments; want the mp3", orig.Files, len(orig.Attachments))
	}
	reqs := s.Requests()
	last := reqs[len(reqs)-1]
	if last.Method != http.MethodPatch || last.ContentType != "multipart/form-data" || !json.Valid(last.JSON) ||
		!bytes.Contains(last.JSON, []byte(`"here it is"`)) || len(last.Files) != 1 {
		t.Errorf("recorded %s %s %q JSON %s with %d files; want the multipart PATCH", last.Method, last.Path, last.ContentType, last.JSON, len(last.Files))
	}

	// A JSON edit without "attachments" keeps the file (API v9).
	if _, err := dg.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: ptr("still here")}); err != nil {
		t.Fatal(err)
	}
	if orig, _ := s.Original(sent.Token); len(orig.Files) != 1 || orig.Edits != 2 {
		t.Errorf("after a JSON edit: %d files, %d edits; want 1 and 2", len(orig.Files), orig.Edits)
	}
	// An empty "attachments" list removes it.
	if _, err := dg.InteractionResponseEdit(i, &discordgo.WebhookEdit{Attachments: &[]*discordgo.MessageAttachment{}}); err != nil {
		t.Fatal(err)
	}
	if orig, _ := s.Original(sent.Token); len(orig.Files) != 0 || len(orig.Attachments) != 0 {
		t.Errorf("after attachments []: %d files; want 0", len(orig.Files))
	}
}

func TestFileOverSizeLimit(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	dg, got := openSession(t, s)
	_, i := sendAndReceive(testContext(t), t, s, got, SongCommand{Prompt: "big", AttachmentSizeLimit: 8})
	deferReply(t, dg, i, 0)
	_, err := dg.InteractionResponseEdit(i, &discordgo.WebhookEdit{
		Files: []*discordgo.File{{Name: "a.mp3", Reader: strings.NewReader("123456789")}},
	})
	wantRESTError(t, err, http.StatusRequestEntityTooLarge, discordgo.ErrCodeRequestEntityTooLarge)
}

func TestChannelMessagesAndDMs(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	dg, got := openSession(t, s)
	ctx := testContext(t)

	if s.DMChannel("555000111") != "" {
		t.Fatal("DMChannel before any POST /users/@me/channels is not empty")
	}
	ch, err := dg.UserChannelCreate("555000111")
	if err != nil {
		t.Fatalf("UserChannelCreate: %v", err)
	}
	again, err := dg.UserChannelCreate("555000111")
	if err != nil || again.ID != ch.ID || ch.Type != discordgo.ChannelTypeDM || len(ch.Recipients) != 1 || ch.Recipients[0].ID != "555000111" {
		t.Fatalf("DM channels %+v then %+v (%v); want the same DM with the user", ch, again, err)
	}
	if got := s.DMChannel("555000111"); got != ch.ID {
		t.Errorf("DMChannel = %q; want %q", got, ch.ID)
	}
	m, err := dg.ChannelMessageSendComplex(ch.ID, &discordgo.MessageSend{
		Content:         "your song <@555000111>",
		AllowedMentions: &discordgo.MessageAllowedMentions{Users: []string{"555000111"}},
	})
	if err != nil {
		t.Fatalf("ChannelMessageSendComplex: %v", err)
	}
	msgs := s.ChannelMessages(ch.ID)
	if len(msgs) != 1 || msgs[0].ID != m.ID || msgs[0].Content != "your song <@555000111>" || !strings.Contains(string(msgs[0].AllowedMentions), "555000111") {
		t.Errorf("ChannelMessages = %+v; want the DM", msgs)
	}

	// An interaction in the bot's DM happens in that same channel.
	sent, i := sendAndReceive(ctx, t, s, got, SongCommand{Prompt: "dm", Where: InDM, UserID: "555000111"})
	if sent.ChannelID != ch.ID || i.ChannelID != ch.ID || i.GuildID != "" || i.Member != nil || i.User == nil {
		t.Errorf("DM interaction in %s (guild %q member %v); want channel %s with a user", i.ChannelID, i.GuildID, i.Member, ch.ID)
	}
}

func TestChannelAccess(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	dg, got := openSession(t, s)
	s.ForbidChannel("123456789")
	_, err := dg.ChannelMessageSend("123456789", "hi")
	wantRESTError(t, err, http.StatusForbidden, discordgo.ErrCodeMissingAccess)

	// A user-installed app's private channel is closed to the bot.
	sent, _ := sendAndReceive(testContext(t), t, s, got, SongCommand{Prompt: "p", Where: InPrivateChannel})
	_, err = dg.ChannelMessageSend(sent.ChannelID, "hi")
	wantRESTError(t, err, http.StatusForbidden, discordgo.ErrCodeMissingAccess)

	_, err = dg.ChannelMessageSend("general", "hi")
	wantRESTError(t, err, http.StatusNotFound, discordgo.ErrCodeUnknownChannel)
	if n := len(s.ChannelMessages("123456789")); n != 0 {
		t.Errorf("%d messages in the forbidden channel; want 0", n)
	}
}

func TestMessageValidation(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	dg := newSession(t, s, "Bot "+s.Token)
	tests := []struct {
		name string
		msg  *discordgo.MessageSend
		code int
	}{
		{"empty", &discordgo.MessageSend{}, discordgo.ErrCodeCannotSendEmptyMessage},
		{"content too long", &discordgo.MessageSend{Content: strings.Repeat("a", 2001)}, discordgo.ErrCodeInvalidFormBody},
		{"title too long", &discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{{Title: strings.Repeat("t", 257)}}}, discordgo.ErrCodeInvalidFormBody},
		{"embeds over 6000", &discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{
			{Description: strings.Repeat("d", 4000)}, {Description: strings.Repeat("d", 2001)},
		}}, discordgo.ErrCodeInvalidFormBody},
		{"image scheme", &discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{{Image: &discordgo.MessageEmbedImage{URL: "ftp://x/y.png"}}}}, discordgo.ErrCodeInvalidFormBody},
		{"link button with custom_id", &discordgo.MessageSend{Content: "x", Components: []discordgo.MessageComponent{
			discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.Button{Style: discordgo.LinkButton, URL: "https://example.com", CustomID: "nope", Label: "l"}}},
		}}, discordgo.ErrCodeInvalidFormBody},
		{"six buttons", &discordgo.MessageSend{Content: "x", Components: []discordgo.MessageComponent{
			discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.Button{CustomID: "1", Label: "1"}, discordgo.Button{CustomID: "2", Label: "2"}, discordgo.Button{CustomID: "3", Label: "3"},
				discordgo.Button{CustomID: "4", Label: "4"}, discordgo.Button{CustomID: "5", Label: "5"}, discordgo.Button{CustomID: "6", Label: "6"},
			}},
		}}, discordgo.ErrCodeInvalidFormBody},
	}
	for _, tt := range tests {
		_, err := dg.ChannelMessageSendComplex("123456789", tt.msg)
		var re *discordgo.RESTError
		if !errors.As(err, &re) || re.Response.StatusCode != http.StatusBadRequest || re.Message == nil || re.Message.Code != tt.code {
			t.Errorf("%s: ChannelMessageSendComplex = %v; want 400 code %d", tt.name, err, tt.code)
		}
	}
	if n := len(s.ChannelMessages("123456789")); n != 0 {
		t.Errorf("%d invalid messages were stored; want 0", n)
	}
	ok, err := dg.ChannelMessageSendComplex("123456789", &discordgo.MessageSend{Content: "fine", Embeds: []*discordgo.MessageEmbed{
		{Title: "t", Image: &discordgo.MessageEmbedImage{URL: "attachment://cover.png"}},
	}})
	if err != nil || ok.Content != "fine" || len(ok.Embeds) != 1 {
		t.Errorf("valid message = %+v, %v", ok, err)
	}
}
