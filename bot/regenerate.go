package bot

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot/i18n"
	"github.com/songbot-dev/songbot/storage"
)

// regenPrefix starts the custom_id of Regenerate buttons: the button
// carries its own state, a version and the song's reference, so it works
// after restarts and in any process.
const regenPrefix = "song:v1:regen:"

// regenerateButton is the Regenerate button of a finished song: a new song
// with its prompt, for whoever pressed it, under the same checks and
// limits as /song. A private song's button makes another private song.
func (b *Bot) regenerateButton() component {
	return component{prefix: regenPrefix, handle: b.handleRegenerate}
}

func (b *Bot) handleRegenerate(ctx context.Context, in incoming) {
	ref := strings.TrimPrefix(in.MessageComponentData().CustomID, regenPrefix)
	log := b.log.With("interaction_id", in.ID, "user_id", userID(in.Interaction), "ref", ref)
	tr := b.userTexts(in.Interaction)
	// Two store round trips come before the acknowledgement, this one and
	// the admission's, and Discord waits 3 s: each gets its own bound.
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	song, err := b.history.Song(lctx, ref)
	cancel()
	switch {
	case errors.Is(err, storage.ErrNotFound):
		log.Info("regenerate pressed on a song the store no longer has")
		b.respondEphemeral(ctx, log, in.Interaction, keptText(tr, i18n.ExpiredButton, i18n.ExpiredButtonKept, b.opts.HistoryTTL))
		return
	case err != nil:
		log.Error("cannot read the song to regenerate (is the store reachable?)", "err", err)
		b.metrics.Interaction(InteractionError)
		b.respondEphemeral(ctx, log, in.Interaction, tr.Text(i18n.StoreFailed))
		return
	}
	private := in.Message != nil && in.Message.Flags&discordgo.MessageFlagsEphemeral != 0
	b.request(ctx, in, song.Prompt, private)
}

// lookupTimeout bounds the Regenerate button's song lookup. With the
// admission's admitTimeout after it, that leaves a second of Discord's
// 3 s for the acknowledgement; a healthy store answers in a millisecond.
const lookupTimeout = 500 * time.Millisecond

// songButtons are the finished song's buttons: a link to the audio and
// Regenerate, which carries the song's reference.
func songButtons(tr *i18n.Printer, songURL, ref string) []discordgo.MessageComponent {
	row := discordgo.ActionsRow{}
	if songURL != "" && len(songURL) <= maxButtonURL {
		row.Components = append(row.Components, discordgo.Button{
			Label: tr.Text(i18n.ButtonListen), Style: discordgo.LinkButton, URL: songURL, Emoji: &discordgo.ComponentEmoji{Name: "🎧"},
		})
	}
	row.Components = append(row.Components, discordgo.Button{
		Label: tr.Text(i18n.ButtonRegenerate), Style: discordgo.SecondaryButton, CustomID: regenPrefix + ref, Emoji: &discordgo.ComponentEmoji{Name: "🔁"},
	})
	return []discordgo.MessageComponent{row}
}
