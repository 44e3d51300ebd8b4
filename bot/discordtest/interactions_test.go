package discordtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"
)

func TestDeferThenEdit(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	dg, got := openSession(t, s)
	ctx := testContext(t)
	sent, i := sendAndReceive(ctx, t, s, got, SongCommand{Prompt: "a sea shanty", Options: map[string]any{"private": true}})

	data := i.ApplicationCommandData()
	if data.Name != "song" || len(data.Options) != 2 ||
		data.Options[0].Name != "prompt" || data.Options[0].StringValue() != "a sea shanty" ||
		data.Options[1].Name != "private" || !data.Options[1].BoolValue() {
		t.Fatalf("command data = %+v; want song with prompt and private", data)
	}
	if i.AppID != s.AppID || i.GuildID != DefaultGuildID || i.ChannelID != DefaultChannelID || i.Member == nil || i.Member.User.ID != DefaultUserID {
		t.Fatalf("interaction = %+v; want the default guild member", i)
	}

	deferReply(t, dg, i, discordgo.MessageFlagsEphemeral)
	thinking, ok := s.Original(sent.Token)
	if !ok || !thinking.Thinking || thinking.Flags != 64 || thinking.Content != "" {
		t.Fatalf("Original after type 5 = %+v, %v; want an ephemeral thinking message", thinking, ok)
	}
	m, err := dg.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: ptr("done"), AllowedMentions: &discordgo.MessageAllowedMentions{}})
	if err != nil {
		t.Fatalf("InteractionResponseEdit: %v", err)
	}
	if m.Content != "done" || m.ID != thinking.ID || m.Flags != discordgo.MessageFlagsEphemeral || m.EditedTimestamp == nil {
		t.Errorf("edit returned %+v; want the edited ephemeral message", m)
	}
	orig, _ := s.Original(sent.Token)
	want := Message{
		ID: thinking.ID, ChannelID: DefaultChannelID, Content: "done", Flags: 64, Edits: 1,
		AllowedMentions: json.RawMessage(`{"parse":null,"replied_user":false}`),
	}
	if diff := cmp.Diff(want, orig, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Raw" }, cmp.Ignore())); diff != "" {
		t.Errorf("Original mismatch (-want +got):\n%s", diff)
	}

	cb, ok := s.Callback(sent.ID)
	if !ok || cb.Status != http.StatusNoContent || cb.Path != "/api/v9/interactions/"+sent.ID+"/"+sent.Token+"/callback" {
		t.Errorf("Callback = %+v, %v; want the 204 callback", cb, ok)
	}
	if d, ok := s.AckLatency(sent.ID); !ok || d <= 0 || d > 3*time.Second {
		t.Errorf("AckLatency = %v, %v; want a positive duration under 3s", d, ok)
	}
}

func TestSecondCallbackRejected(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	dg, got := openSession(t, s)
	_, i := sendAndReceive(testContext(t), t, s, got, SongCommand{Prompt: "twice"})
	deferReply(t, dg, i, 0)
	err := dg.InteractionRespond(i, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: "again"},
	})
	wantRESTError(t, err, http.StatusBadRequest, discordgo.ErrCodeInteractionHasAlreadyBeenAcknowledged)
}

func TestLateCallbackUnknownInteraction(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.AckTimeout = time.Nanosecond
	dg, got := openSession(t, s)
	sent, i := sendAndReceive(testContext(t), t, s, got, SongCommand{Prompt: "too slow"})
	err := dg.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
	wantRESTError(t, err, http.StatusNotFound, discordgo.ErrCodeUnknownInteraction)
	if cb, ok := s.Callback(sent.ID); !ok || cb.Status != http.StatusNotFound {
		t.Errorf("Callback = %+v, %v; want the rejected callback", cb, ok)
	}
}

func TestExpiredTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cmd    SongCommand
		expire bool
	}{
		{"older than 15 minutes", SongCommand{Prompt: "old", CreatedAt: time.Now().Add(-16 * time.Minute)}, false},
		{"ExpireToken", SongCommand{Prompt: "fresh"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewServer(t)
			dg, got := openSession(t, s)
			sent, i := sendAndReceive(testContext(t), t, s, got, tt.cmd)
			if ts, _ := discordgo.SnowflakeTimestamp(sent.ID); !tt.cmd.CreatedAt.IsZero() && ts.Sub(tt.cmd.CreatedAt).Abs() > time.Millisecond {
				t.Errorf("id %s encodes %v; want %v", sent.ID, ts, tt.cmd.CreatedAt)
			}
			deferReply(t, dg, i, 0) // the callback itself is still accepted
			if tt.expire {
				s.ExpireToken(sent.Token)
			}
			_, err := dg.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: ptr("late")})
			wantRESTError(t, err, http.StatusUnauthorized, discordgo.ErrCodeInvalidWebhookTokenProvided)
		})
	}
}

func TestUnknownWebhook(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	dg, got := openSession(t, s)
	_, i := sendAndReceive(testContext(t), t, s, got, SongCommand{Prompt: "x"})
	// Before any callback there is no @original.
	_, err := dg.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: ptr("early")})
	wantRESTError(t, err, http.StatusNotFound, discordgo.ErrCodeUnknownMessage)
	deferReply(t, dg, i, 0)
	for _, in := range []*discordgo.Interaction{
		{AppID: s.AppID, Token: "not-a-token"},
		{AppID: "1234567890", Token: i.Token},
	} {
		_, err := dg.InteractionResponseEdit(in, &discordgo.WebhookEdit{Content: ptr("x")})
		wantRESTError(t, err, http.StatusNotFound, discordgo.ErrCodeUnknownWebhook)
	}
}

func TestInteractionShapes(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	dg := newSession(t, s, "Bot "+s.Token)
	raws := make(chan json.RawMessage, 8)
	dg.AddHandler(func(_ *discordgo.Session, e *discordgo.Event) {
		if e.Type == "INTERACTION_CREATE" {
			raws <- e.RawData
		}
	})
	got := make(chan *discordgo.Interaction, 8)
	dg.AddHandler(func(_ *discordgo.Session, ic *discordgo.InteractionCreate) { got <- ic.Interaction })
	if err := dg.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dg.Close() })
	ctx := testContext(t)

	tests := []struct {
		where     Where
		context   discordgo.InteractionContextType
		owners    map[discordgo.ApplicationIntegrationType]string
		guild     string
		member    bool
		sizeLimit int
	}{
		{InGuild, discordgo.InteractionContextGuild, map[discordgo.ApplicationIntegrationType]string{0: "42"}, "42", true, 10485760},
		{InDM, discordgo.InteractionContextBotDM, map[discordgo.ApplicationIntegrationType]string{0: "0"}, "", false, 26214400},
		{InPrivateChannel, discordgo.InteractionContextPrivateChannel, map[discordgo.ApplicationIntegrationType]string{1: "777"}, "", false, 10485760},
	}
	for _, tt := range tests {
		c := SongCommand{Prompt: "p", Where: tt.where, GuildID: "42", UserID: "777", Username: "ann"}
		if tt.sizeLimit != 10485760 {
			c.AttachmentSizeLimit = tt.sizeLimit
		}
		sent, err := s.SendCommand(ctx, "songs", c)
		if err != nil {
			t.Fatal(err)
		}
		i := receive(ctx, t, got)
		raw := <-raws
		user := i.User
		if i.Member != nil {
			user = i.Member.User
		}
		if i.Context != tt.context || !cmp.Equal(i.AuthorizingIntegrationOwners, tt.owners) ||
			i.GuildID != tt.guild || (i.Member != nil) != tt.member || user == nil || user.ID != "777" || user.Username != "ann" ||
			i.ChannelID != sent.ChannelID || i.Token != sent.Token || i.ApplicationCommandData().Name != "songs" {
			t.Errorf("Where %d: got %+v (user %+v); want context %d owners %v guild %q member %v", tt.where, i, user, tt.context, tt.owners, tt.guild, tt.member)
		}
		var fields struct {
			SizeLimit int             `json:"attachment_size_limit"`
			Channel   json.RawMessage `json:"channel"`
			GuildID   *string         `json:"guild_id"`
		}
		if err := json.Unmarshal(raw, &fields); err != nil || fields.SizeLimit != tt.sizeLimit || fields.Channel == nil || (fields.GuildID != nil) != (tt.guild != "") {
			t.Errorf("Where %d: raw payload %s; want attachment_size_limit %d and a channel object", tt.where, raw, tt.sizeLimit)
		}
	}
}

