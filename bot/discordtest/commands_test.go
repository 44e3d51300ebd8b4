package discordtest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
)

func songCommands() []*discordgo.ApplicationCommand {
	return []*discordgo.ApplicationCommand{
		{
			Name:             "song",
			Description:      "Make a song",
			Contexts:         &[]discordgo.InteractionContextType{0, 1, 2},
			IntegrationTypes: &[]discordgo.ApplicationIntegrationType{0, 1},
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "prompt", Description: "What about", Required: true, MaxLength: 6000},
				{Type: discordgo.ApplicationCommandOptionBoolean, Name: "private", Description: "Only you see it"},
			},
		},
		{Name: "songs", Description: "Your songs"},
	}
}

func TestCommandsBulkOverwrite(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	dg := newSession(t, s, "Bot "+s.Token)
	for _, guild := range []string{"", "290926798626357999"} {
		created, err := dg.ApplicationCommandBulkOverwrite(s.AppID, guild, songCommands())
		if err != nil {
			t.Fatalf("ApplicationCommandBulkOverwrite(guild %q): %v", guild, err)
		}
		if len(created) != 2 || created[0].ID == "" || created[0].ApplicationID != s.AppID || created[0].Version == "" ||
			created[0].GuildID != guild || created[0].Type != discordgo.ChatApplicationCommand || len(created[0].Options) != 2 {
			t.Fatalf("guild %q: created %+v; want both commands with ids", guild, created[0])
		}
		listed, err := dg.ApplicationCommands(s.AppID, guild)
		if err != nil || len(listed) != 2 || listed[1].ID != created[1].ID {
			t.Fatalf("ApplicationCommands(guild %q) = %v, %v; want the two commands", guild, listed, err)
		}
		if n := len(s.Commands(guild)); n != 2 {
			t.Errorf("len(Commands(%q)) = %d; want 2", guild, n)
		}
		// The same definitions again keep ids and versions.
		again, err := dg.ApplicationCommandBulkOverwrite(s.AppID, guild, songCommands())
		if err != nil || again[0].ID != created[0].ID || again[0].Version != created[0].Version {
			t.Errorf("second overwrite = %+v, %v; want id %s version %s kept", again[0], err, created[0].ID, created[0].Version)
		}
	}
	if n := s.CommandWrites(); n != 4 {
		t.Errorf("CommandWrites() = %d; want 4", n)
	}
	var cmd map[string]any
	if err := json.Unmarshal(s.Commands("")[0], &cmd); err != nil || cmd["name"] != "song" || cmd["guild_id"] != nil {
		t.Errorf("global command %v, %v; want song without guild_id", cmd, err)
	}

	// Interactions carry the registered command's id.
	_, got := openSession(t, s)
	ctx := testContext(t)
	sendAndReceive(ctx, t, s, got, SongCommand{Prompt: "x"})
	var guildSong map[string]any
	json.Unmarshal(s.Commands("290926798626357999")[0], &guildSong)
	sent, err := s.SendCommand(ctx, "song", SongCommand{Prompt: "y"})
	if err != nil {
		t.Fatal(err)
	}
	i := receive(ctx, t, got)
	if i.ID != sent.ID || i.ApplicationCommandData().ID != guildSong["id"] {
		t.Errorf("command id %s; want the guild command's %v", i.ApplicationCommandData().ID, guildSong["id"])
	}
}

