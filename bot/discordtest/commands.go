package discordtest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// chatInputName is Discord's rule for CHAT_INPUT command and option names.
var chatInputName = regexp.MustCompile(`^[-_'\p{L}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`)

type commandState struct {
	scopes  map[string][]json.RawMessage // guild id ("" global) -> commands
	decoded map[string][]map[string]any  // the same, decoded once
	ids     map[string]string            // scope + "\x00" + type + name -> id
	writes  int
}

func (c *commandState) init() {
	c.scopes = map[string][]json.RawMessage{}
	c.decoded = map[string][]map[string]any{}
	c.ids = map[string]string{}
}

// Commands returns the registered commands of a guild ("" for global) as
// Discord returns them.
func (s *Server) Commands(guildID string) []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]json.RawMessage(nil), s.cmds.scopes[guildID]...)
}

// CommandWrites returns the number of bulk-overwrite PUTs received,
// rejected ones included (Commands shows what is registered). Requests
// failed by FailNext do not count.
func (s *Server) CommandWrites() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmds.writes
}

// commandID returns the id of a registered chat input command, preferring
// the guild's, or a stable made-up id; guild reports whether it was the
// guild's. The caller holds s.mu.
func (s *Server) commandID(guildID, name string) (id string, guild bool) {
	if guildID != "" {
		if id, ok := s.cmds.ids[guildID+"\x001"+name]; ok {
			return id, true
		}
	}
	if id, ok := s.cmds.ids["\x001"+name]; ok {
		return id, false
	}
	// Unregistered: remember an id so repeated sends agree.
	key := "unregistered\x00" + name
	if id, ok := s.cmds.ids[key]; ok {
		return id, false
	}
	id = s.newID(time.Now())
	s.cmds.ids[key] = id
	return id, false
}

func (s *Server) getCommands(c *call) reply {
	if c.params["app"] != s.AppID {
		return apiError(http.StatusNotFound, 10002, "Unknown Application")
	}
	cmds := s.cmds.scopes[c.params["guild"]]
	if cmds == nil {
		cmds = []json.RawMessage{}
	}
	return jsonReply(http.StatusOK, cmds)
}

func (s *Server) putCommands(c *call) reply {
	s.cmds.writes++
	if c.params["app"] != s.AppID {
		return apiError(http.StatusNotFound, 10002, "Unknown Application")
	}
	guild := c.params["guild"]
	if guild != "" && !isSnowflake(guild) {
		return apiError(http.StatusNotFound, 10004, "Unknown Guild")
	}
	if c.jsonErr != nil || c.req.JSON == nil {
		return errInvalidJSON()
	}
	var defs []map[string]any
	if err := json.Unmarshal(c.req.JSON, &defs); err != nil {
		return formError("BASE_TYPE_ARRAY", "Must be an array.")
	}
	seen := map[string]bool{}
	chatInputs := 0
	out := make([]json.RawMessage, 0, len(defs))
	decoded := make([]map[string]any, 0, len(defs))
	newIDs := map[string]string{}
	for i, d := range defs {
		if d == nil {
			return formError("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType", strconv.Itoa(i))
		}
		if rep := validateCommand(d, strconv.Itoa(i)); rep != nil {
			return *rep
		}
		typ := commandType(d)
		name, _ := d["name"].(string)
		key := guild + "\x00" + strconv.Itoa(typ) + name
		if seen[key] {
			return formError("APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique", strconv.Itoa(i), "name")
		}
		seen[key] = true
		if typ == 1 {
			chatInputs++
		}

		prev := s.findCommand(guild, typ, name)
		id, ok := s.cmds.ids[key]
		if !ok {
			id = s.newID(time.Now())
		}
		newIDs[key] = id
		cmd := map[string]any{
			"type":                       1,
			"default_member_permissions": nil,
			"nsfw":                       false,
			"integration_types":          []int{0},
			"contexts":                   nil,
			"description":                "",
		}
		if guild == "" {
			cmd["dm_permission"] = true
		}
		for k, v := range d {
			if v != nil || k != "options" {
				cmd[k] = v
			}
		}
		cmd["id"], cmd["application_id"] = id, s.AppID
		if guild != "" {
			cmd["guild_id"] = guild
		}
		cmd["version"] = id
		if prev != nil && sameDefinition(prev, cmd) {
			cmd["version"] = prev["version"]
		} else if prev != nil {
			cmd["version"] = s.newID(time.Now())
		}
		b, err := json.Marshal(cmd)
		if err != nil {
			return formError("BASE_TYPE_BAD", "Invalid value", strconv.Itoa(i))
		}
		out = append(out, b)
		var m map[string]any
		json.Unmarshal(b, &m)
		decoded = append(decoded, m)
	}
	if chatInputs > 100 {
		return apiError(http.StatusBadRequest, 30032, "Maximum number of application commands reached (100)")
	}
	for k := range s.cmds.ids {
		if strings.HasPrefix(k, guild+"\x00") {
			delete(s.cmds.ids, k)
		}
	}
	for k, v := range newIDs {
		s.cmds.ids[k] = v
	}
	s.cmds.scopes[guild] = out
	s.cmds.decoded[guild] = decoded
	return jsonReply(http.StatusOK, out)
}

