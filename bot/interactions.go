package bot

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/storage"
)

// regenPrefix starts the custom_id of Regenerate buttons: the button
// carries its own state, a version and the song's reference, so it works
// after restarts and in any process.
const regenPrefix = "song:v1:regen:"

// incoming is an interaction with the fields discordgo does not decode.
type incoming struct {
	*discordgo.Interaction
	// attachmentLimit is Discord's attachment_size_limit for the reply,
	// in bytes; 0 when absent.
	attachmentLimit int64
}

// onEvent routes interactions. It takes the raw gateway event rather than
// discordgo's typed one to read attachment_size_limit too.
func (b *Bot) onEvent(_ *discordgo.Session, e *discordgo.Event) {
	ic, ok := e.Struct.(*discordgo.InteractionCreate)
	if !ok || ic.Interaction == nil {
		return
	}
	var extra struct {
		AttachmentSizeLimit int64 `json:"attachment_size_limit"`
	}
	if err := json.Unmarshal(e.RawData, &extra); err != nil {
		b.log.Debug("interaction without a readable attachment_size_limit", "err", err)
	}
	in := incoming{Interaction: ic.Interaction, attachmentLimit: extra.AttachmentSizeLimit}

	var handle func(context.Context, incoming)
	switch in.Type {
	case discordgo.InteractionApplicationCommand:
		switch in.ApplicationCommandData().Name {
		case "song":
			handle = b.handleSong
		case "songs":
			handle = b.handleSongs
		}
	case discordgo.InteractionMessageComponent:
		if strings.HasPrefix(in.MessageComponentData().CustomID, regenPrefix) {
			handle = b.handleRegenerate
		}
	}
	if handle != nil {
		b.track(func(ctx context.Context) { handle(ctx, in) })
	}
}

// handleSong answers /song prompt:... private:...
func (b *Bot) handleSong(ctx context.Context, in incoming) {
	opts := in.ApplicationCommandData().Options
	b.request(ctx, in, stringOption(opts, "prompt"), boolOption(opts, "private"))
}

// handleRegenerate starts a new song with a finished song's prompt, for
// whoever pressed its button, under the same checks and limits as /song.
// A private song's button makes another private song.
func (b *Bot) handleRegenerate(ctx context.Context, in incoming) {
	ref := strings.TrimPrefix(in.MessageComponentData().CustomID, regenPrefix)
	log := b.log.With("interaction_id", in.ID, "user_id", userID(in.Interaction), "ref", ref)
	song, err := b.store.Song(ctx, ref)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		log.Info("regenerate pressed on a song the store no longer has")
		b.respondEphemeral(ctx, log, in.Interaction, expiredButtonText(b.opts.HistoryTTL))
		return
	case err != nil:
		log.Error("cannot read the song to regenerate (is the store reachable?)", "err", err)
		b.metrics.Interaction(InteractionError)
		b.respondEphemeral(ctx, log, in.Interaction, msgStoreFailed)
		return
	}
	private := in.Message != nil && in.Message.Flags&discordgo.MessageFlagsEphemeral != 0
	b.request(ctx, in, song.Prompt, private)
}

// handleSongs lists the caller's latest songs, privately.
func (b *Bot) handleSongs(ctx context.Context, in incoming) {
	user := userID(in.Interaction)
	log := b.log.With("interaction_id", in.ID, "user_id", user)
	songs, err := b.store.Songs(ctx, user, songsListed)
	if err != nil {
		log.Error("cannot read the user's songs (is the store reachable?)", "err", err)
		b.respondEphemeral(ctx, log, in.Interaction, msgInternal)
		return
	}
	b.respondEphemeral(ctx, log, in.Interaction, songsText(songs, b.opts.HistoryTTL))
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
