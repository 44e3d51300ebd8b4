package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/internal/testkit"
	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

// fakeDiscord is discordAPI as function fields; a call without its
// function succeeds. Every call is recorded, in order.
type fakeDiscord struct {
	RespondFn     func(in *discordgo.Interaction, resp *discordgo.InteractionResponse) error
	EditReplyFn   func(appID, token string, edit *discordgo.WebhookEdit) error
	SendFn        func(channelID string, msg *discordgo.MessageSend) error
	OpenDMFn      func(userID string) (string, error)
	SetCommandsFn func(appID, guildID string, cmds []*discordgo.ApplicationCommand) error
	CommandsFn    func(appID, guildID string) ([]*discordgo.ApplicationCommand, error)

	mu    sync.Mutex
	calls []string // "respond", "edit", "send <channel>", "dm <user>", ...
	// What was sent, in order.
	responses []*discordgo.InteractionResponse
	edits     []sentEdit
	sent      []sentMessage
}

// sentEdit is one edit of a reply, with the files it carried.
type sentEdit struct {
	token   string
	content string
	embeds  int
	files   int
}

// sentMessage is one message posted in a channel.
type sentMessage struct {
	channelID string
	msg       *discordgo.MessageSend
}

func (f *fakeDiscord) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeDiscord) Respond(_ context.Context, in *discordgo.Interaction, resp *discordgo.InteractionResponse) error {
	f.record("respond")
	f.mu.Lock()
	f.responses = append(f.responses, resp)
	f.mu.Unlock()
	if f.RespondFn != nil {
		return f.RespondFn(in, resp)
	}
	return nil
}

func (f *fakeDiscord) EditReply(_ context.Context, appID, token string, edit *discordgo.WebhookEdit) error {
	f.record("edit")
	e := sentEdit{token: token, files: len(edit.Files)}
	if edit.Content != nil {
		e.content = *edit.Content
	}
	if edit.Embeds != nil {
		e.embeds = len(*edit.Embeds)
	}
	f.mu.Lock()
	f.edits = append(f.edits, e)
	f.mu.Unlock()
	if f.EditReplyFn != nil {
		return f.EditReplyFn(appID, token, edit)
	}
	return nil
}

func (f *fakeDiscord) Send(_ context.Context, channelID string, msg *discordgo.MessageSend) error {
	f.record("send " + channelID)
	if f.SendFn != nil {
		if err := f.SendFn(channelID, msg); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sentMessage{channelID, msg})
	return nil
}

func (f *fakeDiscord) OpenDM(_ context.Context, userID string) (string, error) {
	f.record("dm " + userID)
	if f.OpenDMFn != nil {
		return f.OpenDMFn(userID)
	}
	return "dm-" + userID, nil
}

func (f *fakeDiscord) SetCommands(_ context.Context, appID, guildID string, cmds []*discordgo.ApplicationCommand) error {
	f.record("set commands")
	if f.SetCommandsFn != nil {
		return f.SetCommandsFn(appID, guildID, cmds)
	}
	return nil
}

func (f *fakeDiscord) Commands(_ context.Context, appID, guildID string) ([]*discordgo.ApplicationCommand, error) {
	f.record("list commands")
	if f.CommandsFn != nil {
		return f.CommandsFn(appID, guildID)
	}
	return nil, nil
}

// Calls returns the calls so far, in order.
func (f *fakeDiscord) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeDiscord) Responses() []*discordgo.InteractionResponse {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*discordgo.InteractionResponse(nil), f.responses...)
}

func (f *fakeDiscord) Edits() []sentEdit {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentEdit(nil), f.edits...)
}

func (f *fakeDiscord) Sent() []sentMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentMessage(nil), f.sent...)
}

// fakeQueue is JobQueue as function fields. A call whose function is unset
// panics: the code under test made a call the test did not expect.
type fakeQueue struct {
	ClaimFn          func(now time.Time, lease time.Duration, limit int) ([]storage.Job, error)
	RescheduleManyFn func(jobs []storage.Job) []error // eachJob adapts a per-job function
	FinishFn         func(id string) (bool, error)
	// ExtendFn, when unset, renews every lease.
	ExtendFn func(ids []string) (lost []string, err error)
}

func (f fakeQueue) Extend(_ context.Context, _ time.Time, _ string, ids []string, _ time.Duration) ([]string, error) {
	if f.ExtendFn == nil {
		return nil, nil
	}
	return f.ExtendFn(ids)
}

