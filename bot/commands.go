package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/storage"
)

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

// commands are the application commands the bot registers.
func commands(promptMax int) []*discordgo.ApplicationCommand {
	if promptMax <= 0 || promptMax > discordMaxOptionLength {
		promptMax = discordMaxOptionLength
	}
	minLen := 1
	return []*discordgo.ApplicationCommand{{
		Name:        "song",
		Type:        discordgo.ChatApplicationCommand,
		Description: "Make an original song from a description",
		Options: []*discordgo.ApplicationCommandOption{{
			Type:        discordgo.ApplicationCommandOptionString,
			Name:        "prompt",
			Description: "What should it sound like? Genre, mood, instruments, tempo…",
			Required:    true,
			MinLength:   &minLen,
			MaxLength:   promptMax,
		}, {
			Type:        discordgo.ApplicationCommandOptionBoolean,
			Name:        "private",
			Description: "Only you see the song (default: everyone in the channel)",
		}},
		Contexts:         everywhere,
		IntegrationTypes: guildAndUserInstall,
	}, {
		Name:             "songs",
		Type:             discordgo.ChatApplicationCommand,
		Description:      "Your latest songs (only you see the list)",
		Contexts:         everywhere,
		IntegrationTypes: guildAndUserInstall,
	}}
}

// registerCommands overwrites the commands in guildID, or globally when it
// is empty, unless the same definitions were registered before and are
// still there: Discord limits command creations per day.
func registerCommands(ctx context.Context, s *discordgo.Session, meta storage.History, log *slog.Logger, appID, guildID string, cmds []*discordgo.ApplicationCommand) error {
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
	} else if stored == hash && registered(ctx, s, log, appID, guildID, cmds) {
		log.Info("commands unchanged; not registering them again", "where", where)
		return nil
	}
	if _, err := s.ApplicationCommandBulkOverwrite(appID, guildID, cmds, discordgo.WithContext(ctx)); err != nil {
		return fmt.Errorf("discord: register commands %s: %w", where, redact(err))
	}
	log.Info("commands registered", "where", where)
	if err := meta.SetMeta(ctx, key, hash); err != nil {
		log.Warn("cannot remember the registered commands; they will be registered again at the next start", "err", err)
	}
	return nil
}

// registered reports whether Discord still lists every command by name; an
// admin may have deleted one by hand since the hash was stored.
func registered(ctx context.Context, s *discordgo.Session, log *slog.Logger, appID, guildID string, cmds []*discordgo.ApplicationCommand) bool {
	have, err := s.ApplicationCommands(appID, guildID, discordgo.WithContext(ctx))
	if err != nil {
		log.Warn("cannot list the registered commands", "err", redact(err))
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
