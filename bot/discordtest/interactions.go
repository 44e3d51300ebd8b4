package discordtest

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"
)

//go:embed testdata/*.json
var testdata embed.FS

// Defaults for SongCommand's empty fields: the ids of Discord's docs
// examples.
const (
	DefaultGuildID          = "290926798626357999"
	DefaultChannelID        = "645027906669510667"  // a guild text channel
	DefaultPrivateChannelID = "1119730617924472885" // a DM between two users
	DefaultUserID           = "53908232506183680"
	DefaultUsername         = "mason"
	defaultSizeLimit        = 10 << 20
)

// Where says where an interaction happens.
type Where int

const (
	// InGuild: a guild member in a guild channel (context 0).
	InGuild Where = iota
	// InDM: the bot's DM with the user (context 1): user, no member, no
	// guild_id. The channel defaults to the DM channel the fake keeps for
	// the user, the one POST /users/@me/channels returns.
	InDM
	// InPrivateChannel: a user-installed app used in a DM between users
	// (context 2), authorizing_integration_owners {"1": user id}. The bot
	// is not in that channel: POST /channels/{id}/messages there answers
	// 403 50001, as Discord does.
	InPrivateChannel
)

// SongCommand describes the user's side of an interaction.
type SongCommand struct {
	Prompt  string         // the "prompt" string option; omitted when empty
	Options map[string]any // extra options by name: bool, string, integer or float values
	Where   Where
	// Defaults: DefaultGuildID, DefaultChannelID (InGuild), the user's DM
	// channel (InDM), DefaultPrivateChannelID (InPrivateChannel),
	// DefaultUserID, DefaultUsername. GuildID is ignored outside guilds.
	GuildID, ChannelID, UserID, Username string
	// CreatedAt is the interaction id's snowflake time, on Discord's clock;
	// zero means now (plus Server.ClockSkew). The token stops working
	// TokenLifetime after it.
	CreatedAt time.Time
	// AttachmentSizeLimit is "attachment_size_limit"; 0 means 10485760.
	// Uploads bigger than it answer 413 40005.
	AttachmentSizeLimit int
	// Locale is the user's client language ("locale"), GuildLocale the
	// server's ("guild_locale", in guilds only); "" means en-US, as in
	// Discord's examples.
	Locale, GuildLocale string
	// Subcommand, when set, nests Prompt and Options under a subcommand
	// option of that name (type 1), as Discord sends /cmd sub opt:...
	Subcommand string
	// Permissions is the member's permission bitfield in guilds (the
	// "member.permissions" string); "" keeps the template's, which has
	// neither Manage Server nor Manage Messages.
	Permissions string
	// MessageID, for SendButton, is the message the button is on. If the
	// fake knows it (a reply, follow-up or channel message), the
	// interaction carries its current state and responses of type 6/7
	// apply to it; otherwise a message is made from the recorded template.
	MessageID string
}

// Interaction identifies a dispatched interaction.
type Interaction struct {
	ID, Token, ChannelID, GuildID, UserID string
	SentAt                                time.Time // when the fake wrote INTERACTION_CREATE
}

type interactionState struct {
	byID    map[string]*interaction
	byToken map[string]*interaction
	expired map[string]bool // tokens passed to ExpireToken
	users   map[string]string
}

func (st *interactionState) init() {
	st.byID = map[string]*interaction{}
	st.byToken = map[string]*interaction{}
	st.expired = map[string]bool{}
	st.users = map[string]string{}
}

type interaction struct {
	id, token   string
	kind        int // 2 application command, 3 message component
	channelID   string
	guildID     string
	userID      string
	user        map[string]any
	owners      map[string]any
	created     time.Time
	sizeLimit   int
	sentAt      time.Time
	callbackAt  time.Time
	callback    Request
	seen        bool // a callback arrived
	acked       bool // a callback succeeded
	original    string
	componentOf string // the message a button is on
	payload     []byte // the JSON posted to an interactions endpoint
}

// messageType is the type of the messages answering the interaction:
// CHAT_INPUT_COMMAND (20) for commands, REPLY (19) for buttons.
func (in *interaction) messageType() int {
	if in.kind == 3 {
		return 19
	}
	return 20
}

// SendCommand dispatches an application command interaction (type 2) for
// the chat input command name, with c.Prompt as its "prompt" option, to a
// ready gateway session, waiting for one if needed. As Discord's client,
// it refuses (ErrCommandHidden) a registered command the user could not
// pick: one whose contexts leave out c.Where, or whose
// default_member_permissions the member lacks.
func (s *Server) SendCommand(ctx context.Context, name string, c SongCommand) (Interaction, error) {
	if err := s.pickable(name, c); err != nil {
		return Interaction{}, err
	}
	return s.send(ctx, 2, c, s.commandData(name, c))
}