func commandType(d map[string]any) int {
	if t, ok := d["type"].(float64); ok {
		return int(t)
	}
	return 1
}

// findCommand returns a registered command decoded, which the caller must
// not change. The caller holds s.mu.
func (s *Server) findCommand(guild string, typ int, name string) map[string]any {
	for _, m := range s.cmds.decoded[guild] {
		if commandType(m) == typ && m["name"] == name {
			return m
		}
	}
	return nil
}

// sameDefinition reports whether two commands differ only in version.
func sameDefinition(a, b map[string]any) bool {
	strip := func(m map[string]any) string {
		c := map[string]any{}
		for k, v := range m {
			if k != "version" {
				c[k] = v
			}
		}
		j, _ := json.Marshal(c)
		return string(j)
	}
	return strip(a) == strip(b)
}

// validateCommand checks the rules Discord enforces most visibly.
func validateCommand(d map[string]any, at string) *reply {
	fail := func(code, msg string, path ...string) *reply {
		r := formError(code, msg, append([]string{at}, path...)...)
		return &r
	}
	typ := commandType(d)
	if typ < 1 || typ > 4 {
		return fail("BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4}.", "type")
	}
	name, ok := d["name"].(string)
	if !ok || name == "" {
		return fail("BASE_TYPE_REQUIRED", "This field is required", "name")
	}
	desc, _ := d["description"].(string)
	if typ != 1 {
		if n := utf8.RuneCountInString(name); n > 32 {
			return fail("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.", "name")
		}
		if desc != "" {
			return fail("APPLICATION_COMMAND_INVALID_DESCRIPTION", "Context menu commands cannot have description", "description")
		}
		return nil
	}
	if !chatInputName.MatchString(name) || strings.ToLower(name) != name {
		return fail("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid", "name")
	}
	if n := utf8.RuneCountInString(desc); n < 1 || n > 100 {
		return fail("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.", "description")
	}
	if rep := validateLocalizations(d["description_localizations"], fail, "description_localizations"); rep != nil {
		return rep
	}
	if rep := validateNameLocalizations(d["name_localizations"], fail, "name_localizations"); rep != nil {
		return rep
	}
	opts, _ := d["options"].([]any)
	return validateOptions(opts, 0, fail, "options")
}

// The option types that hold options.
const (
	typeSubCommand      = 1
	typeSubCommandGroup = 2
)

