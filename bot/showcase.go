package bot

import (
	"context"
	"log/slog"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot/i18n"
	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

// showcase also posts a finished song to its server's showcase channel,
// when the server's admins set one (/songadmin showcase). Private songs
// and songs made outside a server are never posted; the post names its
// requester without pinging anyone.
func (b *Bot) showcase(ctx context.Context, log *slog.Logger, job storage.Job, r *whisul.Result) {
	if job.Ephemeral || job.GuildID == "" {
		return
	}
	s, err := b.settings.GuildSettings(ctx, job.GuildID)
	if err != nil {
		log.Warn("cannot read the server's showcase channel; the song is not posted there", "err", err)
		return
	}
	if s.ShowcaseChannelID == "" {
		return
	}
	if err := b.discord.Send(ctx, s.ShowcaseChannelID, showcaseMessage(b.replyTexts(job), job, r)); err != nil {
		log.Warn("cannot post the song in the server's showcase channel; check that the bot may view it, send messages and embed links there, or change it with /songadmin showcase",
			"channel_id", s.ShowcaseChannelID, "err", err)
		return
	}
	log.Info("song posted in the showcase channel", "channel_id", s.ShowcaseChannelID)
}

// showcaseMessage is the showcase post: the song's cover, title and link,
// and who it was made for, in the server's language. It mentions nobody.
func showcaseMessage(tr *i18n.Printer, job storage.Job, r *whisul.Result) *discordgo.MessageSend {
	e := &discordgo.MessageEmbed{
		Title:       truncate(orDefault(r.Title, tr.Text(i18n.Untitled)), maxEmbedTitle),
		URL:         r.SongURL,
		Color:       embedColor,
		Description: tr.Format(i18n.ShowcaseMadeFor, i18n.Args{"User": "<@" + job.UserID + ">"}),
	}
	if r.ImageURL != "" {
		e.Image = &discordgo.MessageEmbedImage{URL: r.ImageURL}
	}
	row := discordgo.ActionsRow{}
	if r.SongURL != "" && len(r.SongURL) <= maxButtonURL {
		row.Components = append(row.Components, discordgo.Button{
			Label: tr.Text(i18n.ButtonListen), Style: discordgo.LinkButton, URL: r.SongURL, Emoji: &discordgo.ComponentEmoji{Name: "🎧"},
		})
	}
	m := &discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{e}, AllowedMentions: noMentions()}
	if len(row.Components) > 0 {
		m.Components = []discordgo.MessageComponent{row}
	}
	return m
}
