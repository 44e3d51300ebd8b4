package bot

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/bwmarrin/discordgo"
)

// interactionRequest sends data (as JSON, or multipart with files) under
// token's bucket. It does what discordgo's RequestWithLockedBucket does,
// with two differences: a file is streamed from its own buffer rather than
// copied into a multipart body first (discordgo takes the body as one
// []byte), and discordgo's retries are off (it would retry a 502 at once
// and sleep through a 429 without regard for ctx), so the callers decide
// (see retryEdit), with backoff.
func (a sessionAPI) interactionRequest(ctx context.Context, method, uri, token string, data any, files []*discordgo.File) error {
	var body requestBody
	var err error
	if len(files) > 0 {
		body, err = multipartBody(data, files)
	} else {
		body, err = jsonBody(data)
	}
	if err != nil {
		return fmt.Errorf("discord: encode the request: %w", err)
	}
	bucket, done := a.buckets.lock(token)
	defer done()
	return redact(a.send(ctx, method, uri, body, bucket))
}

// send makes one request with body and releases bucket with the answer's
// rate-limit headers. A 2xx is success; a 429 is a *discordgo.RateLimitError
// and any other answer a *discordgo.RESTError, as discordgo returns them.
// The body of a success is read to its end and dropped, so the connection
// is kept for the next request without holding the message Discord echoes;
// an error while reading it does not undo the success.
func (a sessionAPI) send(ctx context.Context, method, uri string, body requestBody, bucket *discordgo.Bucket) error {
	req, err := http.NewRequestWithContext(ctx, method, uri, body.open())
	if err != nil {
		bucket.Release(nil)
		return err
	}
	req.ContentLength = body.size
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(body.open()), nil }
	req.Header.Set("Authorization", a.s.Token)
	req.Header.Set("Content-Type", body.contentType)
	req.Header.Set("User-Agent", a.s.UserAgent)
	resp, err := a.s.Client.Do(req)
	if err != nil {
		bucket.Release(nil)
		return err
	}
	defer resp.Body.Close()
	if err := bucket.Release(resp.Header); err != nil {
		return err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// Discord has done it: a body lost on the way costs only the
		// connection, not a retry of a callback that cannot be repeated.
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		var tmr discordgo.TooManyRequests
		if err := discordgo.Unmarshal(data, &tmr); err != nil {
			return fmt.Errorf("discord: rate limited (429) with a body that cannot be read: %w", err)
		}
		return &discordgo.RateLimitError{RateLimit: &discordgo.RateLimit{TooManyRequests: &tmr, URL: uri}}
	}
	restErr := &discordgo.RESTError{Request: req, Response: resp, ResponseBody: data}
	var msg *discordgo.APIErrorMessage
	if discordgo.Unmarshal(data, &msg) == nil {
		restErr.Message = msg
	}
	return restErr
}

// requestBody is a request's body that can be read from its start again,
// for a retry on a fresh connection, without copying it.
type requestBody struct {
	contentType string
	size        int64
	open        func() io.Reader
}

func jsonBody(data any) (requestBody, error) {
	b, err := discordgo.Marshal(data)
	if err != nil {
		return requestBody{}, err
	}
	return requestBody{
		contentType: "application/json",
		size:        int64(len(b)),
		open:        func() io.Reader { return bytes.NewReader(b) },
	}, nil
}

// multipartBody lays out data and files as Discord's multipart form
// (payload_json, then files[0], files[1], ...), as discordgo's
// MultipartBodyWithJSON does, without copying the files: only the form's
// framing is built in memory, and a file held in memory (a reader with a
// Bytes method, as fileBytes and bytes.Buffer are) is written from its own
// bytes as the request goes out. An upload so holds the audio once, in the
// buffer the download budget covers (see audioFetcher). Any other reader
// is copied into the framing, as discordgo does.
func multipartBody(data any, files []*discordgo.File) (requestBody, error) {
	payload, err := discordgo.Marshal(data)
	if err != nil {
		return requestBody{}, err
	}
	var frame bytes.Buffer
	w := multipart.NewWriter(&frame)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="payload_json"`)
	h.Set("Content-Type", "application/json")
	p, err := w.CreatePart(h)
	if err != nil {
		return requestBody{}, err
	}
	p.Write(payload) // a bytes.Buffer does not fail
	// Each held file goes in at offset at of the framing.
	type held struct {
		at   int
		data []byte
	}
	var helds []held
	size := 0
	for i, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="files[%d]"; filename="%s"`, i, quoteEscaper.Replace(f.Name)))
		contentType := f.ContentType
		if contentType == "" {
			contentType = "application/octet-stream"
		}
		h.Set("Content-Type", contentType)
		p, err := w.CreatePart(h)
		if err != nil {
			return requestBody{}, err
		}
		if b, ok := f.Reader.(interface{ Bytes() []byte }); ok {
			helds = append(helds, held{frame.Len(), b.Bytes()})
			size += len(b.Bytes())
			continue
		}
		if _, err := io.Copy(p, f.Reader); err != nil {
			return requestBody{}, fmt.Errorf("read file %q: %w", f.Name, err)
		}
	}
	if err := w.Close(); err != nil {
		return requestBody{}, err
	}
	framing := frame.Bytes()
	return requestBody{
		contentType: w.FormDataContentType(),
		size:        int64(size + len(framing)),
		open: func() io.Reader {
			parts := make(segments, 0, 2*len(helds)+1)
			from := 0
			for _, h := range helds {
				parts = append(parts, framing[from:h.at], h.data)
				from = h.at
			}
			parts = append(parts, framing[from:])
			return &parts
		},
	}, nil
}

// segments reads byte slices one after another. Its WriteTo hands each to
// the writer whole, so net/http sends a body of segments with no buffer
// of its own (io.MultiReader's WriteTo allocates 32 KiB each time).
type segments [][]byte

func (s *segments) Read(p []byte) (int, error) {
	for len(*s) > 0 && len((*s)[0]) == 0 {
		*s = (*s)[1:]
	}
	if len(*s) == 0 {
		return 0, io.EOF
	}
	n := copy(p, (*s)[0])
	(*s)[0] = (*s)[0][n:]
	return n, nil
}

func (s *segments) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for len(*s) > 0 {
		n, err := w.Write((*s)[0])
		total += int64(n)
		(*s)[0] = (*s)[0][n:]
		if err != nil {
			return total, err
		}
		*s = (*s)[1:]
	}
	return total, nil
}

// fileBytes is a file's content held in memory, as a reader that
// multipartBody sends from the bytes themselves.
type fileBytes struct {
	*bytes.Reader
	data []byte
}

func newFileBytes(data []byte) fileBytes { return fileBytes{bytes.NewReader(data), data} }

// Bytes returns the whole content, whatever has been read.
func (f fileBytes) Bytes() []byte { return f.data }

// quoteEscaper escapes a file name for a quoted Content-Disposition
// parameter, as mime/multipart and discordgo do.
var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")
