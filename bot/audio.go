package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"golang.org/x/sync/semaphore"

	"github.com/songbot-dev/songbot/internal/secret"
)

// Defaults of newAudioFetcher. defaultAudioMax is Discord's upload limit
// for bots when the interaction carries no attachment_size_limit.
// DefaultAudioMemory, four such files, is what the bot holds at most by
// default: a song is a few MiB, so many download at once, and four of the
// largest still fit a small container.
const (
	DefaultAudioMemory  = 4 * defaultAudioMax
	defaultAudioTimeout = 20 * time.Second
	defaultAudioMax     = 10 << 20
)

// Why an audio download fell back to the link; see audioFallbackReason.
// Errors from fetch wrap one of these, or a network error, or the caller's
// context error.
var (
	errAudioTooLarge = errors.New("audio is larger than the upload limit")
	errAudioType     = errors.New("response is not audio")
	errAudioStatus   = errors.New("unexpected HTTP status")
	errAudioTimeout  = errors.New("audio download timed out")
	errAudioURL      = errors.New("song URL is not an http(s) URL")
)

// audioFallbackReason is a low-cardinality word for logs and metrics that
// says why a song went out as a link alone.
func audioFallbackReason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, errAudioTooLarge):
		return "too_large"
	case errors.Is(err, errAudioType):
		return "not_audio"
	case errors.Is(err, errAudioStatus):
		return "status"
	case errors.Is(err, errAudioTimeout):
		return "timeout"
	case errors.Is(err, errAudioURL):
		return "bad_url"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "cancelled"
	}
	return "unreachable"
}

// audioFetcher downloads song audio for attachment within a memory
// budget.
//
// Memory: an upload needs the whole file once, in the buffer fetch returns:
// the reply's edit streams it from there (see multipartBody), and only a
// fallback message, which discordgo sends, copies it into a multipart body
// for a moment. fetch reads it straight into one buffer sized from
// Content-Length, or in chunks joined at the end when the server sends no
// length, never past the cap. Before it reads a body, a download reserves
// its size from the budget (Content-Length, or the cap when the server
// gives none), so the files being downloaded and held never exceed it
// (twice a file for a moment while chunks are joined): many songs finishing
// at once download together, not a fixed few at a time.
// With fetch, the reservation ends when it returns; fetchHeld keeps it
// until the caller has uploaded the file, so the budget covers it too.
type audioFetcher struct {
	client     *http.Client
	budget     *semaphore.Weighted // bytes; nil when unbounded
	size       int64               // the budget's size
	timeout    time.Duration       // covers the wait for memory and the download
	defaultMax int64               // the cap when the interaction gives none

	mu       sync.Mutex
	reserved int64 // bytes reserved now, for tests and metrics
}

// newAudioFetcher returns a fetcher that uses client (nil: a plain
// http.Client) for downloads that hold at most budget bytes at once (< 0:
// no bound; 0: DefaultAudioMemory), each given timeout (<= 0: 20s) from
// the call to fetch.
func newAudioFetcher(client *http.Client, budget int64, timeout time.Duration) *audioFetcher {
	if client == nil {
		client = &http.Client{}
	}
	if budget == 0 {
		budget = DefaultAudioMemory
	}
	if timeout <= 0 {
		timeout = defaultAudioTimeout
	}
	f := &audioFetcher{client: client, size: budget, timeout: timeout, defaultMax: defaultAudioMax}
	if budget > 0 {
		f.budget = semaphore.NewWeighted(budget)
	}
	return f
}

// inUse reports how many bytes downloads have reserved now.
func (f *audioFetcher) inUse() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reserved
}

