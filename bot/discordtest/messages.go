package discordtest

import (
	"encoding/json"
	"slices"
	"time"
	"unicode/utf8"
)

// Message flags the fake cares about.
const (
	flagSuppressEmbeds        = 1 << 2
	flagEphemeral             = 1 << 6
	flagLoading               = 1 << 7
	flagSuppressNotifications = 1 << 12
	flagComponentsV2          = 1 << 15

	webhookFlags = flagSuppressEmbeds | flagEphemeral | flagSuppressNotifications | flagComponentsV2
	channelFlags = flagSuppressEmbeds | flagSuppressNotifications | flagComponentsV2
)

// Message is the fake's current state of a message.
type Message struct {
	ID, ChannelID string
	Content       string
	// Flags are the message flags (64 ephemeral). A deferred reply keeps
	// the flags of its callback; Discord's LOADING flag (128), which the
	// wire JSON carries while the reply is deferred, is Thinking instead.
	Flags       int
	Embeds      []json.RawMessage
	Components  []json.RawMessage
	Attachments []json.RawMessage // as Discord returns them, one per file
	// AllowedMentions is the raw "allowed_mentions" of the request that
	// last created or edited the message; nil if that request had none.
	AllowedMentions json.RawMessage
	Files           []File // the uploads behind Attachments, index for index
	Edits           int    // PATCHes applied
	Raw             json.RawMessage
	// Thinking is true for a deferred reply (callback type 5) that no edit
	// or follow-up has resolved yet: the user sees "thinking...".
	Thinking bool
}

type message struct {
	Message
	typ     int
	created time.Time
	edited  time.Time
	webhook bool
	in      *interaction // the interaction it answers, if any
	attIDs  []string     // ids of Attachments
}

type messageState struct {
	byID      map[string]*message
	channels  map[string][]string // POST /channels/{id}/messages, in order
	forbidden map[string]bool     // ForbidChannel
	private   map[string]bool     // channels of InPrivateChannel interactions
	dms       map[string]string   // user id -> DM channel id
	dmOpened  map[string]bool     // users whose DM the bot opened
}

func (st *messageState) init() {
	st.byID = map[string]*message{}
	st.channels = map[string][]string{}
	st.forbidden = map[string]bool{}
	st.private = map[string]bool{}
	st.dms = map[string]string{}
	st.dmOpened = map[string]bool{}
}

func (m *message) snapshot() Message {
	out := m.Message
	out.Embeds = slices.Clone(m.Embeds)
	out.Components = slices.Clone(m.Components)
	out.Attachments = slices.Clone(m.Attachments)
	out.Files = slices.Clone(m.Files)
	return out
}

// Original returns the current @original message of the interaction with
// token: after a callback of type 4 or 5 (or 6/7 for a button, the
// message the button is on) and any edits.
func (s *Server) Original(token string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.inter.byToken[token]
	if in == nil {
		return Message{}, false
	}
	m := s.msgs.byID[in.original]
	if m == nil {
		return Message{}, false
	}
	return m.snapshot(), true
}

// ChannelMessages returns the messages posted with POST
// /channels/{id}/messages in channelID, DM channels included.
func (s *Server) ChannelMessages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, id := range s.msgs.channels[channelID] {
		if m := s.msgs.byID[id]; m != nil {
			out = append(out, m.snapshot())
		}
	}
	return out
}

// DMChannel returns the DM channel id the bot opened for a user with POST
// /users/@me/channels, "" if it did not.
func (s *Server) DMChannel(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.msgs.dmOpened[userID] {
		return ""
	}
	return s.msgs.dms[userID]
}

// ForbidChannel makes POST /channels/{id}/messages to channelID answer 403
// {"message": "Missing Access", "code": 50001}.
func (s *Server) ForbidChannel(channelID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs.forbidden[channelID] = true
}

// dmChannel returns the user's DM channel id, allocating it. The caller
// holds s.mu.
func (s *Server) dmChannel(userID string) string {
	id, ok := s.msgs.dms[userID]
	if !ok {
		id = s.newID(time.Now())
		s.msgs.dms[userID] = id
	}
	return id
}

// newMessage registers an empty message. The caller holds s.mu.
func (s *Server) newMessage(channelID string, typ int, in *interaction) *message {
	now := time.Now()
	m := &message{typ: typ, created: now, webhook: in != nil, in: in}
	m.ID, m.ChannelID = s.newID(now), channelID
	s.msgs.byID[m.ID] = m
	return m
}

// createMessage validates a message payload and registers the message.
func (s *Server) createMessage(channelID string, typ int, in *interaction, obj map[string]json.RawMessage, files []File, flagMask, sizeLimit int, raw json.RawMessage) (*message, *reply) {
	now := time.Now()
	m := &message{typ: typ, created: now, webhook: in != nil, in: in}
	m.ID, m.ChannelID = s.newID(now), channelID
	if rep := s.apply(m, obj, files, sizeLimit, true, flagMask, raw); rep != nil {
		return nil, rep
	}
	s.msgs.byID[m.ID] = m
	return m, nil
}

