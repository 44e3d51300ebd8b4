package bot

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// readForm parses a multipart body as Discord would: each part's form
// name, file name and bytes, in order.
func readForm(t *testing.T, contentType string, body []byte) [][3]string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("Content-Type %q: %v", contentType, err)
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var parts [][3]string
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return parts
		}
		if err != nil {
			t.Fatalf("NextPart() = %v", err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("read part %q: %v", p.FormName(), err)
		}
		parts = append(parts, [3]string{p.FormName(), p.FileName(), string(data)})
	}
}

func TestMultipartBodyIsDiscordgosForm(t *testing.T) {
	data := map[string]string{"content": "done"}
	files := func() []*discordgo.File {
		return []*discordgo.File{
			{Name: `song "one".mp3`, ContentType: "audio/mpeg", Reader: newFileBytes([]byte("ID3 first file"))},
			{Name: "cover.jpg", Reader: bytes.NewBufferString("second file")},
			{Name: "notes.txt", Reader: strings.NewReader("third, copied")}, // no Bytes method
		}
	}
	wantType, wantBody, err := discordgo.MultipartBodyWithJSON(data, files())
	if err != nil {
		t.Fatal(err)
	}
	body, err := multipartBody(data, files())
	if err != nil {
		t.Fatalf("multipartBody() = %v", err)
	}
	for read := range 2 { // a retry reads the body again from its start
		got, err := io.ReadAll(body.open())
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(got)) != body.size {
			t.Errorf("read %d: %d bytes; size says %d", read, len(got), body.size)
		}
		if g, w := readForm(t, body.contentType, got), readForm(t, wantType, wantBody); !equalParts(g, w) {
			t.Errorf("read %d: parts %q; want discordgo's %q", read, g, w)
		}
	}
}

func equalParts(a, b [][3]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestMultipartBodyDoesNotCopyTheFile builds the body of a 3 MiB upload,
// sends it and checks that far less than the file was allocated on the
// way: the file goes out from its own buffer.
func TestMultipartBodyDoesNotCopyTheFile(t *testing.T) {
	audio := bytes.Repeat([]byte{0xff}, 3<<20)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	body, err := multipartBody(map[string]string{"content": ""}, []*discordgo.File{{Name: "a.mp3", Reader: newFileBytes(audio)}})
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, body.open()) // as net/http sends it: WriteTo
	if err != nil || n != body.size {
		t.Fatalf("sent %d bytes (%v); want %d", n, err, body.size)
	}
	runtime.ReadMemStats(&ms)
	if alloc := ms.TotalAlloc - before; alloc > 1<<20 {
		t.Errorf("building and reading the body of a %d-byte file allocated %d bytes; want under 1 MiB", len(audio), alloc)
	}
	if body.size < int64(len(audio)) {
		t.Errorf("size %d; want at least the file's %d", body.size, len(audio))
	}
}

// TestSendAnswersAsDiscordgoDoes checks the outcomes the callers tell
// apart (restCode, tokenGone, transient, rateLimited) for each kind of
// answer, and that the request carries the session's headers and body.
func TestSendAnswersAsDiscordgoDoes(t *testing.T) {
	var status int
	var body string
	var got *http.Request
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		gotBody, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	s, err := NewSession("tok", srv.URL, nil, "songbot-test")
	if err != nil {
		t.Fatal(err)
	}
	api := newSessionAPI(s, time.Now)
	content := "hello"

	tests := []struct {
		name      string
		status    int
		body      string
		check     func(error) bool
		wantIsErr bool
	}{
		{"200", 200, `{"id":"1"}`, func(err error) bool { return err == nil }, false},
		{"204", 204, ``, func(err error) bool { return err == nil }, false},
		{"429", 429, `{"message":"You are being rate limited.","retry_after":1.5,"global":false}`, func(err error) bool {
			var rl rateLimited
			return errors.As(err, &rl) && rl.retryAfter == 1500*time.Millisecond
		}, true},
		{"401 invalid token", 401, `{"message":"Invalid Webhook Token","code":50027}`, tokenGone, true},
		{"404 unknown webhook", 404, `{"message":"Unknown Webhook","code":10015}`, tokenGone, true},
		{"502", 502, `<html>bad gateway</html>`, func(err error) bool { _, st := restCode(err); return st == 502 && transient(err) }, true},
		{"400", 400, `{"message":"Invalid Form Body","code":50035}`, func(err error) bool { code, st := restCode(err); return code == 50035 && st == 400 && !transient(err) }, true},
	}
	for _, tt := range tests {
		status, body = tt.status, tt.body
		err := api.EditReply(t.Context(), "app", "the-token", &discordgo.WebhookEdit{Content: &content})
		if (err != nil) != tt.wantIsErr || !tt.check(err) {
			t.Errorf("%s: EditReply() = %v", tt.name, err)
		}
		if err != nil && strings.Contains(err.Error(), "the-token") {
			t.Errorf("%s: the error %q holds the token", tt.name, err)
		}
	}
	if want := discordgo.EndpointWebhookMessage("app", "the-token", "@original"); got.Method != http.MethodPatch || !strings.HasSuffix(want, got.URL.Path) {
		t.Errorf("request %s %s; want PATCH of @original", got.Method, got.URL.Path)
	}
	if got.Header.Get("Authorization") != "Bot tok" || got.Header.Get("User-Agent") != "songbot-test" || got.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v; want the session's Authorization and User-Agent, and JSON", got.Header)
	}
	if string(gotBody) != `{"content":"hello"}` || got.ContentLength != int64(len(gotBody)) {
		t.Errorf("body %q (Content-Length %d); want the edit as JSON", gotBody, got.ContentLength)
	}

	status, body = 200, `{}`
	audio := []byte("ID3 some audio")
	err = api.EditReply(t.Context(), "app", "the-token", &discordgo.WebhookEdit{Content: &content, Files: []*discordgo.File{{Name: "a.mp3", ContentType: "audio/mpeg", Reader: newFileBytes(audio)}}})
	if err != nil {
		t.Fatalf("EditReply(with a file) = %v", err)
	}
	parts := readForm(t, got.Header.Get("Content-Type"), gotBody)
	want := [][3]string{{"payload_json", "", `{"content":"hello"}`}, {"files[0]", "a.mp3", string(audio)}}
	if !equalParts(parts, want) {
		t.Errorf("multipart parts %q; want %q", parts, want)
	}
}

// BenchmarkEditReplyWith3MiBAudio is the final edit of a song with its
// audio attached, a typical 3 MiB MP3, to a server that reads and drops
// it: B/op shows what an upload allocates beyond the audio already held.
func BenchmarkEditReplyWith3MiBAudio(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"1","content":""}`)
	}))
	b.Cleanup(srv.Close)
	s, err := NewSession("tok", srv.URL, nil, "songbot-test")
	if err != nil {
		b.Fatal(err)
	}
	api := newSessionAPI(s, time.Now)
	audio := bytes.Repeat([]byte{0xff}, 3<<20)
	content := ""
	b.SetBytes(int64(len(audio)))
	b.ReportAllocs()
	for b.Loop() {
		edit := &discordgo.WebhookEdit{Content: &content, Files: []*discordgo.File{{Name: "a.mp3", ContentType: "audio/mpeg", Reader: newFileBytes(audio)}}}
		if err := api.EditReply(b.Context(), "app", "token", edit); err != nil {
			b.Fatal(err)
		}
	}
}