// commandData fills an APPLICATION_COMMAND interaction's data: the command
// named name, as registered in the interaction's guild or globally, with
// c's options. The gateway and the interactions endpoint share it.
func (s *Server) commandData(name string, c SongCommand) func(in *interaction, p map[string]any) {
	return func(in *interaction, p map[string]any) {
		id, guildCmd := s.commandID(in.guildID, name)
		data := map[string]any{"id": id, "name": name, "type": 1}
		if opts := commandOptions(c); len(opts) > 0 {
			data["options"] = opts
		}
		if guildCmd {
			data["guild_id"] = in.guildID
		}
		p["data"] = data
	}
}

// SendButton dispatches a message component interaction (type 3) for a
// button click with customID.
func (s *Server) SendButton(ctx context.Context, customID string, c SongCommand) (Interaction, error) {
	return s.send(ctx, 3, c, func(in *interaction, p map[string]any) {
		p["data"] = map[string]any{"custom_id": customID, "component_type": 2}
		m := s.msgs.byID[c.MessageID]
		if m == nil {
			m = s.templateMessage(in, customID, c.MessageID)
		}
		in.componentOf = m.ID
		p["message"] = s.wireMessage(m)
	})
}

// Channel is a channel option's value: its id, sent as type 7.
type Channel string

func commandOptions(c SongCommand) []any {
	opts := leafOptions(c)
	if c.Subcommand == "" {
		return opts
	}
	sub := map[string]any{"name": c.Subcommand, "type": 1}
	if len(opts) > 0 {
		sub["options"] = opts
	}
	return []any{sub}
}

func leafOptions(c SongCommand) []any {
	var opts []any
	if c.Prompt != "" {
		opts = append(opts, map[string]any{"name": "prompt", "type": 3, "value": c.Prompt})
	}
	for _, k := range slices.Sorted(maps.Keys(c.Options)) {
		if k == "prompt" && c.Prompt != "" {
			continue
		}
		v := c.Options[k]
		typ := 3
		switch cv := v.(type) {
		case Channel:
			typ, v = 7, string(cv)
		case bool:
			typ = 5
		case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
			typ = 4
		case float32, float64:
			typ = 10
		}
		opts = append(opts, map[string]any{"name": k, "type": typ, "value": v})
	}
	return opts
}

func loadJSON(name string) map[string]any {
	b, err := testdata.ReadFile("testdata/" + name)
	if err != nil {
		panic(fmt.Sprintf("discordtest: %v", err))
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(fmt.Sprintf("discordtest: testdata/%s: %v", name, err))
	}
	return m
}

