package discordtest

import "net/http"

// webhookMessage resolves {msg} of /webhooks/{app}/{token}/messages/{msg}.
func (s *Server) webhookMessage(c *call) (*interaction, *message, *reply) {
	in, rep := s.webhookInteraction(c)
	if rep != nil {
		return nil, nil, rep
	}
	id := c.params["msg"]
	if id == "@original" {
		id = in.original
	} else if id != in.original {
		id = "" // the bot has no other messages on its webhook
	}
	m := s.msgs.byID[id]
	if id == "" || m == nil {
		r := apiError(http.StatusNotFound, 10008, "Unknown Message")
		return nil, nil, &r
	}
	return in, m, nil
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

// channelAccess checks POST /channels/{channel}/messages.
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