func (f fakeQueue) Claim(_ context.Context, now time.Time, _ string, lease time.Duration, limit int) ([]storage.Job, error) {
	if f.ClaimFn == nil {
		panic("unexpected call of Claim")
	}
	return f.ClaimFn(now, lease, limit)
}

func (f fakeQueue) RescheduleMany(_ context.Context, jobs []storage.Job) []error {
	if f.RescheduleManyFn == nil {
		panic("unexpected call of RescheduleMany")
	}
	return f.RescheduleManyFn(jobs)
}

// eachJob is a RescheduleManyFn that calls write for each job in turn.
func eachJob(write func(job storage.Job) error) func([]storage.Job) []error {
	return func(jobs []storage.Job) []error {
		errs := make([]error, len(jobs))
		for i, j := range jobs {
			errs[i] = write(j)
		}
		return errs
	}
}

func (f fakeQueue) Finish(_ context.Context, id string) (bool, error) {
	if f.FinishFn == nil {
		panic("unexpected call of Finish")
	}
	return f.FinishFn(id)
}

// fakeGate is Admitter as function fields.
type fakeGate struct {
	AdmitFn         func(now time.Time, job storage.Job, limits storage.Limits) (storage.Admission, error)
	AdmitFromSongFn func(now time.Time, job storage.Job, ref string, limits storage.Limits) (storage.Admission, error)
	PromoteFn       func(now time.Time, limits storage.Limits) ([]string, error)
}

func (f fakeGate) AdmitFromSong(_ context.Context, now time.Time, job storage.Job, ref string, limits storage.Limits) (storage.Admission, error) {
	if f.AdmitFromSongFn == nil {
		panic("unexpected call of AdmitFromSong")
	}
	return f.AdmitFromSongFn(now, job, ref, limits)
}

func (f fakeGate) Admit(_ context.Context, now time.Time, job storage.Job, limits storage.Limits) (storage.Admission, error) {
	if f.AdmitFn == nil {
		panic("unexpected call of Admit")
	}
	return f.AdmitFn(now, job, limits)
}

func (f fakeGate) Promote(_ context.Context, now time.Time, limits storage.Limits) ([]string, error) {
	if f.PromoteFn == nil {
		panic("unexpected call of Promote")
	}
	return f.PromoteFn(now, limits)
}

// fakeHistory is SongHistory as function fields.
type fakeHistory struct {
	AddSongFn func(song storage.Song, ttl time.Duration) error
	SongFn    func(ref string) (storage.Song, error)
	SongsFn   func(userID string, limit int) ([]storage.Song, error)
}

// keepsSongs is a history that keeps every song and forgets it.
func keepsSongs() fakeHistory {
	return fakeHistory{AddSongFn: func(storage.Song, time.Duration) error { return nil }}
}

func (f fakeHistory) AddSong(_ context.Context, song storage.Song, ttl time.Duration) error {
	if f.AddSongFn == nil {
		panic("unexpected call of AddSong")
	}
	return f.AddSongFn(song, ttl)
}

func (f fakeHistory) Song(_ context.Context, ref string) (storage.Song, error) {
	if f.SongFn == nil {
		panic("unexpected call of Song")
	}
	return f.SongFn(ref)
}

func (f fakeHistory) Songs(_ context.Context, userID string, limit int) ([]storage.Song, error) {
	if f.SongsFn == nil {
		panic("unexpected call of Songs")
	}
	return f.SongsFn(userID, limit)
}

// fakeMeta is CommandMeta as function fields.
type fakeMeta struct {
	MetaFn    func(key string) (string, error)
	SetMetaFn func(key, value string) error
}

func (f fakeMeta) Meta(_ context.Context, key string) (string, error) {
	if f.MetaFn == nil {
		panic("unexpected call of Meta")
	}
	return f.MetaFn(key)
}

func (f fakeMeta) SetMeta(_ context.Context, key, value string) error {
	if f.SetMetaFn == nil {
		panic("unexpected call of SetMeta")
	}
	return f.SetMetaFn(key, value)
}

// fakeStore is a Backend made of the fakes of its parts.
type fakeStore struct {
	fakeQueue
	fakeGate
	fakeHistory
	fakeMeta
	fakeSettings
	fakeRoster
	fakeSlots
}

// fakeWhisul is composer as function fields.
type fakeWhisul struct {
	GenerateFn func(prompt string) (whisul.Submission, error)
	JobFn      func(jobID, pollURL string) (whisul.Job, error)
}

