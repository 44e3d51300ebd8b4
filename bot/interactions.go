package bot

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/bwmarrin/discordgo"
)

// incoming is an interaction with the fields discordgo does not decode.
type incoming struct {
	*discordgo.Interaction
	// attachmentLimit is Discord's attachment_size_limit for the reply,
	// in bytes; 0 when absent.
	attachmentLimit int64
}

// onEvent routes interactions through the bot's handler table. It takes the
// raw gateway event rather than discordgo's typed one to read
// attachment_size_limit too.
func (b *Bot) onEvent(_ *discordgo.Session, e *discordgo.Event) {
	ic, ok := e.Struct.(*discordgo.InteractionCreate)
	if !ok || ic.Interaction == nil {
		return
	}
	in := b.incomingFrom(ic.Interaction, e.RawData)
	if handle := b.handlers.route(in); handle != nil {
		b.track(func(ctx context.Context) { handle(ctx, in) })
	}
}

// incomingFrom completes an interaction decoded by discordgo with what it
// leaves out of raw, its JSON: the same for the gateway and the HTTP
// endpoint.
func (b *Bot) incomingFrom(i *discordgo.Interaction, raw []byte) incoming {
	var extra struct {
		AttachmentSizeLimit int64 `json:"attachment_size_limit"`
	}
	if err := json.Unmarshal(raw, &extra); err != nil {
		b.log.Debug("interaction without a readable attachment_size_limit", "err", err)
	}
	return incoming{Interaction: i, attachmentLimit: extra.AttachmentSizeLimit}
}

// respondEphemeral answers the interaction with text only its user sees.
func (b *Bot) respondEphemeral(ctx context.Context, log *slog.Logger, in *discordgo.Interaction, text string) {
	err := b.discord.Respond(ctx, in, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{
			Content:         truncate(text, maxContent),
			Flags:           discordgo.MessageFlagsEphemeral,
			AllowedMentions: noMentions(),
		},
	})
	if err != nil {
		log.Warn("could not answer the interaction", "err", err)
	}
}

// userID is the invoking user: Member.User in guilds, User in DMs.
func userID(in *discordgo.Interaction) string {
	if in.Member != nil && in.Member.User != nil {
		return in.Member.User.ID
	}
	if in.User != nil {
		return in.User.ID
	}
	return ""
}

func stringOption(opts []*discordgo.ApplicationCommandInteractionDataOption, name string) string {
	for _, o := range opts {
		if o.Name == name && o.Type == discordgo.ApplicationCommandOptionString {
			if s, ok := o.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

func boolOption(opts []*discordgo.ApplicationCommandInteractionDataOption, name string) bool {
	for _, o := range opts {
		if o.Name == name && o.Type == discordgo.ApplicationCommandOptionBoolean {
			v, _ := o.Value.(bool)
			return v
		}
	}
	return false
}