// validateOptions checks the options of a command (parent 0), a
// subcommand or a subcommand group at path, and theirs in turn: names,
// descriptions and their localizations as for the command, a type,
// lengths, the required options first, and Discord's nesting (a command's
// options are all subcommands and groups or none are, a group holds only
// subcommands, a subcommand no subcommands).
func validateOptions(opts []any, parent float64, fail func(code, msg string, path ...string) *reply, path ...string) *reply {
	at := func(rest ...string) []string { return append(append([]string{}, path...), rest...) }
	if len(opts) > 25 {
		return fail("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.", path...)
	}
	nested := false
	if len(opts) > 0 {
		first, _ := opts[0].(map[string]any)
		t, _ := first["type"].(float64)
		nested = t == typeSubCommand || t == typeSubCommandGroup
	}
	optional := false
	for j, o := range opts {
		om, _ := o.(map[string]any)
		oat := strconv.Itoa(j)
		oname, _ := om["name"].(string)
		if !chatInputName.MatchString(oname) || strings.ToLower(oname) != oname {
			return fail("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid", at(oat, "name")...)
		}
		if rep := validateNameLocalizations(om["name_localizations"], fail, at(oat, "name_localizations")...); rep != nil {
			return rep
		}
		odesc, _ := om["description"].(string)
		if n := utf8.RuneCountInString(odesc); n < 1 || n > 100 {
			return fail("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.", at(oat, "description")...)
		}
		if rep := validateLocalizations(om["description_localizations"], fail, at(oat, "description_localizations")...); rep != nil {
			return rep
		}
		otype, _ := om["type"].(float64)
		if otype < 1 || otype > 11 {
			return fail("BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}.", at(oat, "type")...)
		}
		sub := otype == typeSubCommand || otype == typeSubCommandGroup
		if (parent == typeSubCommandGroup && otype != typeSubCommand) || (parent == typeSubCommand && sub) || (parent == 0 && sub != nested) {
			return fail("APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Sub-command and sub-command group option types are mutually exclusive to all other types", at(oat, "type")...)
		}
		for _, k := range []string{"min_length", "max_length"} {
			if v, ok := om[k].(float64); ok && (v < 0 || v > 6000) {
				return fail("NUMBER_TYPE_MAX", "int value should be less than or equal to 6000.", at(oat, k)...)
			}
		}
		if req, _ := om["required"].(bool); req && optional {
			return fail("APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Required options must be placed before non-required options", path...)
		} else if !req {
			optional = true
		}
		if sub {
			inner, _ := om["options"].([]any)
			if rep := validateOptions(inner, otype, fail, at(oat, "options")...); rep != nil {
				return rep
			}
		}
	}
	return nil
}

// discordLocales are the locales Discord accepts as localization keys.
var discordLocales = map[string]bool{
	"id": true, "da": true, "de": true, "en-GB": true, "en-US": true, "es-ES": true, "es-419": true, "fr": true,
	"hr": true, "it": true, "lt": true, "hu": true, "nl": true, "no": true, "pl": true, "pt-BR": true, "ro": true,
	"fi": true, "sv-SE": true, "vi": true, "tr": true, "cs": true, "el": true, "bg": true, "ru": true, "uk": true,
	"hi": true, "th": true, "zh-CN": true, "ja": true, "zh-TW": true, "ko": true,
}

// validateLocalizations checks a description_localizations map: null or
// an object whose keys are Discord locales and whose values are 1 to 100
// characters, as Discord checks it.
func validateLocalizations(v any, fail func(code, msg string, path ...string) *reply, path ...string) *reply {
	return eachLocalization(v, fail, path, func(s string, at []string) *reply {
		if n := utf8.RuneCountInString(s); n < 1 || n > 100 {
			return fail("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.", at...)
		}
		return nil
	})
}

// validateNameLocalizations checks a name_localizations map: null or an
// object whose keys are Discord locales and whose values are valid,
// lower-case CHAT_INPUT names.
func validateNameLocalizations(v any, fail func(code, msg string, path ...string) *reply, path ...string) *reply {
	return eachLocalization(v, fail, path, func(s string, at []string) *reply {
		if !chatInputName.MatchString(s) || strings.ToLower(s) != s {
			return fail("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid", at...)
		}
		return nil
	})
}

// eachLocalization checks that v is null or an object keyed by Discord
// locales, and runs check on each value with its path.
func eachLocalization(v any, fail func(code, msg string, path ...string) *reply, path []string, check func(s string, at []string) *reply) *reply {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return fail("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType", path...)
	}
	for locale, text := range m {
		at := append(append([]string{}, path...), locale)
		if !discordLocales[locale] {
			return fail("LOCALE_INVALID", "Invalid locale", at...)
		}
		s, _ := text.(string)
		if r := check(s, at); r != nil {
			return r
		}
	}
	return nil
}
