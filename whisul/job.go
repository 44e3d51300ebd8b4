package whisul

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Submission is Whisul's answer to a generate request.
type Submission struct {
	JobID   string
	PollURL string // relative to the base URL, e.g. "/jobs/<id>"; may be empty
	Message string // e.g. "Composition task received."
}

// Status is a job's state. Whisul documents three; anything else it sends
// is reported as StatusRunning, with the original in Job.RawStatus.
type Status string

const (
	StatusRunning   Status = "running"
	StatusCompleted Status = "completed"
	StatusFailed    Status = "failed"
)

// Job is one poll's view of a generation job.
type Job struct {
	Status    Status // unknown wire values become StatusRunning
	RawStatus string // the status as sent
	Prompt    string
	Result    *Result // non-nil only when Status == StatusCompleted
	Error     string  // why a failed job failed, key redacted, at most ~1000 bytes; may be empty
	// StartedAt and FinishedAt are UTC; zero when absent, null or unreadable.
	StartedAt, FinishedAt time.Time
}

// Result is a finished song.
type Result struct {
	Title        string
	BPM          float64       // 0 when absent or unreadable
	Duration     time.Duration // 0 when DurationText is empty or unreadable
	DurationText string        // as sent, e.g. "2:47"
	SongURL      string        // absolute http(s) URL, always set
	ImageURL     string        // absolute http(s) URL, or empty
	Tags         []string
}

// timeLayout is Whisul's timestamp format, always UTC.
const timeLayout = "2006-01-02 15:04:05"

// decodeSubmission decodes the 202 body of POST /generate.
func decodeSubmission(body []byte) (Submission, error) {
	var w struct {
		JobID   json.RawMessage `json:"job_id"`
		PollURL json.RawMessage `json:"poll_url"`
		Message json.RawMessage `json:"message"`
	}
	if err := decodeObject(body, &w); err != nil {
		return Submission{}, malformed("generate", "%v", err)
	}
	id, ok := jsonString(w.JobID)
	if !ok || strings.TrimSpace(id) == "" {
		return Submission{}, malformed("generate", "job_id missing, empty or not a string")
	}
	s := Submission{JobID: id}
	s.PollURL, _ = jsonString(w.PollURL)
	s.Message, _ = jsonString(w.Message)
	return s, nil
}

// decodeJob decodes the 200 body of GET /jobs/{id}. Only structural
// problems fail it (not an object, status missing or not a string, a
// completed job without a result object or without a usable song_url);
// a bad duration, BPM, image URL or timestamp is logged and zeroed, so that
// a finished song is not lost over a detail.
func decodeJob(body []byte, log *slog.Logger) (Job, error) {
	var w struct {
		Status     json.RawMessage `json:"status"`
		Prompt     json.RawMessage `json:"prompt"`
		Result     json.RawMessage `json:"result"`
		Error      json.RawMessage `json:"error"`
		StartedAt  json.RawMessage `json:"started_at"`
		FinishedAt json.RawMessage `json:"finished_at"`
	}
	if err := decodeObject(body, &w); err != nil {
		return Job{}, malformed("job", "%v", err)
	}
	raw, ok := jsonString(w.Status)
	if !ok {
		return Job{}, malformed("job", "status missing or not a string")
	}
	j := Job{RawStatus: raw, Status: StatusRunning}
	switch s := Status(raw); s {
	case StatusRunning, StatusCompleted, StatusFailed:
		j.Status = s
	}
	j.Prompt, _ = jsonString(w.Prompt)
	j.StartedAt = decodeTime(w.StartedAt, "started_at", log)
	j.FinishedAt = decodeTime(w.FinishedAt, "finished_at", log)

	switch j.Status {
	case StatusFailed:
		j.Error = decodeErrorText(w.Error)
	case StatusCompleted:
		if !isObject(w.Result) {
			return Job{}, malformed("job", "completed job has no result object")
		}
		r, err := decodeResult(w.Result, log)
		if err != nil {
			return Job{}, err
		}
		j.Result = r
	}
	return j, nil
}

