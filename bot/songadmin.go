package bot

import (
	"context"
	"log/slog"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot/i18n"
	"github.com/songbot-dev/songbot/storage"
)

// ServerSettings keeps each server's /songadmin settings; the store's
// Admit applies them. storage.Redis and storage.Bolt implement it.
type ServerSettings interface {
	GuildSettings(ctx context.Context, guildID string) (storage.GuildSettings, error)
	// UpdateGuildSettings applies change atomically and returns the result.
	UpdateGuildSettings(ctx context.Context, guildID string, change func(*storage.GuildSettings)) (storage.GuildSettings, error)
}

// GuildRoster lists a server's songs on the way, for /songadmin's status.
// storage.Redis and storage.Bolt implement it.
type GuildRoster interface {
	// GuildJobs returns the server's running and queued jobs, running
	// first.
	GuildJobs(ctx context.Context, guildID string) ([]storage.ActiveJob, error)
}

// manageGuild is /songadmin's default_member_permissions: Discord shows it
// to members with Manage Server, and admins may grant it to other roles
// (Server Settings → Integrations).
var manageGuild int64 = discordgo.PermissionManageGuild

// pauseReasonMax bounds the pause reason, which every refusal repeats.
const pauseReasonMax = 200

// maxCooldownSeconds is the longest cooldown an admin may set, a year: a
// longer one is a mistake, and seconds beyond it would overflow a
// time.Duration long before Discord's own integer limit.
const maxCooldownSeconds = 365 * 24 * 3600

// songAdminCommand is /songadmin: server admins pause and resume the bot,
// set the server's limits, see its queue and pick a showcase channel.
func (b *Bot) songAdminCommand() command {
	en := b.texts.For(i18n.Source)
	zero := 0.0
	opt := func(typ discordgo.ApplicationCommandOptionType, name string, desc i18n.ID) *discordgo.ApplicationCommandOption {
		o := &discordgo.ApplicationCommandOption{Type: typ, Name: name, Description: en.Text(desc), DescriptionLocalizations: *b.localizations(desc)}
		if typ == discordgo.ApplicationCommandOptionInteger {
			o.MinValue = &zero
		}
		return o
	}
	sub := func(name string, desc i18n.ID, options ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		o := opt(discordgo.ApplicationCommandOptionSubCommand, name, desc)
		o.Options = options
		return o
	}
	reason := opt(discordgo.ApplicationCommandOptionString, "reason", i18n.CmdSongadminPauseReason)
	reason.MaxLength = pauseReasonMax
	cooldown := opt(discordgo.ApplicationCommandOptionInteger, "user_cooldown", i18n.CmdSongadminUserCooldown)
	cooldown.MaxValue = maxCooldownSeconds
	channel := opt(discordgo.ApplicationCommandOptionChannel, "channel", i18n.CmdSongadminShowcaseChannel)
	channel.ChannelTypes = []discordgo.ChannelType{discordgo.ChannelTypeGuildText, discordgo.ChannelTypeGuildNews}
	return command{
		def: &discordgo.ApplicationCommand{
			Name:                     SongAdminCommandName,
			Type:                     discordgo.ChatApplicationCommand,
			Description:              en.Text(i18n.CmdSongadmin),
			DescriptionLocalizations: b.localizations(i18n.CmdSongadmin),
			DefaultMemberPermissions: &manageGuild,
			Contexts:                 &[]discordgo.InteractionContextType{discordgo.InteractionContextGuild},
			IntegrationTypes:         &[]discordgo.ApplicationIntegrationType{discordgo.ApplicationIntegrationGuildInstall},
			Options: []*discordgo.ApplicationCommandOption{
				sub("pause", i18n.CmdSongadminPause, reason),
				sub("resume", i18n.CmdSongadminResume),
				sub("limits", i18n.CmdSongadminLimits,
					opt(discordgo.ApplicationCommandOptionInteger, "user_active", i18n.CmdSongadminUserActive),
					cooldown,
					opt(discordgo.ApplicationCommandOptionInteger, "user_daily", i18n.CmdSongadminUserDaily),
					opt(discordgo.ApplicationCommandOptionInteger, "guild_active", i18n.CmdSongadminGuildActive),
					opt(discordgo.ApplicationCommandOptionInteger, "guild_daily", i18n.CmdSongadminGuildDaily),
					opt(discordgo.ApplicationCommandOptionBoolean, "reset", i18n.CmdSongadminReset)),
				sub("queue", i18n.CmdSongadminQueue),
				sub("showcase", i18n.CmdSongadminShowcase, channel),
			},
		},
		handle: b.handleSongAdmin,
	}
}

