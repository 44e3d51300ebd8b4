package discordtest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// ErrCommandHidden is SendCommand's answer for a command Discord would not
// show the user: not usable where they are, or needing permissions the
// member lacks.
var ErrCommandHidden = errors.New("discordtest: Discord would not offer this command here")

// administrator passes every default_member_permissions check.
const administrator = 1 << 3

// contextOf is the interaction context type of where: 0 guild, 1 bot DM,
// 2 private channel.
func contextOf(w Where) float64 {
	switch w {
	case InDM:
		return 1
	case InPrivateChannel:
		return 2
	}
	return 0
}

// templatePermissions is the member permissions of interaction_guild.json.
const templatePermissions = "2248473465835073"

// pickable applies Discord's rules for showing a registered command:
// contexts and, in guilds, default_member_permissions ("0": admins only).
// An unregistered command is sent as it is, for tests of stale commands.
func (s *Server) pickable(name string, c SongCommand) error {
	s.mu.Lock()
	def := s.findCommand(c.GuildID, 1, name)
	if def == nil {
		def = s.findCommand("", 1, name)
	}
	s.mu.Unlock()
	if def == nil {
		return nil
	}
	if ctxs, ok := def["contexts"].([]any); ok && !slices.Contains(ctxs, any(contextOf(c.Where))) {
		return fmt.Errorf("%w: /%s has contexts %v", ErrCommandHidden, name, ctxs)
	}
	need, ok := def["default_member_permissions"].(string)
	if !ok || c.Where != InGuild {
		return nil
	}
	want, err := strconv.ParseUint(need, 10, 64)
	if err != nil {
		return fmt.Errorf("discordtest: /%s: default_member_permissions %q is not a bitfield string", name, need)
	}
	have, err := strconv.ParseUint(or(c.Permissions, templatePermissions), 10, 64)
	if err != nil {
		return fmt.Errorf("discordtest: member permissions %q are not a bitfield string", c.Permissions)
	}
	if have&administrator != 0 || (want != 0 && have&want == want) {
		return nil
	}
	return fmt.Errorf("%w: /%s needs permissions %s", ErrCommandHidden, name, need)
}