// editMessage applies a PATCH.
func (s *Server) editMessage(m *message, obj map[string]json.RawMessage, files []File, sizeLimit int, raw json.RawMessage) *reply {
	if rep := s.apply(m, obj, files, sizeLimit, false, 0, raw); rep != nil {
		return rep
	}
	m.Edits++
	m.edited = time.Now()
	return nil
}

// apply sets a create or edit payload on m, or changes nothing and returns
// Discord's error. On edits only SUPPRESS_EMBEDS may change in flags, so
// ephemerality is kept.
func (s *Server) apply(m *message, obj map[string]json.RawMessage, files []File, sizeLimit int, create bool, flagMask int, raw json.RawMessage) *reply {
	next := m.Message
	if v, ok := obj["content"]; ok {
		var content *string
		if json.Unmarshal(v, &content) != nil {
			r := formError("BASE_TYPE_STRING", "Could not interpret value as string.", "content")
			return &r
		}
		next.Content = ""
		if content != nil {
			next.Content = *content
		}
	}
	if utf8.RuneCountInString(next.Content) > 2000 {
		r := formError("BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.", "content")
		return &r
	}
	for _, f := range []struct {
		key string
		dst *[]json.RawMessage
	}{{"embeds", &next.Embeds}, {"components", &next.Components}} {
		if v, ok := obj[f.key]; ok {
			var list []json.RawMessage
			if json.Unmarshal(v, &list) != nil {
				r := formError("BASE_TYPE_ARRAY", "Must be an array.", f.key)
				return &r
			}
			*f.dst = list
		}
	}
	if v, ok := obj["flags"]; ok {
		var flags int
		json.Unmarshal(v, &flags)
		if create {
			next.Flags = flags & flagMask
		} else {
			next.Flags = next.Flags&^flagSuppressEmbeds | flags&flagSuppressEmbeds
		}
	}
	if rep := validateEmbeds(next.Embeds); rep != nil {
		return rep
	}
	if next.Flags&flagComponentsV2 == 0 {
		if rep := validateComponents(next.Components); rep != nil {
			return rep
		}
	}
	atts, ids, afiles, rep := s.attachments(m, obj, files, sizeLimit, create, next.Flags&flagEphemeral != 0)
	if rep != nil {
		return rep
	}
	next.Attachments, next.Files = atts, afiles
	var stickers []json.RawMessage
	json.Unmarshal(obj["sticker_ids"], &stickers)
	sticker := len(stickers) > 0
	poll := len(obj["poll"]) > 0 && string(obj["poll"]) != "null"
	if next.Content == "" && len(next.Embeds) == 0 && len(next.Components) == 0 &&
		len(next.Attachments) == 0 && !sticker && !poll {
		r := apiError(400, 50006, "Cannot send an empty message")
		return &r
	}
	next.AllowedMentions = obj["allowed_mentions"]
	next.Raw = raw
	next.Thinking = false
	m.Message, m.attIDs = next, ids
	return nil
}

// templateMessage registers the recorded message a button is on. The
// caller holds s.mu.
func (s *Server) templateMessage(in *interaction, customID, id string) *message {
	t := loadJSON("component_message.json")
	comps := t["components"].([]any)
	comps[0].(map[string]any)["components"].([]any)[0].(map[string]any)["custom_id"] = customID
	created := time.Now().Add(-time.Minute)
	m := &message{typ: 20, created: created, webhook: true}
	m.ID, m.ChannelID = or(id, s.newID(created)), in.channelID
	m.Content, _ = t["content"].(string)
	for _, c := range comps {
		b, _ := json.Marshal(c)
		m.Components = append(m.Components, b)
	}
	s.msgs.byID[m.ID] = m
	return m
}

func nonNil(list []json.RawMessage) any {
	if list == nil {
		return []any{}
	}
	return list
}

// wireMessage is a message object as Discord returns it. The caller holds
// s.mu.
func (s *Server) wireMessage(m *message) map[string]any {
	flags := m.Flags
	if m.Thinking {
		flags |= flagLoading
	}
	out := map[string]any{
		"id":               m.ID,
		"type":             m.typ,
		"content":          m.Content,
		"channel_id":       m.ChannelID,
		"author":           s.author(),
		"attachments":      nonNil(m.Attachments),
		"embeds":           nonNil(m.Embeds),
		"components":       nonNil(m.Components),
		"mentions":         []any{},
		"mention_roles":    []any{},
		"mention_everyone": false,
		"pinned":           false,
		"tts":              false,
		"timestamp":        discordTime(m.created),
		"edited_timestamp": nil,
		"flags":            flags,
	}
	if !m.edited.IsZero() {
		out["edited_timestamp"] = discordTime(m.edited)
	}
	if m.webhook {
		out["webhook_id"], out["application_id"] = s.AppID, s.AppID
	}
	if in := m.in; in != nil {
		out["interaction_metadata"] = map[string]any{
			"id":                             in.id,
			"type":                           in.kind,
			"user":                           in.user,
			"authorizing_integration_owners": in.owners,
		}
	}
	return out
}

// author is the bot as a message author.
func (s *Server) author() map[string]any {
	return map[string]any{
		"avatar":        nil,
		"bot":           true,
		"clan":          nil,
		"discriminator": "0",
		"global_name":   nil,
		"id":            s.AppID,
		"public_flags":  0,
		"username":      "songbot",
	}
}