// handleSongAdmin answers /songadmin, privately. Discord lets only members
// with the command's permission (or a role an admin granted it to) use
// it, so the bot does not check permissions again: an admin's grant to an
// event-staff role must work. The answer is deferred first: a settings
// update may take a few store round trips (an optimistic transaction on
// Redis), which must not hold up Discord's 3 seconds.
func (b *Bot) handleSongAdmin(ctx context.Context, in incoming) {
	admin := userID(in.Interaction)
	log := b.log.With("interaction_id", in.ID, "guild_id", in.GuildID, "user_id", admin)
	tr := b.userTexts(in.Interaction)
	opts := in.ApplicationCommandData().Options
	if in.GuildID == "" || len(opts) != 1 {
		b.respondEphemeral(ctx, log, in.Interaction, tr.Text(i18n.AdminGuildOnly))
		return
	}
	err := b.discord.Respond(ctx, in.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: noMentions()},
	})
	if err != nil {
		log.Warn("could not acknowledge /songadmin; nothing changed", "err", err)
		return
	}
	sub := opts[0]
	log = log.With("subcommand", sub.Name)
	sctx, cancel := context.WithTimeout(ctx, adminBudget)
	defer cancel()
	var text string
	switch sub.Name {
	case "pause":
		text, err = b.adminPause(sctx, log, tr, in.GuildID, stringOption(sub.Options, "reason"))
	case "resume":
		text, err = b.adminResume(sctx, log, tr, in.GuildID)
	case "limits":
		text, err = b.adminLimits(sctx, log, tr, in.GuildID, sub.Options)
	case "queue":
		text, err = b.adminQueue(sctx, tr, in.GuildID)
	case "showcase":
		text, err = b.adminShowcase(sctx, log, tr, in.GuildID, channelOption(sub.Options, "channel"))
	default:
		text = tr.Text(i18n.UnknownInteraction)
	}
	if err != nil {
		log.Error("/songadmin could not read or save the server's settings (is the store reachable?)", "err", err)
		text = tr.Text(i18n.AdminFailed)
	}
	r := reply{api: b.discord, appID: in.AppID, token: in.Token, createdAt: b.now()}
	r.editText(ctx, log, text)
}

// adminBudget bounds a /songadmin change in the store: the answer says
// nothing changed rather than leave the admin on "thinking".
const adminBudget = 10 * time.Second

func (b *Bot) adminPause(ctx context.Context, log *slog.Logger, tr *i18n.Printer, guildID, reason string) (string, error) {
	reason = truncate(reason, pauseReasonMax)
	if _, err := b.settings.UpdateGuildSettings(ctx, guildID, func(s *storage.GuildSettings) {
		s.Paused, s.PauseReason = true, reason
	}); err != nil {
		return "", err
	}
	log.Info("server paused by an admin", "reason", reason)
	if reason == "" {
		return tr.Text(i18n.AdminPaused), nil
	}
	return tr.Format(i18n.AdminPausedReason, i18n.Args{"Reason": quotePrompt(reason)}), nil
}

func (b *Bot) adminResume(ctx context.Context, log *slog.Logger, tr *i18n.Printer, guildID string) (string, error) {
	was := false
	if _, err := b.settings.UpdateGuildSettings(ctx, guildID, func(s *storage.GuildSettings) {
		was = s.Paused
		s.Paused, s.PauseReason = false, ""
	}); err != nil {
		return "", err
	}
	if !was {
		return tr.Text(i18n.AdminNotPaused), nil
	}
	log.Info("server resumed by an admin")
	return tr.Text(i18n.AdminResumed), nil
}

func (b *Bot) adminShowcase(ctx context.Context, log *slog.Logger, tr *i18n.Printer, guildID, channelID string) (string, error) {
	if _, err := b.settings.UpdateGuildSettings(ctx, guildID, func(s *storage.GuildSettings) {
		s.ShowcaseChannelID = channelID
	}); err != nil {
		return "", err
	}
	log.Info("showcase channel set by an admin", "channel_id", channelID)
	if channelID == "" {
		return tr.Text(i18n.AdminShowcaseOff), nil
	}
	return tr.Format(i18n.AdminShowcaseOn, i18n.Args{"Channel": "<#" + channelID + ">"}), nil
}

// adminQueue lists the server's songs on the way: who asked, since when,
// and each queued song's place in line. Mentions in it ping no one.
func (b *Bot) adminQueue(ctx context.Context, tr *i18n.Printer, guildID string) (string, error) {
	jobs, err := b.guildJobs.GuildJobs(ctx, guildID)
	if err != nil {
		return "", err
	}
	if len(jobs) == 0 {
		return tr.Text(i18n.AdminQueueEmpty), nil
	}
	lines := []string{tr.Text(i18n.AdminQueueTitle)}
	for _, j := range jobs {
		args := i18n.Args{"User": "<@" + j.UserID + ">", "Since": relative(tr, j.InteractionAt)}
		if j.Queued {
			args["Position"] = tr.Ordinal(i18n.InLine, j.Position, nil)
			lines = append(lines, tr.Format(i18n.AdminQueueQueued, args))
		} else {
			lines = append(lines, tr.Format(i18n.AdminQueueRunning, args))
		}
	}
	return wholeLines(lines), nil
}

// channelOption is a channel option's id, "" when it was left out.
func channelOption(opts []*discordgo.ApplicationCommandInteractionDataOption, name string) string {
	for _, o := range opts {
		if o.Name == name && o.Type == discordgo.ApplicationCommandOptionChannel {
			if s, ok := o.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

// intOption is an integer option's value, and whether it was given.
func intOption(opts []*discordgo.ApplicationCommandInteractionDataOption, name string) (int, bool) {
	for _, o := range opts {
		if o.Name == name && o.Type == discordgo.ApplicationCommandOptionInteger {
			if f, ok := o.Value.(float64); ok && f >= 0 {
				return int(f), true
			}
		}
	}
	return 0, false
}

// seconds is n seconds as a duration.
func seconds(n int) time.Duration { return time.Duration(n) * time.Second }