// reserve takes n bytes of the budget (all of it when n is larger), waiting
// until ctx ends, and returns the function that gives them back.
func (f *audioFetcher) reserve(ctx context.Context, n int64) (func(), error) {
	if f.budget != nil {
		n = min(n, f.size)
		if err := f.budget.Acquire(ctx, n); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	f.reserved += n
	f.mu.Unlock()
	return sync.OnceFunc(func() {
		f.mu.Lock()
		f.reserved -= n
		f.mu.Unlock()
		if f.budget != nil {
			f.budget.Release(n)
		}
	}), nil
}

// fetch downloads songURL for attachment to the edited reply, through a
// cap of maxBytes (<= 0: 10 MiB; pass the interaction's
// attachment_size_limit when Discord sent one). The file's Reader is a
// *bytes.Reader: rewind it with Seek before sending the same file again.
//
// What counts as audio: a Content-Type of audio/* or application/ogg; or,
// when the server names no type or only application/octet-stream, a URL
// whose name ends in .mp3, .wav, .ogg, .oga, .opus, .m4a or .flac.
// Anything else (an HTML error page, JSON, an image) is refused, and so is
// a body that starts like text whatever its header says, since CDNs serve
// error pages under the requested name.
//
// On failure the error wraps errAudioTooLarge, errAudioType,
// errAudioStatus, errAudioTimeout, errAudioURL, a network error or ctx's
// error; audioFallbackReason names it. Errors never contain the URL's
// query, which may be a signature.
func (f *audioFetcher) fetch(ctx context.Context, songURL string, maxBytes int64) (*discordgo.File, error) {
	file, release, err := f.fetchHeld(ctx, songURL, maxBytes)
	release()
	return file, err
}

// fetchHeld is fetch that keeps the file's reservation until the caller
// calls release (always non-nil), so the file counts against the budget
// until it is uploaded and dropped.
func (f *audioFetcher) fetchHeld(ctx context.Context, songURL string, maxBytes int64) (file *discordgo.File, release func(), err error) {
	release = func() {}
	if maxBytes <= 0 {
		maxBytes = f.defaultMax
	}
	u, err := url.Parse(songURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, release, fmt.Errorf("audio: %w", errAudioURL)
	}
	where := u.Host + u.EscapedPath()

	dctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(dctx, http.MethodGet, songURL, nil)
	if err != nil {
		return nil, release, fmt.Errorf("audio: %w", errAudioURL)
	}
	req.Header.Set("Accept", "audio/*, application/ogg, application/octet-stream;q=0.5")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, release, f.failure(ctx, dctx, where, err)
	}
	defer resp.Body.Close()
	contentType, err := checkAudioResponse(resp, u, maxBytes)
	if err != nil {
		// Closing the body unread drops the connection rather than
		// downloading a file nobody will send.
		return nil, release, fmt.Errorf("audio: %s: %w", where, err)
	}
	need := maxBytes
	if resp.ContentLength >= 0 {
		need = resp.ContentLength + 1 // readCapped's buffer
	}
	held, err := f.reserve(dctx, need)
	if err != nil {
		if ctx.Err() != nil {
			return nil, release, fmt.Errorf("audio: %s: waiting for memory to download it: %w", where, ctx.Err())
		}
		return nil, release, fmt.Errorf("audio: %s: %w: not enough of the audio memory budget free within %v", where, errAudioTimeout, f.timeout)
	}
	release = held
	defer func() {
		if err != nil {
			release()
		}
	}()
	data, err := readCapped(resp.Body, resp.ContentLength, maxBytes)
	if errors.Is(err, errAudioTooLarge) {
		return nil, release, fmt.Errorf("audio: %s: %w: more than %d bytes", where, err, maxBytes)
	}
	if err != nil {
		return nil, release, f.failure(ctx, dctx, where, err)
	}
	if sniffed := http.DetectContentType(data); strings.HasPrefix(sniffed, "text/") {
		return nil, release, fmt.Errorf("audio: %s: %w: the body looks like %s", where, errAudioType, sniffed)
	}
	return &discordgo.File{
		Name:        audioFileName(u, contentType),
		ContentType: contentType,
		Reader:      newFileBytes(data),
	}, release, nil
}

// failure explains a failed request or read: the caller's cancellation
// wins, then our timeout, then the network error without the URL.
func (f *audioFetcher) failure(ctx, dctx context.Context, where string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("audio: %s: %w", where, ctx.Err())
	}
	var ne net.Error
	if dctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("audio: %s: %w after %v", where, errAudioTimeout, f.timeout)
	}
	// A *url.Error's message repeats the URL, query included.
	return fmt.Errorf("audio: %s: %w", where, secret.WithoutURL(err))
}

