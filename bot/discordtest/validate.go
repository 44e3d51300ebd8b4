package discordtest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"unicode/utf8"
)

// jsonString decodes a JSON string or number as a string.
func jsonString(raw json.RawMessage, dst *string) error {
	if err := json.Unmarshal(raw, dst); err == nil {
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return err
	}
	*dst = n.String()
	return nil
}

func tooLong(max int, path ...string) *reply {
	r := formError("BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", max), path...)
	return &r
}

func required(path ...string) *reply {
	r := formError("BASE_TYPE_REQUIRED", "This field is required", path...)
	return &r
}

// checkURL enforces Discord's URL schemes: http(s), and attachment:// for
// images.
func checkURL(raw string, attachmentOK bool, path ...string) *reply {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https" || (attachmentOK && u.Scheme == "attachment")) {
		return nil
	}
	scheme := ""
	if u != nil {
		scheme = u.Scheme
	}
	r := formError("URL_TYPE_INVALID_PROTOCOL",
		fmt.Sprintf("Scheme %q is not supported. Scheme must be one of ('http', 'https').", scheme), path...)
	return &r
}

// validateEmbeds checks Discord's embed limits: at most 10 embeds, title
// 256, description 4096, 25 fields (name 256, value 1024), footer 2048,
// author name 256, 6000 characters in all, and URL schemes.
func validateEmbeds(embeds []json.RawMessage) *reply {
	if len(embeds) > 10 {
		return tooLong(10, "embeds")
	}
	type text struct {
		Text string `json:"text"`
		Name string `json:"name"`
		URL  string `json:"url"`
	}
	total := 0
	for i, raw := range embeds {
		var e struct {
			Title       string `json:"title"`
			Description string `json:"description"`
			URL         string `json:"url"`
			Fields      []struct {
				Name  *string `json:"name"`
				Value *string `json:"value"`
			} `json:"fields"`
			Footer    *text `json:"footer"`
			Author    *text `json:"author"`
			Image     *text `json:"image"`
			Thumbnail *text `json:"thumbnail"`
		}
		at := strconv.Itoa(i)
		if json.Unmarshal(raw, &e) != nil {
			r := formError("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType", "embeds", at)
			return &r
		}
		n := func(s string) int { c := utf8.RuneCountInString(s); total += c; return c }
		if n(e.Title) > 256 {
			return tooLong(256, "embeds", at, "title")
		}
		if n(e.Description) > 4096 {
			return tooLong(4096, "embeds", at, "description")
		}
		if len(e.Fields) > 25 {
			return tooLong(25, "embeds", at, "fields")
		}
		for j, f := range e.Fields {
			fat := strconv.Itoa(j)
			switch {
			case f.Name == nil || *f.Name == "":
				return required("embeds", at, "fields", fat, "name")
			case f.Value == nil || *f.Value == "":
				return required("embeds", at, "fields", fat, "value")
			case n(*f.Name) > 256:
				return tooLong(256, "embeds", at, "fields", fat, "name")
			case n(*f.Value) > 1024:
				return tooLong(1024, "embeds", at, "fields", fat, "value")
			}
		}
		if e.Footer != nil && n(e.Footer.Text) > 2048 {
			return tooLong(2048, "embeds", at, "footer", "text")
		}
		if e.Author != nil {
			if n(e.Author.Name) > 256 {
				return tooLong(256, "embeds", at, "author", "name")
			}
			if r := checkURL(e.Author.URL, false, "embeds", at, "author", "url"); r != nil {
				return r
			}
		}
		if r := checkURL(e.URL, false, "embeds", at, "url"); r != nil {
			return r
		}
		for key, img := range map[string]*text{"image": e.Image, "thumbnail": e.Thumbnail} {
			if img == nil {
				continue
			}
			if img.URL == "" {
				return required("embeds", at, key, "url")
			}
			if r := checkURL(img.URL, true, "embeds", at, key, "url"); r != nil {
				return r
			}
		}
	}
	if total > 6000 {
		r := formError("MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000", "embeds")
		return &r
	}
	return nil
}

// validateComponents checks legacy components: at most 5 action rows of 1
// to 5 buttons; link buttons (style 5) need a url of at most 512
// characters and no custom_id; other buttons a unique custom_id of at most
// 100 characters.
func validateComponents(comps []json.RawMessage) *reply {
	if len(comps) > 5 {
		return tooLong(5, "components")
	}
	seen := map[string]bool{}
	for i, raw := range comps {
		at := strconv.Itoa(i)
		var row struct {
			Type       int `json:"type"`
			Components []struct {
				Type     int     `json:"type"`
				Style    int     `json:"style"`
				Label    string  `json:"label"`
				CustomID *string `json:"custom_id"`
				URL      *string `json:"url"`
			} `json:"components"`
		}
		if json.Unmarshal(raw, &row) != nil {
			r := formError("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType", "components", at)
			return &r
		}
		if row.Type != 1 {
			continue // not a legacy action row
		}
		if n := len(row.Components); n < 1 || n > 5 {
			r := formError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.", "components", at, "components")
			return &r
		}
		for j, b := range row.Components {
			if b.Type != 2 {
				continue
			}
			path := []string{"components", at, "components", strconv.Itoa(j)}
			if utf8.RuneCountInString(b.Label) > 80 {
				return tooLong(80, append(path, "label")...)
			}
			if b.Style == 5 {
				switch {
				case b.URL == nil || *b.URL == "":
					return required(append(path, "url")...)
				case utf8.RuneCountInString(*b.URL) > 512:
					return tooLong(512, append(path, "url")...)
				case b.CustomID != nil:
					r := formError("BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED", "A custom id cannot be set on a link button", append(path, "custom_id")...)
					return &r
				}
				if r := checkURL(*b.URL, false, append(path, "url")...); r != nil {
					return r
				}
				continue
			}
			switch {
			case b.CustomID == nil || *b.CustomID == "":
				return required(append(path, "custom_id")...)
			case utf8.RuneCountInString(*b.CustomID) > 100:
				return tooLong(100, append(path, "custom_id")...)
			case seen[*b.CustomID]:
				r := formError("COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated", append(path, "custom_id")...)
				return &r
			}
			seen[*b.CustomID] = true
		}
	}
	return nil
}
