package bot

import (
	"context"
	"fmt"

	"github.com/bwmarrin/discordgo"
)

// discordMaxOptionLength is the longest string option Discord accepts.
const discordMaxOptionLength = 6000

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
		}},
		// Usable in servers, in the bot's DMs and, once a user installs the
		// app, in any private channel.
		Contexts: &[]discordgo.InteractionContextType{
			discordgo.InteractionContextGuild,
			discordgo.InteractionContextBotDM,
			discordgo.InteractionContextPrivateChannel,
		},
		IntegrationTypes: &[]discordgo.ApplicationIntegrationType{
			discordgo.ApplicationIntegrationGuildInstall,
			discordgo.ApplicationIntegrationUserInstall,
		},
	}}
}

// registerCommands overwrites the commands in guildID, or globally when it
// is empty.
func registerCommands(ctx context.Context, s *discordgo.Session, appID, guildID string, cmds []*discordgo.ApplicationCommand) error {
	if _, err := s.ApplicationCommandBulkOverwrite(appID, guildID, cmds, discordgo.WithContext(ctx)); err != nil {
		where := "globally"
		if guildID != "" {
			where = "in guild " + guildID
		}
		return fmt.Errorf("discord: register commands %s: %w", where, redact(err))
	}
	return nil
}