// checkAudioResponse decides, before the body is read, whether resp can be
// attached, and returns the content type to send it with.
func checkAudioResponse(resp *http.Response, u *url.URL, maxBytes int64) (string, error) {
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w %s", errAudioStatus, resp.Status)
	}
	if resp.ContentLength > maxBytes {
		return "", fmt.Errorf("%w: Content-Length %d, cap %d", errAudioTooLarge, resp.ContentLength, maxBytes)
	}
	header := resp.Header.Get("Content-Type")
	mediaType, _, err := mime.ParseMediaType(header)
	if err != nil {
		mediaType = ""
	}
	mediaType = strings.ToLower(mediaType)
	switch {
	case strings.HasPrefix(mediaType, "audio/"), mediaType == "application/ogg":
		return mediaType, nil
	case mediaType == "", mediaType == "application/octet-stream", mediaType == "binary/octet-stream":
		if t, ok := audioExtTypes[strings.ToLower(path.Ext(u.Path))]; ok {
			return t, nil
		}
		return "", fmt.Errorf("%w: Content-Type %q and no audio file name", errAudioType, header)
	}
	return "", fmt.Errorf("%w: Content-Type %q", errAudioType, header)
}

// audioChunk is the read size when the server announces no length.
const audioChunk = 64 << 10

// readCapped reads r to the end, failing with errAudioTooLarge as soon as
// it has seen more than limit bytes. size is the announced length, or -1.
// A truthful announced body is read into one buffer of size+1 bytes; an
// unannounced one into fixed chunks joined once at the end, so it costs
// twice its size for a moment rather than the copies of a doubling buffer.
func readCapped(r io.Reader, size, limit int64) ([]byte, error) {
	r = io.LimitReader(r, limit+1)
	chunk := int64(audioChunk)
	if size >= 0 {
		chunk = size + 1 // the extra byte sees the end without a second read
	}
	var chunks [][]byte
	var total int64
	for {
		c := make([]byte, min(chunk, limit+1-total))
		n, err := io.ReadFull(r, c)
		total += int64(n)
		if total > limit {
			return nil, errAudioTooLarge
		}
		chunks = append(chunks, c[:n])
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, err
		}
		chunk = audioChunk // the announced size was wrong
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	return bytes.Join(chunks, nil), nil
}

// audioExtTypes are the names accepted when the server sends no useful
// type, with the type to send them as.
var audioExtTypes = map[string]string{
	".mp3":  "audio/mpeg",
	".wav":  "audio/wav",
	".ogg":  "audio/ogg",
	".oga":  "audio/ogg",
	".opus": "audio/opus",
	".m4a":  "audio/mp4",
	".flac": "audio/flac",
}

// typeExts names a file whose URL has no audio extension, so that Discord
// shows its player.
var typeExts = map[string]string{
	"audio/mpeg":      ".mp3",
	"audio/mp3":       ".mp3",
	"audio/mpeg3":     ".mp3",
	"audio/ogg":       ".ogg",
	"application/ogg": ".ogg",
	"audio/vorbis":    ".ogg",
	"audio/opus":      ".opus",
	"audio/wav":       ".wav",
	"audio/wave":      ".wav",
	"audio/x-wav":     ".wav",
	"audio/vnd.wave":  ".wav",
	"audio/mp4":       ".m4a",
	"audio/m4a":       ".m4a",
	"audio/x-m4a":     ".m4a",
	"audio/aac":       ".aac",
	"audio/flac":      ".flac",
	"audio/x-flac":    ".flac",
	"audio/webm":      ".webm",
}

// maxAudioStem bounds the name before its extension.
const maxAudioStem = 64

// audioFileName is the attachment's name: the URL's last path element made
// of letters, digits, dot, dash and underscore only (Discord rewrites other
// characters, and attachment:// references must match), keeping an audio
// extension or adding one for contentType; "song" when nothing is left.
func audioFileName(u *url.URL, contentType string) string {
	base := path.Base(u.Path)
	safe := []byte(base)
	for i, c := range safe {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			safe[i] = '_'
		}
	}
	stem, ext := string(safe), path.Ext(string(safe))
	if _, ok := audioExtTypes[strings.ToLower(ext)]; ok {
		stem = stem[:len(stem)-len(ext)]
	} else {
		ext = typeExts[contentType]
		if ext == "" {
			ext = ".mp3"
		}
	}
	stem = strings.TrimRight(strings.TrimLeft(stem, "._"), ".") // no hidden names, no ".."
	if len(stem) > maxAudioStem {
		stem = stem[:maxAudioStem]
	}
	if strings.Trim(stem, "_-.") == "" {
		stem = "song"
	}
	return stem + ext
}
