package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"songbot/storage"
)

// submitTimeout bounds the Whisul submission of one /song.
const submitTimeout = 30 * time.Second

func (b *Bot) onInteraction(s *discordgo.Session, ic *discordgo.InteractionCreate) {
	if ic.Type != discordgo.InteractionApplicationCommand {
		return
	}
	if ic.ApplicationCommandData().Name == "song" {
		b.track(func(ctx context.Context) { b.handleSong(ctx, ic.Interaction) })
	}
}

// handleSong answers /song: it acknowledges first, then submits the prompt
// to Whisul, stores the pending job and shows that the song is on its way.
func (b *Bot) handleSong(ctx context.Context, in *discordgo.Interaction) {
	received := b.now()
	prompt := stringOption(in.ApplicationCommandData().Options, "prompt")
	log := b.log.With("interaction_id", in.ID, "guild_id", in.GuildID, "user_id", userID(in))

	if problem := b.checkPrompt(prompt); problem != "" {
		b.metrics.Interaction("invalid_prompt")
		err := b.session.InteractionRespond(in, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{
				Content:         problem,
				Flags:           discordgo.MessageFlagsEphemeral,
				AllowedMentions: noMentions(),
			},
		}, discordgo.WithContext(ctx))
		if err != nil {
			log.Warn("could not refuse an invalid prompt", "err", redact(err))
		}
		return
	}

	// Acknowledge before any other I/O: Discord allows three seconds.
	err := b.session.InteractionRespond(in, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
	}, discordgo.WithContext(ctx))
	if err != nil {
		b.metrics.Interaction("error")
		log.Error("could not acknowledge /song; the user sees 'did not respond'", "err", redact(err))
		return
	}
	b.metrics.Acknowledged(b.now().Sub(received))
	log.Debug("acknowledged /song", "latency", b.now().Sub(received))

	submitCtx, cancel := context.WithTimeout(ctx, submitTimeout)
	sub, err := b.whisul.Generate(submitCtx, prompt)
	cancel()
	if err != nil {
		log.Warn("whisul refused the song", "err", err)
		b.metrics.Interaction("error")
		b.metrics.JobFinished("rejected", 0)
		b.editText(ctx, log, in.AppID, in.Token, userMessage(err))
		return
	}
	now := b.now()
	job := storage.Job{
		ID:               in.ID,
		WhisulID:         sub.JobID,
		PollURL:          sub.PollURL,
		InteractionToken: in.Token,
		AppID:            in.AppID,
		ChannelID:        in.ChannelID,
		GuildID:          in.GuildID,
		UserID:           userID(in),
		Prompt:           prompt,
		InteractionAt:    interactionTime(in.ID, received),
		SubmittedAt:      now,
		NextPollAt:       now.Add(b.opts.PollInterval),
	}
	if err := b.store.Save(ctx, job); err != nil {
		log.Error("could not store the pending job; its song will not be delivered (is the store reachable?)", "whisul_id", sub.JobID, "err", err)
		b.metrics.Interaction("error")
		b.editText(ctx, log, in.AppID, in.Token, msgStoreFailed)
		return
	}
	b.metrics.Interaction("accepted")
	log.Info("job submitted", "job_id", job.ID, "whisul_id", job.WhisulID)
	b.editText(ctx, log, in.AppID, in.Token, composingText(prompt, now))
}

// checkPrompt returns why a prompt is refused, or "" when it is fine.
func (b *Bot) checkPrompt(prompt string) string {
	p := strings.TrimSpace(prompt)
	if p == "" {
		return "✏️ Please describe the song you'd like, for example `/song prompt: lo-fi beat for a rainy night`."
	}
	if max := b.opts.PromptMaxLength; max > 0 && utf8.RuneCountInString(p) > max {
		return fmt.Sprintf("✏️ That description is %d characters long; please keep it to %d or fewer.", utf8.RuneCountInString(p), max)
	}
	return ""
}

// editText replaces the interaction's reply with plain text. A failure is
// logged: the user may keep seeing the previous state of the reply.
func (b *Bot) editText(ctx context.Context, log *slog.Logger, appID, token, text string) {
	content := truncate(text, maxContent)
	err := editOriginal(ctx, b.session, appID, token, &discordgo.WebhookEdit{
		Content:         &content,
		AllowedMentions: noMentions(),
	})
	if err != nil {
		log.Warn("could not edit the reply", "err", err)
	}
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

// interactionTime reads the creation time from the interaction's snowflake
// id; the token expires 15 minutes after it.
func interactionTime(id string, fallback time.Time) time.Time {
	t, err := discordgo.SnowflakeTimestamp(id)
	if err != nil {
		return fallback
	}
	return t
}

var errTokenExpired = errors.New("interaction token expired (older than 15 minutes)")
