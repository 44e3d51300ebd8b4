package discordtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// attachments computes a message's attachments after a request: with an
// "attachments" list, the existing ones it names are kept; without one an
// edit keeps them all (API v9). Every upload is added, taking filename and
// description from the list entry whose id is its index.
func (s *Server) attachments(m *message, obj map[string]json.RawMessage, files []File, limit int, create, ephemeral bool) ([]json.RawMessage, []string, []File, *reply) {
	type ref struct {
		ID          json.RawMessage `json:"id"`
		Filename    string          `json:"filename"`
		Description *string         `json:"description"`
	}
	var refs []ref
	listed := false
	if v, ok := obj["attachments"]; ok && string(v) != "null" {
		if json.Unmarshal(v, &refs) != nil {
			r := formError("BASE_TYPE_ARRAY", "Must be an array.", "attachments")
			return nil, nil, nil, &r
		}
		listed = true
	}
	refID := func(r ref) string { return strings.Trim(string(r.ID), `"`) }
	var atts []json.RawMessage
	var ids []string
	var afiles []File
	for i, id := range m.attIDs {
		keep := !create && !listed
		for _, r := range refs {
			keep = keep || refID(r) == id
		}
		if keep {
			atts, ids, afiles = append(atts, m.Attachments[i]), append(ids, id), append(afiles, m.Files[i])
		}
	}
	for i, f := range files {
		idx := strconv.Itoa(i)
		if n, ok := strings.CutPrefix(f.Field, "files["); ok {
			idx = strings.TrimSuffix(n, "]")
		}
		name, desc := f.Name, (*string)(nil)
		for _, r := range refs {
			if refID(r) == idx {
				if r.Filename != "" {
					name = r.Filename
				}
				desc = r.Description
			}
		}
		if len(f.Data) > limit {
			r := errTooLarge()
			return nil, nil, nil, &r
		}
		id, att := s.attachment(m.ChannelID, name, desc, f, ephemeral)
		atts, ids, afiles = append(atts, att), append(ids, id), append(afiles, f)
	}
	if len(atts) > 10 {
		r := formError("BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.", "attachments")
		return nil, nil, nil, &r
	}
	return atts, ids, afiles, nil
}

// attachment builds an attachment object the way Discord returns it, with
// a signed, expiring CDN URL.
func (s *Server) attachment(channelID, filename string, desc *string, f File, ephemeral bool) (string, json.RawMessage) {
	now := time.Now()
	id := s.newID(now)
	name := strings.ReplaceAll(filename, " ", "_")
	sig := make([]byte, 32)
	rand.Read(sig)
	query := fmt.Sprintf("?ex=%x&is=%x&hm=%s&", now.Add(24*time.Hour).Unix(), now.Unix(), hex.EncodeToString(sig))
	p := "/attachments/" + channelID + "/" + id + "/" + url.PathEscape(name)
	a := map[string]any{
		"id":        id,
		"filename":  name,
		"size":      len(f.Data),
		"url":       "https://cdn.discordapp.com" + p + query,
		"proxy_url": "https://media.discordapp.net" + p + query,
	}
	ct := f.ContentType
	if ct == "" || ct == "application/octet-stream" {
		if t := mime.TypeByExtension(path.Ext(name)); t != "" {
			ct = t
		}
	}
	if ct != "" {
		a["content_type"] = ct
	}
	if desc != nil {
		a["description"] = *desc
	}
	if ephemeral {
		a["ephemeral"] = true
	}
	b, _ := json.Marshal(a)
	return id, b
}
