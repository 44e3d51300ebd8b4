package i18n

// The catalogue's messages. Each ID is a key of every locale file (an
// ordinal's is the stem of its keys: in_line_one, in_line_other...); the
// tests check both ways, so a constant without a text, or a text without a
// constant, fails them.
const (
	// Command descriptions (at most 100 characters).
	CmdSong        ID = "cmd_song"
	CmdSongPrompt  ID = "cmd_song_prompt"
	CmdSongPrivate ID = "cmd_song_private"
	CmdSongs       ID = "cmd_songs"

	// The reply while a song is made.
	Composing   ID = "composing"
	Queued      ID = "queued"
	InLine      ID = "in_line" // ordinal
	BusyWaiting ID = "busy_waiting"

	// The finished song.
	Untitled         ID = "untitled"
	Footer           ID = "footer"
	FieldBPM         ID = "field_bpm"
	FieldLength      ID = "field_length"
	FieldTags        ID = "field_tags"
	FieldPrompt      ID = "field_prompt"
	ButtonListen     ID = "button_listen"
	ButtonRegenerate ID = "button_regenerate"
	NoticeReady      ID = "notice_ready"
	NoticeAbout      ID = "notice_about"

	// Why a song did not arrive.
	Failed       ID = "failed"
	FailedReason ID = "failed_reason"
	TimedOut     ID = "timed_out"
	NotFound     ID = "not_found"
	StoreFailed  ID = "store_failed"
	StoreDown    ID = "store_down"
	Internal     ID = "internal"
	// UnknownInteraction answers a command or button the bot no longer knows.
	UnknownInteraction ID = "unknown_interaction"

	// Whisul's refusals, as userMessage words them.
	InvalidPrompt ID = "invalid_prompt"
	Misconfigured ID = "misconfigured"
	RateLimited   ID = "rate_limited"
	Unreachable   ID = "unreachable"

	// Refusals before anything is stored.
	PromptEmpty   ID = "prompt_empty"
	PromptTooLong ID = "prompt_too_long" // plural
	RefusedGuild  ID = "refused_guild"
	RefusedUser   ID = "refused_user"
	RefusedWord   ID = "refused_word"

	// The fair-use limits.
	RefusedUserActive  ID = "refused_user_active" // plural
	RefusedCooldown    ID = "refused_cooldown"
	RefusedDaily       ID = "refused_daily"        // plural
	RefusedGuildActive ID = "refused_guild_active" // plural
	RefusedQueueFull   ID = "refused_queue_full"   // plural
	Soon               ID = "soon"

	// /songs and the Regenerate button.
	SongsTitle        ID = "songs_title"
	SongsNone         ID = "songs_none"
	SongsNoneKept     ID = "songs_none_kept"
	ExpiredButton     ID = "expired_button"
	ExpiredButtonKept ID = "expired_button_kept"
	Days              ID = "days"    // plural
	Hours             ID = "hours"   // plural
	Minutes           ID = "minutes" // plural

	// Server admins (issue 15): /songadmin, spend caps, Cancel, showcase.
	RefusedDM                   ID = "refused_dm"
	RefusedPaused               ID = "refused_paused"
	RefusedPausedReason         ID = "refused_paused_reason"
	RefusedGuildDaily           ID = "refused_guild_daily" // plural
	RefusedBotDaily             ID = "refused_bot_daily"
	ButtonCancel                ID = "button_cancel"
	Cancelled                   ID = "cancelled"
	CancelledBy                 ID = "cancelled_by"
	CancelNotYours              ID = "cancel_not_yours"
	CancelStarted               ID = "cancel_started"
	CancelGone                  ID = "cancel_gone"
	SongsActiveTitle            ID = "songs_active_title"
	SongsActiveRunning          ID = "songs_active_running"
	SongsActiveQueued           ID = "songs_active_queued"
	SongsLeftToday              ID = "songs_left_today" // plural
	SongsNoneLeft               ID = "songs_none_left"
	SongsCooldown               ID = "songs_cooldown"
	CmdSongadmin                ID = "cmd_songadmin"
	CmdSongadminPause           ID = "cmd_songadmin_pause"
	CmdSongadminPauseReason     ID = "cmd_songadmin_pause_reason"
	CmdSongadminResume          ID = "cmd_songadmin_resume"
	CmdSongadminLimits          ID = "cmd_songadmin_limits"
	CmdSongadminUserActive      ID = "cmd_songadmin_user_active"
	CmdSongadminUserCooldown    ID = "cmd_songadmin_user_cooldown"
	CmdSongadminUserDaily       ID = "cmd_songadmin_user_daily"
	CmdSongadminGuildActive     ID = "cmd_songadmin_guild_active"
	CmdSongadminGuildDaily      ID = "cmd_songadmin_guild_daily"
	CmdSongadminReset           ID = "cmd_songadmin_reset"
	CmdSongadminQueue           ID = "cmd_songadmin_queue"
	CmdSongadminShowcase        ID = "cmd_songadmin_showcase"
	CmdSongadminShowcaseChannel ID = "cmd_songadmin_showcase_channel"
	AdminGuildOnly              ID = "admin_guild_only"
	AdminPaused                 ID = "admin_paused"
	AdminPausedReason           ID = "admin_paused_reason"
	AdminResumed                ID = "admin_resumed"
	AdminNotPaused              ID = "admin_not_paused"
	AdminLimitsShown            ID = "admin_limits_shown"
	AdminLimitsChanged          ID = "admin_limits_changed"
	AdminLimitsReset            ID = "admin_limits_reset"
	LimitUserActive             ID = "limit_user_active"
	LimitUserCooldown           ID = "limit_user_cooldown"
	LimitUserDaily              ID = "limit_user_daily"
	LimitGuildActive            ID = "limit_guild_active"
	LimitGuildDaily             ID = "limit_guild_daily"
	LimitOff                    ID = "limit_off"
	LimitSetHere                ID = "limit_set_here"
	LimitGlobal                 ID = "limit_global"
	Seconds                     ID = "seconds" // plural
	AdminQueueEmpty             ID = "admin_queue_empty"
	AdminQueueTitle             ID = "admin_queue_title"
	AdminQueueRunning           ID = "admin_queue_running"
	AdminQueueQueued            ID = "admin_queue_queued"
	AdminShowcaseOn             ID = "admin_showcase_on"
	AdminShowcaseOff            ID = "admin_showcase_off"
	AdminFailed                 ID = "admin_failed"
	ShowcaseMadeFor             ID = "showcase_made_for"
)