func (f fakeWhisul) Generate(_ context.Context, prompt string) (whisul.Submission, error) {
	if f.GenerateFn == nil {
		panic("unexpected call of Generate")
	}
	return f.GenerateFn(prompt)
}

func (f fakeWhisul) Job(_ context.Context, jobID, pollURL string) (whisul.Job, error) {
	if f.JobFn == nil {
		panic("unexpected call of Job")
	}
	return f.JobFn(jobID, pollURL)
}

// newTestBot is a Bot over fakes, with its logs shown when the test fails.
func newTestBot(t *testing.T, opts Options, d *fakeDiscord, store Backend, w composer) *Bot {
	t.Helper()
	logs := &testkit.Buffer{}
	opts.Store = store
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opts.PollInterval == 0 {
		opts.PollInterval = time.Second
	}
	b := newBot(opts, d, w)
	b.runDone = t.Context().Done()
	t.Cleanup(func() {
		b.stop()
		if t.Failed() {
			t.Logf("bot logs:\n%s", logs.String())
		}
	})
	return b
}

// snowflake is a Discord id created at t.
func snowflake(t time.Time, serial int) string {
	return strconv.FormatUint(uint64(t.UnixMilli()-1420070400000)<<22|uint64(serial), 10)
}

// songEvent is the gateway event of a /song in a guild, sent at created.
func songEvent(created time.Time, user, prompt string, private bool) *discordgo.Event {
	opts := []*discordgo.ApplicationCommandInteractionDataOption{
		{Name: "prompt", Type: discordgo.ApplicationCommandOptionString, Value: prompt},
	}
	if private {
		opts = append(opts, &discordgo.ApplicationCommandInteractionDataOption{Name: "private", Type: discordgo.ApplicationCommandOptionBoolean, Value: true})
	}
	return interactionEvent(&discordgo.Interaction{
		ID:        snowflake(created, 1),
		AppID:     "app1",
		Type:      discordgo.InteractionApplicationCommand,
		Data:      discordgo.ApplicationCommandInteractionData{Name: "song", Options: opts},
		GuildID:   "guild1",
		ChannelID: "chan1",
		Member:    &discordgo.Member{User: &discordgo.User{ID: user}},
		Token:     "token-" + user,
	})
}

// interactionEvent wraps in as discordgo hands it to onEvent.
func interactionEvent(in *discordgo.Interaction) *discordgo.Event {
	raw, _ := json.Marshal(map[string]any{"id": in.ID, "attachment_size_limit": 0})
	return &discordgo.Event{Type: "INTERACTION_CREATE", RawData: raw, Struct: &discordgo.InteractionCreate{Interaction: in}}
}

// pendingJob is a job submitted to Whisul at submitted, created a
// moment before.
func pendingJob(submitted time.Time, user string, private bool) storage.Job {
	job := storage.Job{ID: snowflake(submitted.Add(-time.Second), 7)}
	job.AppID, job.InteractionToken = "app1", "token-"+user
	job.ChannelID, job.GuildID, job.UserID = "chan1", "guild1", user
	job.Prompt, job.Ephemeral = "lo-fi beat", private
	job.InteractionAt = submitted.Add(-time.Second)
	job.WhisulID, job.SubmittedAt = "w1", submitted
	return job
}

// restError is the error discordgo returns for a Discord error answer.
func restError(status, code int) error {
	return &discordgo.RESTError{
		Response: &http.Response{StatusCode: status, Status: fmt.Sprint(status)},
		Message:  &discordgo.APIErrorMessage{Code: code, Message: "fake"},
	}
}

// fakeMetrics records the words the bot reports.
type fakeMetrics struct {
	mu           sync.Mutex
	interactions []InteractionOutcome
	refusals     []RefusalReason
	jobs         []JobOutcome
	fallbacks    []FallbackPlace
}

func (m *fakeMetrics) Interaction(o InteractionOutcome) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.interactions = append(m.interactions, o)
}

func (m *fakeMetrics) Refused(r RefusalReason) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refusals = append(m.refusals, r)
}

func (m *fakeMetrics) JobFinished(o JobOutcome, _ time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.jobs = append(m.jobs, o)
}

func (m *fakeMetrics) Fallback(w FallbackPlace) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fallbacks = append(m.fallbacks, w)
}

func (m *fakeMetrics) Acknowledged(time.Duration) {}
func (m *fakeMetrics) DiscordEditFailed()         {}