func TestInteractionLocales(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	_, got := openSession(t, s)
	ctx := testContext(t)
	tests := []struct {
		c                       SongCommand
		wantLocale, wantGuildOf string // "" guild_locale: absent
	}{
		{SongCommand{Prompt: "p"}, "en-US", "en-US"},
		{SongCommand{Prompt: "p", Locale: "de", GuildLocale: "fr"}, "de", "fr"},
		{SongCommand{Prompt: "p", Where: InDM, Locale: "ja", GuildLocale: "fr"}, "ja", ""},
	}
	for _, tt := range tests {
		_, i := sendAndReceive(ctx, t, s, got, tt.c)
		guild := ""
		if i.GuildLocale != nil {
			guild = string(*i.GuildLocale)
		}
		if string(i.Locale) != tt.wantLocale || guild != tt.wantGuildOf {
			t.Errorf("SendCommand(%+v): locale %q, guild_locale %q; want %q, %q", tt.c, i.Locale, guild, tt.wantLocale, tt.wantGuildOf)
		}
	}
}

func TestButtonUpdateMessage(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	dg, got := openSession(t, s)
	ctx := testContext(t)
	sent, err := s.SendButton(ctx, "song:v1:abc:retry", SongCommand{})
	if err != nil {
		t.Fatal(err)
	}
	i := receive(ctx, t, got)
	if i.Type != discordgo.InteractionMessageComponent || i.MessageComponentData().CustomID != "song:v1:abc:retry" || i.Message == nil || len(i.Message.Components) != 1 {
		t.Fatalf("interaction = %+v; want a button click on a message with components", i)
	}
	err = dg.InteractionRespond(i, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseUpdateMessage,
		Data: &discordgo.InteractionResponseData{Content: "retrying"},
	})
	if err != nil {
		t.Fatalf("InteractionRespond(type 7): %v", err)
	}
	m, ok := s.Original(sent.Token)
	if !ok || m.ID != i.Message.ID || m.Content != "retrying" || m.Edits != 1 {
		t.Errorf("Original = %+v, %v; want the button's message updated", m, ok)
	}

	// A second click on the same, now known, message carries its state.
	if _, err := s.SendButton(ctx, "song:v1:abc:retry", SongCommand{MessageID: m.ID}); err != nil {
		t.Fatal(err)
	}
	if i := receive(ctx, t, got); i.Message == nil || i.Message.Content != "retrying" {
		t.Errorf("second click message = %+v; want the updated message", i.Message)
	}
}