func userObject(id, name string) map[string]any {
	return map[string]any{
		"avatar":                 nil,
		"avatar_decoration_data": nil,
		"clan":                   nil,
		"discriminator":          "0",
		"global_name":            name,
		"id":                     id,
		"public_flags":           0,
		"username":               name,
	}
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (s *Server) send(ctx context.Context, kind int, c SongCommand, build func(*interaction, map[string]any)) (Interaction, error) {
	in, d, err := s.prepareEvent(kind, c, build)
	if err != nil {
		return Interaction{}, err
	}
	return s.dispatchInteraction(ctx, in, d)
}

// SendCommands is SendCommand for many commands at once, as a crowd
// sends them: every interaction is built and encoded first, then all are
// dispatched together, so that what the fake spends building them (on
// Discord, another machine's work) is not spent while the bot answers.
func (s *Server) SendCommands(ctx context.Context, name string, cs []SongCommand) ([]Interaction, error) {
	ins := make([]*interaction, len(cs))
	ds := make([]json.RawMessage, len(cs))
	for i, c := range cs {
		if err := s.pickable(name, c); err != nil {
			return nil, err
		}
		var err error
		if ins[i], ds[i], err = s.prepareEvent(2, c, s.commandData(name, c)); err != nil {
			return nil, err
		}
	}
	out := make([]Interaction, len(cs))
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i := range cs {
		wg.Go(func() { out[i], errs[i] = s.dispatchInteraction(ctx, ins[i], ds[i]) })
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// prepareEvent is prepare with the payload encoded, outside any lock.
func (s *Server) prepareEvent(kind int, c SongCommand, build func(*interaction, map[string]any)) (*interaction, json.RawMessage, error) {
	in, p, err := s.prepare(kind, c, build)
	if err != nil {
		return nil, nil, err
	}
	d, err := json.Marshal(p)
	if err != nil {
		return nil, nil, fmt.Errorf("discordtest: encode interaction: %w", err)
	}
	return in, d, nil
}

// dispatchInteraction sends a prepared INTERACTION_CREATE to its shard.
func (s *Server) dispatchInteraction(ctx context.Context, in *interaction, d json.RawMessage) (Interaction, error) {
	err := s.dispatchTo(ctx, shardOf(in.guildID, max(s.Shards, 1)), "INTERACTION_CREATE", d, func() {
		s.mu.Lock()
		in.sentAt = time.Now()
		s.mu.Unlock()
	})
	if err != nil {
		return Interaction{}, fmt.Errorf("discordtest: dispatch interaction: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notify()
	return in.public(), nil
}

// public is what a test learns of an interaction. The caller holds s.mu.
func (in *interaction) public() Interaction {
	return Interaction{
		ID: in.id, Token: in.token, ChannelID: in.channelID, GuildID: in.guildID,
		UserID: in.userID, SentAt: in.sentAt,
	}
}

// prepare builds an interaction and its payload and registers it, so its
// callback and webhooks are accepted once it is sent.
func (s *Server) prepare(kind int, c SongCommand, build func(*interaction, map[string]any)) (*interaction, map[string]any, error) {
	templates := map[Where]string{
		InGuild:          "interaction_guild.json",
		InDM:             "interaction_dm.json",
		InPrivateChannel: "interaction_private_channel.json",
	}
	tmpl, ok := templates[c.Where]
	if !ok {
		return nil, nil, fmt.Errorf("discordtest: unknown Where %d", c.Where)
	}
	p := loadJSON(tmpl)
	channel := p["channel"].(map[string]any)
	created := c.CreatedAt
	if created.IsZero() {
		created = time.Now().Add(s.ClockSkew)
	}
	in := &interaction{
		kind:      kind,
		userID:    or(c.UserID, DefaultUserID),
		created:   created,
		sizeLimit: c.AttachmentSizeLimit,
	}
	if in.sizeLimit == 0 {
		in.sizeLimit = defaultSizeLimit
	}
	in.user = userObject(in.userID, or(c.Username, DefaultUsername))

	s.mu.Lock()
	in.id = s.newID(created)
	in.token = base64.RawURLEncoding.EncodeToString([]byte("interaction:" + in.id + ":" + rand.Text() + rand.Text()))
	switch c.Where {
	case InGuild:
		in.guildID = or(c.GuildID, DefaultGuildID)
		in.channelID = or(c.ChannelID, DefaultChannelID)
		in.owners = map[string]any{"0": in.guildID}
		p["guild_id"] = in.guildID
		p["guild"].(map[string]any)["id"] = in.guildID
		channel["guild_id"] = in.guildID
		p["member"].(map[string]any)["user"] = in.user
		if c.Permissions != "" {
			p["member"].(map[string]any)["permissions"] = c.Permissions
		}
	case InDM:
		in.channelID = or(c.ChannelID, s.dmChannel(in.userID))
		in.owners = map[string]any{"0": "0"}
		channel["recipients"] = []any{in.user}
		p["user"] = in.user
	case InPrivateChannel:
		in.channelID = or(c.ChannelID, DefaultPrivateChannelID)
		in.owners = map[string]any{"1": in.userID}
		s.msgs.private[in.channelID] = true
		p["user"] = in.user
	}
	p["locale"] = or(c.Locale, "en-US")
	if c.Where == InGuild {
		p["guild_locale"] = or(c.GuildLocale, "en-US")
		p["guild"].(map[string]any)["locale"] = p["guild_locale"]
	}
	channel["id"] = in.channelID
	p["channel_id"] = in.channelID
	p["authorizing_integration_owners"] = in.owners
	p["id"], p["token"], p["type"] = in.id, in.token, kind
	p["application_id"] = s.AppID
	p["attachment_size_limit"] = in.sizeLimit
	s.inter.users[in.userID] = or(c.Username, DefaultUsername)
	build(in, p)
	s.inter.byID[in.id] = in
	s.inter.byToken[in.token] = in
	s.mu.Unlock()
	return in, p, nil
}

// Callback returns the first request to the interaction's callback
// endpoint, whatever the fake answered (see its Status).
func (s *Server) Callback(interactionID string) (Request, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.inter.byID[interactionID]
	if in == nil || !in.seen {
		return Request{}, false
	}
	return in.callback, true
}

// AckLatency returns the time from the gateway write of INTERACTION_CREATE
// to the arrival of the interaction's first callback.
func (s *Server) AckLatency(interactionID string) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.inter.byID[interactionID]
	if in == nil || !in.seen {
		return 0, false
	}
	return in.callbackAt.Sub(in.sentAt), true
}

// ExpireToken makes later webhook calls with token answer 401
// {"message": "Invalid Webhook Token", "code": 50027}.
func (s *Server) ExpireToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inter.expired[token] = true
}

// interactionCallback is POST /interactions/{id}/{token}/callback.
func (s *Server) interactionCallback(c *call) reply {
	in := s.inter.byID[c.params["id"]]
	if in == nil || in.token != c.params["token"] || in.sentAt.IsZero() {
		return apiError(http.StatusNotFound, 10062, "Unknown interaction")
	}
	if !in.seen {
		in.seen, in.callbackAt = true, c.req.Time
		c.onRecord = func(r Request) { in.callback = r }
	}
	if in.acked {
		return apiError(http.StatusBadRequest, 40060, "Interaction has already been acknowledged.")
	}
	if c.req.Time.Sub(in.sentAt) > s.AckTimeout {
		return apiError(http.StatusNotFound, 10062, "Unknown interaction")
	}
	obj, rep := c.object()
	if rep != nil {
		return *rep
	}
	var typ int
	if json.Unmarshal(obj["type"], &typ) != nil {
		return formError("BASE_TYPE_REQUIRED", "This field is required", "type")
	}
	var data map[string]json.RawMessage
	if raw := obj["data"]; len(raw) > 0 && json.Unmarshal(raw, &data) != nil {
		return formError("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType", "data")
	}
	if data == nil {
		data = map[string]json.RawMessage{}
	}
	badType := formError("INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type", "type")
	msgType := in.messageType()
	switch typ {
	case 4: // CHANNEL_MESSAGE_WITH_SOURCE
		m, rep := s.createMessage(in.channelID, msgType, in, data, c.req.Files, webhookFlags, in.sizeLimit, obj["data"])
		if rep != nil {
			return *rep
		}
		in.original = m.ID
	case 5: // DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
		var flags int
		json.Unmarshal(data["flags"], &flags)
		m := s.newMessage(in.channelID, msgType, in)
		m.Flags, m.Thinking = flags, true
		m.AllowedMentions = data["allowed_mentions"]
		m.Raw = obj["data"]
		in.original = m.ID
	case 6: // DEFERRED_UPDATE_MESSAGE
		if in.kind != 3 {
			return badType
		}
		in.original = in.componentOf
	case 7: // UPDATE_MESSAGE
		if in.kind != 3 {
			return badType
		}
		m := s.msgs.byID[in.componentOf]
		if m == nil {
			return apiError(http.StatusNotFound, 10008, "Unknown Message")
		}
		if rep := s.editMessage(m, data, c.req.Files, in.sizeLimit, obj["data"]); rep != nil {
			return *rep
		}
		in.original = m.ID
	case 9: // MODAL
	default:
		return badType
	}
	in.acked = true
	if c.req.Query.Get("with_response") != "true" {
		return noContent()
	}
	resp := map[string]any{
		"interaction": map[string]any{"id": in.id, "type": in.kind, "activity_instance_id": nil},
		"resource":    map[string]any{"type": typ},
	}
	if m := s.msgs.byID[in.original]; m != nil {
		resp["interaction"].(map[string]any)["response_message_id"] = m.ID
		resp["interaction"].(map[string]any)["response_message_loading"] = m.Thinking
		resp["interaction"].(map[string]any)["response_message_ephemeral"] = m.Flags&flagEphemeral != 0
		resp["resource"].(map[string]any)["message"] = s.wireMessage(m)
	}
	return jsonReply(http.StatusOK, resp)
}

// webhookInteraction resolves the interaction of a webhook call.
func (s *Server) webhookInteraction(c *call) (*interaction, *reply) {
	in := s.inter.byToken[c.params["token"]]
	if in == nil || c.params["app"] != s.AppID {
		rep := apiError(http.StatusNotFound, 10015, "Unknown Webhook")
		return nil, &rep
	}
	if s.inter.expired[in.token] || c.req.Time.Add(s.ClockSkew).Sub(in.created) > s.TokenLifetime {
		rep := apiError(http.StatusUnauthorized, 50027, "Invalid Webhook Token")
		return nil, &rep
	}
	return in, nil
}
