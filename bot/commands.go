package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/bwmarrin/discordgo"
)

// The names of the application commands, as users type them after the
// slash; each command's definition, and anything outside bot that looks a
// command up (doctor), uses these.
const (
	SongCommandName      = "song"
	SongsCommandName     = "songs"
	SongAdminCommandName = "songadmin"
)

// command is one application command: its definition, registered with
// Discord, and its handler. Each lives in the file of its handler.
type command struct {
	def    *discordgo.ApplicationCommand
	handle func(ctx context.Context, in incoming)
}

// component handles the message components (buttons) whose custom_id
// starts with prefix.
type component struct {
	prefix string
	handle func(ctx context.Context, in incoming)
}

// handlerTable is everything the bot answers. It feeds both registration
// (definitions) and dispatch (route), so a command is named once, in its
// definition; adding one is a file with its command value and a line in
// newHandlerTable.
type handlerTable struct {
	commands   []command
	components []component
}

func (b *Bot) newHandlerTable() handlerTable {
	return handlerTable{
		commands:   []command{b.songCommand(), b.songsCommand(), b.songAdminCommand()},
		components: []component{b.regenerateButton(), b.cancelButton()},
	}
}

// definitions are the application commands to register.
func (t handlerTable) definitions() []*discordgo.ApplicationCommand {
	defs := make([]*discordgo.ApplicationCommand, len(t.commands))
	for i, c := range t.commands {
		defs[i] = c.def
	}
	return defs
}

// route returns the handler of an interaction, or nil when the bot does not
// answer it.
func (t handlerTable) route(in incoming) func(context.Context, incoming) {
	switch in.Type {
	case discordgo.InteractionApplicationCommand:
		name := in.ApplicationCommandData().Name
		for _, c := range t.commands {
			if c.def.Name == name {
				return c.handle
			}
		}
	case discordgo.InteractionMessageComponent:
		id := in.MessageComponentData().CustomID
		for _, c := range t.components {
			if strings.HasPrefix(id, c.prefix) {
				return c.handle
			}
		}
	}
	return nil
}

// discordMaxOptionLength is the longest string option Discord accepts.
const discordMaxOptionLength = 6000

// everywhere makes a command usable in servers, in the bot's DMs and, once
// a user installs the app, in any private channel.
var everywhere = &[]discordgo.InteractionContextType{
	discordgo.InteractionContextGuild,
	discordgo.InteractionContextBotDM,
	discordgo.InteractionContextPrivateChannel,
}

var guildAndUserInstall = &[]discordgo.ApplicationIntegrationType{
	discordgo.ApplicationIntegrationGuildInstall,
	discordgo.ApplicationIntegrationUserInstall,
}

// CommandMeta remembers small values across restarts: registerCommands
// keeps the hash of the registered definitions there. storage.Redis and
// storage.Bolt implement it.
type CommandMeta interface {
	// Meta returns the value stored under key, "" when there is none.
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
}

// registerCommands overwrites the commands in guildID, or globally when it
// is empty, unless the same definitions were registered before and are
// still there: Discord limits command creations per day.
func registerCommands(ctx context.Context, api discordAPI, meta CommandMeta, log *slog.Logger, appID, guildID string, cmds []*discordgo.ApplicationCommand) error {
	where := "globally"
	if guildID != "" {
		where = "in guild " + guildID
	}
	hash, err := commandsHash(cmds)
	if err != nil {
		return err
	}
	key := "commands:" + appID + ":" + guildID
	if stored, err := meta.Meta(ctx, key); err != nil {
		log.Warn("cannot read the registered commands' hash; registering them again", "err", err)
	} else if stored == hash && registered(ctx, api, log, appID, guildID, cmds) {
		log.Info("commands unchanged; not registering them again", "where", where)
		return nil
	}
	if err := api.SetCommands(ctx, appID, guildID, cmds); err != nil {
		return fmt.Errorf("discord: register commands %s: %w", where, err)
	}
	log.Info("commands registered", "where", where)
	if err := meta.SetMeta(ctx, key, hash); err != nil {
		log.Warn("cannot remember the registered commands; they will be registered again at the next start", "err", err)
	}
	return nil
}

// registered reports whether Discord still lists every command by name; an
// admin may have deleted one by hand since the hash was stored.
func registered(ctx context.Context, api discordAPI, log *slog.Logger, appID, guildID string, cmds []*discordgo.ApplicationCommand) bool {
	have, err := api.Commands(ctx, appID, guildID)
	if err != nil {
		log.Warn("cannot list the registered commands", "err", err)
		return false
	}
	for _, c := range cmds {
		if !slices.ContainsFunc(have, func(h *discordgo.ApplicationCommand) bool { return h.Name == c.Name }) {
			return false
		}
	}
	return true
}

// commandsHash identifies a set of command definitions.
func commandsHash(cmds []*discordgo.ApplicationCommand) (string, error) {
	b, err := json.Marshal(cmds)
	if err != nil {
		return "", fmt.Errorf("bot: encode commands: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
