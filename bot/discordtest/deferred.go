package discordtest

import (
	"crypto/rand"
	"encoding/base64"
	"time"
)

// Deferred registers a /song interaction as if it had been dispatched and
// the bot had answered it with a deferred reply (callback type 5, not
// ephemeral), without the gateway. A load test uses it to put pending songs
// straight into the bot's store, thousands at a time, and still have the
// bot's edits of @original land (and be counted) as they would on Discord.
// The interaction has no Callback or AckLatency, since the bot never saw
// it; its token lives TokenLifetime from c.CreatedAt (default now).
func (s *Server) Deferred(c SongCommand) Interaction {
	created := c.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	in := &interaction{kind: 2, userID: or(c.UserID, DefaultUserID), created: created, sizeLimit: c.AttachmentSizeLimit}
	if in.sizeLimit == 0 {
		in.sizeLimit = defaultSizeLimit
	}
	in.user = userObject(in.userID, or(c.Username, DefaultUsername))

	s.mu.Lock()
	defer s.mu.Unlock()
	in.id = s.newID(created)
	in.token = base64.RawURLEncoding.EncodeToString([]byte("interaction:" + in.id + ":" + rand.Text() + rand.Text()))
	switch c.Where {
	case InDM:
		in.channelID = or(c.ChannelID, s.dmChannel(in.userID))
	case InPrivateChannel:
		in.channelID = or(c.ChannelID, DefaultPrivateChannelID)
		s.msgs.private[in.channelID] = true
	default:
		in.guildID = or(c.GuildID, DefaultGuildID)
		in.channelID = or(c.ChannelID, DefaultChannelID)
	}
	in.sentAt = time.Now()
	in.acked = true // a callback now answers 40060, as for any answered interaction
	m := s.newMessage(in.channelID, in.messageType(), in)
	m.Thinking = true
	in.original = m.ID
	s.inter.users[in.userID] = or(c.Username, DefaultUsername)
	s.inter.byID[in.id] = in
	s.inter.byToken[in.token] = in
	s.notify()
	return Interaction{
		ID: in.id, Token: in.token, ChannelID: in.channelID, GuildID: in.guildID,
		UserID: in.userID, SentAt: in.sentAt,
	}
}
