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
)