func TestCommandsRejected(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	dg := newSession(t, s, "Bot "+s.Token)
	tests := []struct {
		name   string
		app    string
		cmds   []*discordgo.ApplicationCommand
		status int
		code   int
	}{
		{"unknown application", "1234567890", songCommands(), http.StatusNotFound, discordgo.ErrCodeUnknownApplication},
		{"upper case name", "", []*discordgo.ApplicationCommand{{Name: "Song", Description: "d"}}, http.StatusBadRequest, discordgo.ErrCodeInvalidFormBody},
		{"no description", "", []*discordgo.ApplicationCommand{{Name: "song"}}, http.StatusBadRequest, discordgo.ErrCodeInvalidFormBody},
		{"duplicate", "", []*discordgo.ApplicationCommand{{Name: "a", Description: "d"}, {Name: "a", Description: "d"}}, http.StatusBadRequest, discordgo.ErrCodeInvalidFormBody},
		{"max_length over 6000", "", []*discordgo.ApplicationCommand{{Name: "a", Description: "d", Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionString, Name: "p", Description: "d", MaxLength: 6001},
		}}}, http.StatusBadRequest, discordgo.ErrCodeInvalidFormBody},
		{"localization for an unknown locale", "", []*discordgo.ApplicationCommand{{Name: "a", Description: "d",
			DescriptionLocalizations: &map[discordgo.Locale]string{"de-DE": "d"}}}, http.StatusBadRequest, discordgo.ErrCodeInvalidFormBody},
		{"option localization over 100", "", []*discordgo.ApplicationCommand{{Name: "a", Description: "d", Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionString, Name: "p", Description: "d", DescriptionLocalizations: map[discordgo.Locale]string{"ja": strings.Repeat("長", 101)}},
		}}}, http.StatusBadRequest, discordgo.ErrCodeInvalidFormBody},
		{"sub-option description over 100", "", []*discordgo.ApplicationCommand{{Name: "a", Description: "d", Options: []*discordgo.ApplicationCommandOption{
			subcommand(&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "p", Description: strings.Repeat("d", 101)}),
		}}}, http.StatusBadRequest, discordgo.ErrCodeInvalidFormBody},
		{"sub-option localization over 100", "", []*discordgo.ApplicationCommand{{Name: "a", Description: "d", Options: []*discordgo.ApplicationCommandOption{
			subcommand(&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "p", Description: "d", DescriptionLocalizations: map[discordgo.Locale]string{"ja": strings.Repeat("長", 101)}}),
		}}}, http.StatusBadRequest, discordgo.ErrCodeInvalidFormBody},
		{"sub-option without a description", "", []*discordgo.ApplicationCommand{{Name: "a", Description: "d", Options: []*discordgo.ApplicationCommandOption{
			subcommand(&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "p"}),
		}}}, http.StatusBadRequest, discordgo.ErrCodeInvalidFormBody},
		{"upper case sub-option name", "", []*discordgo.ApplicationCommand{{Name: "a", Description: "d", Options: []*discordgo.ApplicationCommandOption{
			subcommand(&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "P", Description: "d"}),
		}}}, http.StatusBadRequest, discordgo.ErrCodeInvalidFormBody},
		{"subcommand description localization over 100", "", []*discordgo.ApplicationCommand{{Name: "a", Description: "d", Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "s", Description: "d", DescriptionLocalizations: map[discordgo.Locale]string{"de": strings.Repeat("d", 101)}},
		}}}, http.StatusBadRequest, discordgo.ErrCodeInvalidFormBody},
		{"name localization with a space", "", []*discordgo.ApplicationCommand{{Name: "a", Description: "d",
			NameLocalizations: &map[discordgo.Locale]string{"de": "zwei wörter"}}}, http.StatusBadRequest, discordgo.ErrCodeInvalidFormBody},
		{"subcommand beside an option", "", []*discordgo.ApplicationCommand{{Name: "a", Description: "d", Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "s", Description: "d"},
			{Type: discordgo.ApplicationCommandOptionString, Name: "p", Description: "d"},
		}}}, http.StatusBadRequest, discordgo.ErrCodeInvalidFormBody},
		{"subcommand in a subcommand", "", []*discordgo.ApplicationCommand{{Name: "a", Description: "d", Options: []*discordgo.ApplicationCommandOption{
			subcommand(&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "t", Description: "d"}),
		}}}, http.StatusBadRequest, discordgo.ErrCodeInvalidFormBody},
	}
	for _, tt := range tests {
		app := tt.app
		if app == "" {
			app = s.AppID
		}
		_, err := dg.ApplicationCommandBulkOverwrite(app, "", tt.cmds)
		var re *discordgo.RESTError
		if !asRESTError(err, &re) || re.Response.StatusCode != tt.status || re.Message == nil || re.Message.Code != tt.code {
			t.Errorf("%s: ApplicationCommandBulkOverwrite = %v; want %d code %d", tt.name, err, tt.status, tt.code)
		}
	}
	if n := s.CommandWrites(); n != len(tests) {
		t.Errorf("CommandWrites() = %d; want %d (rejected PUTs count)", n, len(tests))
	}
	if n := len(s.Commands("")); n != 0 {
		t.Errorf("%d commands registered by rejected PUTs; want 0", n)
	}
}

// TestCommandsNestedAccepted checks that the nesting and localizations
// Discord accepts pass the fake's checks too: a group of subcommands with
// options, names and descriptions localized at every level.
func TestCommandsNestedAccepted(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	dg := newSession(t, s, "Bot "+s.Token)
	de := func(text string) map[discordgo.Locale]string {
		return map[discordgo.Locale]string{discordgo.German: text}
	}
	cmd := &discordgo.ApplicationCommand{Name: "admin", Description: "d", NameLocalizations: &map[discordgo.Locale]string{discordgo.German: "verwaltung"},
		DescriptionLocalizations: &map[discordgo.Locale]string{discordgo.German: "Einstellungen"},
		Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: "limits", Description: "d", DescriptionLocalizations: de("Grenzen"),
				Options: []*discordgo.ApplicationCommandOption{
					subcommand(&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: "daily", Description: strings.Repeat("d", 100),
						NameLocalizations: de("täglich"), DescriptionLocalizations: de(strings.Repeat("ä", 100))}),
				}},
			subcommand(&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "reason", Description: "d", DescriptionLocalizations: de("Grund")}),
		}}
	cmd.Options[1].Name = "pause"
	if _, err := dg.ApplicationCommandBulkOverwrite(s.AppID, "", []*discordgo.ApplicationCommand{cmd}); err != nil {
		t.Errorf("ApplicationCommandBulkOverwrite(nested command) = %v; want it accepted", err)
	}
}

// subcommand is a subcommand "s" holding the option o.
func subcommand(o *discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "s", Description: "d",
		Options: []*discordgo.ApplicationCommandOption{o}}
}