// A burst of commands, sent one SendCommand each from many goroutines or
// all in one SendCommands, reaches the session once each, with its own
// prompt, and every one can be acknowledged.
func TestBurstOfCommands(t *testing.T) {
	t.Parallel()
	const n = 200
	send := map[string]func(ctx context.Context, s *Server, cs []SongCommand) ([]Interaction, error){
		"SendCommand each": func(ctx context.Context, s *Server, cs []SongCommand) ([]Interaction, error) {
			ins := make([]Interaction, len(cs))
			errs := make([]error, len(cs))
			var wg sync.WaitGroup
			for k, c := range cs {
				wg.Go(func() { ins[k], errs[k] = s.SendCommand(ctx, "song", c) })
			}
			wg.Wait()
			return ins, errors.Join(errs...)
		},
		"SendCommands": func(ctx context.Context, s *Server, cs []SongCommand) ([]Interaction, error) {
			return s.SendCommands(ctx, "song", cs)
		},
	}
	for name, send := range send {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := NewServer(t)
			dg, got := openSession(t, s)
			ctx := testContext(t)
			var mu sync.Mutex
			prompts := map[string]string{} // interaction id -> prompt the session read
			go func() {
				for i := range got {
					mu.Lock()
					prompts[i.ID] = i.ApplicationCommandData().Options[0].StringValue()
					mu.Unlock()
					go dg.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
				}
			}()
			cs := burstCommands(n)
			ins, err := send(ctx, s, cs)
			if err != nil || len(ins) != n {
				t.Fatalf("sent %d interactions, %v; want %d", len(ins), err, n)
			}
			err = s.Wait(ctx, func() bool {
				for _, in := range ins {
					if cb, ok := s.Callback(in.ID); !ok || cb.Status != http.StatusNoContent {
						return false
					}
				}
				return true
			})
			if err != nil {
				t.Fatalf("not every interaction was acknowledged: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(prompts) != n {
				t.Errorf("the session read %d interactions; want %d, each once", len(prompts), n)
			}
			for k, in := range ins {
				if in.UserID != cs[k].UserID || in.SentAt.IsZero() || prompts[in.ID] != cs[k].Prompt {
					t.Errorf("interaction %d = %+v carrying %q; want user %s, a send time and prompt %q", k, in, prompts[in.ID], cs[k].UserID, cs[k].Prompt)
				}
			}
		})
	}
}

func TestSendCommandWaitsForASession(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.SendCommand(ctx, "song", SongCommand{Prompt: "nobody"}); err == nil {
		t.Fatal("SendCommand without a session = nil error; want the context's")
	}
}

func TestReplyWithFileAndResponse(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	_, got := openSession(t, s)
	sent, _ := sendAndReceive(testContext(t), t, s, got, SongCommand{Prompt: "now"})

	// A type 4 reply with a file, asking for the response object.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("payload_json", `{"type":4,"data":{"content":"here","allowed_mentions":{"parse":[]}}}`)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="files[0]"; filename="a.ogg"`)
	h.Set("Content-Type", "audio/ogg")
	part, _ := mw.CreatePart(h)
	part.Write([]byte("OggS"))
	mw.Close()
	url := s.URL + "/api/v10/interactions/" + sent.ID + "/" + sent.Token + "/callback?with_response=true"
	resp, err := http.Post(url, mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Interaction struct {
			ResponseMessageID string `json:"response_message_id"`
		} `json:"interaction"`
		Resource struct {
			Type    int `json:"type"`
			Message struct {
				Content     string `json:"content"`
				Attachments []struct {
					Filename string `json:"filename"`
				} `json:"attachments"`
			} `json:"message"`
		} `json:"resource"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("callback = %d, %v", resp.StatusCode, err)
	}
	orig, ok := s.Original(sent.Token)
	if !ok || out.Interaction.ResponseMessageID != orig.ID || out.Resource.Type != 4 || out.Resource.Message.Content != "here" ||
		len(out.Resource.Message.Attachments) != 1 || out.Resource.Message.Attachments[0].Filename != "a.ogg" {
		t.Errorf("callback response %+v; want message %s with a.ogg", out, orig.ID)
	}
	if string(orig.AllowedMentions) != `{"parse":[]}` || len(orig.Files) != 1 || orig.Files[0].ContentType != "audio/ogg" || orig.Thinking {
		t.Errorf("Original = %+v; want the reply with its file and allowed_mentions", orig)
	}
}