func decodeResult(raw json.RawMessage, log *slog.Logger) (*Result, error) {
	var w struct {
		Title    json.RawMessage `json:"title"`
		BPM      json.RawMessage `json:"bpm"`
		Duration json.RawMessage `json:"duration"`
		SongURL  json.RawMessage `json:"song_url"`
		ImageURL json.RawMessage `json:"image_url"`
		Tags     json.RawMessage `json:"tags"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, malformed("job", "result: %v", err)
	}
	song, _ := jsonString(w.SongURL)
	if !isWebURL(song) {
		return nil, malformed("job", "result: song_url missing or not an absolute http(s) URL")
	}
	r := &Result{SongURL: song}
	r.Title, _ = jsonString(w.Title)
	r.BPM = decodeBPM(w.BPM)

	if img, ok := jsonString(w.ImageURL); ok && img != "" {
		if isWebURL(img) {
			r.ImageURL = img
		} else {
			log.Warn("whisul: dropping invalid image_url", "image_url", clip(img, maxErrorText))
		}
	}

	if text, ok := jsonString(w.Duration); ok {
		r.DurationText = text
		d, ok := parseDuration(text)
		if !ok && text != "" {
			log.Warn("whisul: unreadable duration", "duration", clip(text, maxErrorText))
		}
		r.Duration = d
	}

	if tags, ok := jsonString(w.Tags); ok {
		r.Tags = splitTags(tags)
	}
	return r, nil
}

// decodeObject unmarshals body into v, insisting on a JSON object: the
// standard library would accept "null" silently.
func decodeObject(body []byte, v any) error {
	if !isObject(body) {
		if len(bytes.TrimSpace(body)) == 0 {
			return errString("empty body")
		}
		return errString("body is not a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errString("invalid JSON: " + err.Error())
	}
	return nil
}

type errString string

func (e errString) Error() string { return string(e) }

func isObject(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// jsonString reports whether raw is a JSON string, and its value.
func jsonString(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// decodeErrorText returns a failed job's error: a string, or for any other
// non-null JSON value its compact text, so no failure detail is lost. It is
// returned whole: Client.Job redacts, then clips it.
func decodeErrorText(raw json.RawMessage) string {
	if s, ok := jsonString(raw); ok {
		return s
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return ""
	}
	return b.String()
}

// decodeBPM accepts a JSON number or a string holding one; anything else,
// and negative or non-finite values, give 0.
func decodeBPM(raw json.RawMessage) float64 {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	text := string(raw)
	if s, ok := jsonString(raw); ok {
		text = strings.TrimSpace(s)
	} else if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return 0
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0
	}
	return f
}

// decodeTime parses a Whisul timestamp; null, absent or unreadable give the
// zero time (unreadable ones are logged).
func decodeTime(raw json.RawMessage, field string, log *slog.Logger) time.Time {
	s, ok := jsonString(raw)
	if !ok || s == "" {
		return time.Time{}
	}
	t, ok := parseTime(s)
	if !ok {
		log.Warn("whisul: unreadable timestamp", "field", field, "value", clip(s, maxErrorText))
	}
	return t
}

// parseTime reads "2006-01-02 15:04:05" as UTC. RFC 3339 is accepted too,
// in case Whisul moves to it.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(timeLayout, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

// parseDuration reads "m:ss" or "h:mm:ss". Seconds (and minutes in the
// three-part form) may have one digit ("0:7" is 7s) but must be below 60.
// It reports false, with 0, for anything else, including "".
func parseDuration(s string) (time.Duration, bool) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	var h, m, sec int64
	var ok bool
	switch len(parts) {
	case 2:
		m, ok = durationPart(parts[0], 6, -1)
		if !ok {
			return 0, false
		}
		sec, ok = durationPart(parts[1], 2, 60)
	case 3:
		h, ok = durationPart(parts[0], 6, -1)
		if !ok {
			return 0, false
		}
		m, ok = durationPart(parts[1], 2, 60)
		if !ok {
			return 0, false
		}
		sec, ok = durationPart(parts[2], 2, 60)
	}
	if !ok {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second, true
}

// durationPart parses 1 to maxDigits decimal digits, below limit if
// limit >= 0.
func durationPart(s string, maxDigits int, limit int64) (int64, bool) {
	if len(s) > maxDigits || !isDigits(s) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || (limit >= 0 && n >= limit) {
		return 0, false
	}
	return n, true
}

// splitTags splits Whisul's comma-separated tags, trimming each and
// dropping empty ones.
func splitTags(s string) []string {
	var tags []string
	for t := range strings.SplitSeq(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

// isWebURL reports whether s is an absolute http or https URL with a host.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	return u.Scheme == "http" || u.Scheme == "https"
}
