package bot

import (
	"context"
	"log/slog"
	"strings"

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
	private := in.Message != nil && in.Message.Flags&discordgo.MessageFlagsEphemeral != 0
	// The admission reads the song's prompt itself: one store round
	// trip before the acknowledgement, as for /song.
	b.request(ctx, in, ask{fromSong: ref, private: private})
}

// expiredSong answers a Regenerate pressed on a song the history no longer
// keeps.
func (b *Bot) expiredSong(ctx context.Context, log *slog.Logger, in *discordgo.Interaction, tr *i18n.Printer) {
	log.Info("regenerate pressed on a song the store no longer has")
	b.respondEphemeral(ctx, log, in, keptText(tr, i18n.ExpiredButton, i18n.ExpiredButtonKept, b.opts.HistoryTTL))
}

// blockedSinceMade refuses a Regenerate whose prompt holds a word blocked
// since the song was made, which the admission could not know before it
// read the prompt: the slot is freed again, though the admission still
// counts toward the daily limits.
func (b *Bot) blockedSinceMade(ctx context.Context, log *slog.Logger, in *discordgo.Interaction, job storage.Job, adm storage.Admission) bool {
	if !b.policy.words.blocks(job.Prompt) {
		return false
	}
	if _, err := b.queue.Finish(ctx, job.ID); err != nil {
		log.Error("could not release the song's slot", "err", err)
	}
	b.refuse(ctx, log, in, RefusedBlockedWord, adm)
	return true
}

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
