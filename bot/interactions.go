package bot

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot/i18n"
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
	if !ok {
		return
	}
	in, problem := decodeIncoming(ic, e.RawData)
	if problem != "" {
		b.unusable(in, problem)
		return
	}
	if handle := b.handlers.route(in); handle != nil {
		b.track(func(ctx context.Context) { handle(ctx, in) })
		return
	}
	b.log.Debug("interaction ignored: no handler for it", "interaction_id", in.ID, "type", int(in.Type))
}

// maxFieldBytes bounds the interaction fields the bot keeps (ids, tokens,
// names): Discord's are far shorter, and a huge one is bad data that must
// not reach the store or the logs.
const maxFieldBytes = 512

// decodeIncoming checks an INTERACTION_CREATE as discordgo decoded it (a
// field it could not decode is left at its zero value; see its wsapi.go),
// and returns what the handlers take, or why the bot cannot use it. What
// it accepts is safe for route and the handlers: an id, a token and a user,
// and data of the kind its type names.
func decodeIncoming(ic *discordgo.InteractionCreate, raw json.RawMessage) (incoming, string) {
	if ic == nil || ic.Interaction == nil {
		return incoming{}, "no interaction object"
	}
	var extra struct {
		AttachmentSizeLimit int64 `json:"attachment_size_limit"`
	}
	json.Unmarshal(raw, &extra) // absent or odd: 0, Discord's default limit
	in := incoming{Interaction: ic.Interaction, attachmentLimit: max(extra.AttachmentSizeLimit, 0)}
	switch {
	case in.ID == "" || in.Token == "":
		return in, "no id or token"
	case len(in.ID) > maxFieldBytes || len(in.Token) > maxFieldBytes || len(in.AppID) > maxFieldBytes ||
		len(in.GuildID) > maxFieldBytes || len(in.ChannelID) > maxFieldBytes:
		return in, "an id or token is implausibly long"
	}
	switch in.Type {
	case discordgo.InteractionApplicationCommand:
		if _, ok := in.Data.(discordgo.ApplicationCommandInteractionData); !ok {
			return in, "a command without readable data"
		}
	case discordgo.InteractionMessageComponent:
		if _, ok := in.Data.(discordgo.MessageComponentInteractionData); !ok {
			return in, "a button press without readable data"
		}
	default:
		return in, "" // not routed: nothing more to check
	}
	if u := userID(in.Interaction); u == "" || len(u) > maxFieldBytes {
		return in, "no usable user (neither member.user nor user)"
	}
	return in, ""
}

// unusable logs an interaction the bot cannot serve and, when it can still
// answer it, tells the user something went wrong rather than leaving
// "did not respond".
func (b *Bot) unusable(in incoming, problem string) {
	log := b.log
	if in.Interaction != nil && len(in.ID) <= maxFieldBytes {
		log = log.With("interaction_id", in.ID, "type", int(in.Type))
	}
	log.Warn("interaction from Discord with missing or unreadable fields; answered with an apology, nothing stored", "problem", problem)
	if in.Interaction == nil || problem == "no id or token" || len(in.ID) > maxFieldBytes || len(in.Token) > maxFieldBytes {
		return
	}
	if in.Type != discordgo.InteractionApplicationCommand && in.Type != discordgo.InteractionMessageComponent {
		return
	}
	b.track(func(ctx context.Context) {
		b.respondEphemeral(ctx, log, in.Interaction, b.userTexts(in.Interaction).Text(i18n.Internal))
	})
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
