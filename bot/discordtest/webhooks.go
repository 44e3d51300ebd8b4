package discordtest

import (
	"net/http"
	"slices"
)

// maxFollowups is how many follow-ups an interaction may have. Discord
// enforces it for user-installed apps; the fake for every interaction.
const maxFollowups = 5

// createFollowup is POST /webhooks/{app}/{token}.
func (s *Server) createFollowup(c *call) reply {
	in, rep := s.webhookInteraction(c)
	if rep != nil {
		return *rep
	}
	if !in.acked {
		// The webhook exists only once the interaction is acknowledged.
		return apiError(http.StatusNotFound, 10015, "Unknown Webhook")
	}
	if len(in.followups) >= maxFollowups {
		return apiError(http.StatusBadRequest, 40094, "This interaction has hit the maximum number of follow up messages")
	}
	obj, rep := c.object()
	if rep != nil {
		return *rep
	}
	var m *message
	if orig := s.msgs.byID[in.original]; orig != nil && orig.Thinking {
		// A follow-up to a deferred reply resolves the loading message,
		// keeping its ephemerality (discord-api-docs#2742).
		fields := map[string]bool{"content": true, "embeds": true, "components": true, "attachments": true, "allowed_mentions": true}
		for k := range obj {
			if !fields[k] {
				delete(obj, k)
			}
		}
		if rep := s.apply(orig, obj, c.req.Files, in.sizeLimit, false, 0, c.req.JSON); rep != nil {
			return *rep
		}
		m = orig
	} else {
		m, rep = s.createMessage(in.channelID, in.messageType(), in, obj, c.req.Files, webhookFlags, in.sizeLimit, c.req.JSON)
		if rep != nil {
			return *rep
		}
	}
	in.followups = append(in.followups, m.ID)
	if c.req.Query.Get("wait") != "true" {
		return noContent()
	}
	return jsonReply(http.StatusOK, s.wireMessage(m))
}

// webhookMessage resolves {msg} of /webhooks/{app}/{token}/messages/{msg}.
func (s *Server) webhookMessage(c *call) (*interaction, *message, *reply) {
	in, rep := s.webhookInteraction(c)
	if rep != nil {
		return nil, nil, rep
	}
	id := c.params["msg"]
	if id == "@original" {
		id = in.original
	} else if id != in.original && !slices.Contains(in.followups, id) {
		id = ""
	}
	m := s.msgs.byID[id]
	if id == "" || m == nil {
		r := apiError(http.StatusNotFound, 10008, "Unknown Message")
		return nil, nil, &r
	}
	return in, m, nil
}

func (s *Server) getWebhookMessage(c *call) reply {
	_, m, rep := s.webhookMessage(c)
	if rep != nil {
		return *rep
	}
	return jsonReply(http.StatusOK, s.wireMessage(m))
}

func (s *Server) editWebhookMessage(c *call) reply {
	in, m, rep := s.webhookMessage(c)
	if rep != nil {
		return *rep
	}
	obj, rep := c.object()
	if rep != nil {
		return *rep
	}
	if rep := s.editMessage(m, obj, c.req.Files, in.sizeLimit, c.req.JSON); rep != nil {
		return *rep
	}
	return jsonReply(http.StatusOK, s.wireMessage(m))
}

func (s *Server) deleteWebhookMessage(c *call) reply {
	in, m, rep := s.webhookMessage(c)
	if rep != nil {
		return *rep
	}
	delete(s.msgs.byID, m.ID)
	if in.original == m.ID {
		in.original = ""
	}
	in.followups = slices.DeleteFunc(in.followups, func(id string) bool { return id == m.ID })
	return noContent()
}

// channelAccess checks POST/PATCH /channels/{channel}/messages/....
func (s *Server) channelAccess(ch string) *reply {
	if !isSnowflake(ch) {
		r := apiError(http.StatusNotFound, 10003, "Unknown Channel")
		return &r
	}
	if s.msgs.forbidden[ch] || s.msgs.private[ch] {
		r := apiError(http.StatusForbidden, 50001, "Missing Access")
		return &r
	}
	return nil
}

func (s *Server) createChannelMessage(c *call) reply {
	ch := c.params["channel"]
	if rep := s.channelAccess(ch); rep != nil {
		return *rep
	}
	obj, rep := c.object()
	if rep != nil {
		return *rep
	}
	m, rep := s.createMessage(ch, 0, nil, obj, c.req.Files, channelFlags, defaultSizeLimit, c.req.JSON)
	if rep != nil {
		return *rep
	}
	s.msgs.channels[ch] = append(s.msgs.channels[ch], m.ID)
	return jsonReply(http.StatusOK, s.wireMessage(m))
}

func (s *Server) editChannelMessage(c *call) reply {
	ch := c.params["channel"]
	if rep := s.channelAccess(ch); rep != nil {
		return *rep
	}
	m := s.msgs.byID[c.params["msg"]]
	if m == nil || m.ChannelID != ch {
		return apiError(http.StatusNotFound, 10008, "Unknown Message")
	}
	if m.webhook {
		return apiError(http.StatusForbidden, 50005, "Cannot edit a message authored by another user")
	}
	obj, rep := c.object()
	if rep != nil {
		return *rep
	}
	if rep := s.editMessage(m, obj, c.req.Files, defaultSizeLimit, c.req.JSON); rep != nil {
		return *rep
	}
	return jsonReply(http.StatusOK, s.wireMessage(m))
}

// createDM is POST /users/@me/channels: the same channel for the same user.
func (s *Server) createDM(c *call) reply {
	obj, rep := c.object()
	if rep != nil {
		return *rep
	}
	var uid string
	if v, ok := obj["recipient_id"]; !ok {
		return formError("BASE_TYPE_REQUIRED", "This field is required", "recipient_id")
	} else if err := jsonString(v, &uid); err != nil || !isSnowflake(uid) {
		return formError("NUMBER_TYPE_COERCE", "Value is not snowflake.", "recipient_id")
	}
	if uid == s.AppID {
		return apiError(http.StatusBadRequest, 50007, "Cannot send messages to this user")
	}
	id := s.dmChannel(uid)
	s.msgs.dmOpened[uid] = true
	name := s.inter.users[uid]
	if name == "" {
		name = "user" + uid
	}
	return jsonReply(http.StatusOK, map[string]any{
		"id":              id,
		"type":            1,
		"flags":           0,
		"last_message_id": nil,
		"recipients":      []any{userObject(uid, name)},
	})
}
