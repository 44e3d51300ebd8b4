package bot

import (
	"context"
	"log/slog"

	"github.com/bwmarrin/discordgo"
)

// duplicate answers a second delivery of an interaction the store already
// admitted, here or in another process: Discord retried it, or a balancer
// gave it to two instances. It gets the same deferral as the first, so
// whichever response reaches Discord, the user sees "thinking" and the
// first admission's job edits that reply; no second song is started. If
// the first process died before submitting, the job's lease runs out and
// the poll loop submits it.
func (b *Bot) duplicate(ctx context.Context, log *slog.Logger, in *discordgo.Interaction, private bool) {
	b.metrics.Interaction(InteractionDuplicate)
	log.Info("interaction already admitted (delivered twice); answering without a second song")
	var flags discordgo.MessageFlags
	if private {
		flags = discordgo.MessageFlagsEphemeral
	}
	err := b.discord.Respond(ctx, in, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: flags, AllowedMentions: noMentions()},
	})
	if err != nil {
		// Expected when the first delivery was answered already.
		log.Debug("could not answer the second delivery", "err", err)
	}
}
