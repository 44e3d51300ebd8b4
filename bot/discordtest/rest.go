package discordtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxRequestBody is Discord's limit on a whole request (25 MiB).
const maxRequestBody = 25 << 20

// Request is one REST request the fake received.
type Request struct {
	Method string
	Path   string // URL path, e.g. /api/v9/webhooks/1/tok/messages/@original
	Query  url.Values
	Header http.Header
	// ContentType is the media type of the body without parameters, e.g.
	// "application/json" or "multipart/form-data".
	ContentType string
	Body        []byte // raw
	// JSON is the JSON payload: the body, or the payload_json part of a
	// multipart body; nil if there is none.
	JSON   []byte
	Files  []File
	Status int // what the fake answered
	Time   time.Time
}

// File is one uploaded file of a multipart request.
type File struct {
	Field       string // form field, e.g. "files[0]"
	Name        string // filename as uploaded
	ContentType string // the part's Content-Type
	Data        []byte
}

// failure is one FailNext rule.
type failure struct {
	method, prefix string
	left, status   int
	body           string
}

// FailNext makes the next n requests whose method is method ("" for any)
// and whose URL path starts with pathPrefix answer status with body. The
// prefix may include the /api/v9 part or not ("/webhooks/" matches
// "/api/v9/webhooks/..."). An empty body is replaced by Discord's body for
// that status; 429 gets {"message":"You are being rate limited.",
// "retry_after":0.1,"global":false} and a Retry-After header. Failed
// requests have no other effect.
func (s *Server) FailNext(method, pathPrefix string, n, status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, &failure{method: method, prefix: pathPrefix, left: n, status: status, body: body})
}

// reply is an HTTP answer.
type reply struct {
	status int
	body   []byte
	header http.Header
	isJSON bool // body is encoded JSON; else it is served as JSON if it parses
}

func jsonReply(status int, v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("discordtest: encoding reply: %v", err))
	}
	return reply{status: status, body: b, isJSON: true}
}

func noContent() reply { return reply{status: http.StatusNoContent} }

// apiError is Discord's error body {"message": ..., "code": ...}.
func apiError(status, code int, message string) reply {
	return jsonReply(status, errorBody{Message: message, Code: code})
}

// errorBody keeps Discord's key order.
type errorBody struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
	Errors  any    `json:"errors,omitempty"`
}

// httpError is Discord's body for errors without a specific code, such as
// {"message": "404: Not Found", "code": 0}.
func httpError(status int) reply {
	return apiError(status, 0, fmt.Sprintf("%d: %s", status, http.StatusText(status)))
}

func errInvalidJSON() reply {
	return apiError(http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
}

func errTooLarge() reply {
	return apiError(http.StatusRequestEntityTooLarge, 40005, "Request entity too large")
}

// formError is Discord's 400 50035 "Invalid Form Body" with the error at
// path (e.g. "embeds", "0", "title") in its errors object.
func formError(code, message string, path ...string) reply {
	var errs any = map[string]any{"_errors": []any{map[string]any{"code": code, "message": message}}}
	for i := len(path) - 1; i >= 0; i-- {
		errs = map[string]any{path[i]: errs}
	}
	return jsonReply(http.StatusBadRequest, errorBody{Message: "Invalid Form Body", Code: 50035, Errors: errs})
}

// rateLimited is Discord's 429.
func rateLimited(body string) reply {
	if body == "" {
		body = `{"message":"You are being rate limited.","retry_after":0.1,"global":false}`
	}
	var rl struct {
		RetryAfter float64 `json:"retry_after"`
		Global     bool    `json:"global"`
	}
	json.Unmarshal([]byte(body), &rl)
	h := http.Header{}
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(rl.RetryAfter))))
	if rl.Global {
		h.Set("X-RateLimit-Global", "true")
		h.Set("X-RateLimit-Scope", "global")
	} else {
		h.Set("X-RateLimit-Scope", "user")
	}
	return reply{status: http.StatusTooManyRequests, body: []byte(body), header: h}
}

// call is one REST request being handled.
type call struct {
	req     *Request
	params  map[string]string
	jsonErr error // why the body has no usable JSON payload
	// onRecord, if set, runs once the request is recorded with its status.
	onRecord func(Request)
}

// recordLocked records c's request, answered with status, and wakes Wait;
// s.mu is held.
func (s *Server) recordLocked(c *call, status int) {
	c.req.Status = status
	s.requests = append(s.requests, *c.req)
	if c.onRecord != nil {
		c.onRecord(*c.req)
	}
	s.notify()
}

type handler func(s *Server, c *call) reply

type route struct {
	method, pattern string
	bot             bool // needs "Authorization: Bot <token>"
	h               handler
}

var routes = []route{
	{"GET", "gateway", false, (*Server).getGateway},
	{"GET", "gateway/bot", true, (*Server).getGatewayBot},
	{"GET", "oauth2/applications/@me", true, (*Server).getApplication},
	{"GET", "users/@me", true, (*Server).getMe},
	{"POST", "users/@me/channels", true, (*Server).createDM},
	{"GET", "applications/{app}/commands", true, (*Server).getCommands},
	{"PUT", "applications/{app}/commands", true, (*Server).putCommands},
	{"GET", "applications/{app}/guilds/{guild}/commands", true, (*Server).getCommands},
	{"PUT", "applications/{app}/guilds/{guild}/commands", true, (*Server).putCommands},
	{"POST", "interactions/{id}/{token}/callback", false, (*Server).interactionCallback},
	{"PATCH", "webhooks/{app}/{token}/messages/{msg}", false, (*Server).editWebhookMessage},
	{"POST", "channels/{channel}/messages", true, (*Server).createChannelMessage},
}

// match reports whether path segments fit pattern, and its parameters.
func match(pattern string, segs []string) (map[string]string, bool) {
	ps := strings.Split(pattern, "/")
	if len(ps) != len(segs) {
		return nil, false
	}
	params := map[string]string{}
	for i, p := range ps {
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" {
				return nil, false
			}
			params[p[1:len(p)-1]] = segs[i]
		} else if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// apiPath splits "/api/v9/a/b" into ("a/b", true).
func apiPath(p string) (string, bool) {
	for _, prefix := range []string{"/api/v9/", "/api/v10/"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			return rest, true
		}
	}
	return "", false
}

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	rec := Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.Query(),
		Header: r.Header.Clone(),
		Time:   time.Now(),
	}
	c := &call{req: &rec}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	rec.Body = body
	var early *reply
	switch {
	case err != nil:
		rep := httpError(http.StatusBadRequest)
		early = &rep
	case len(body) > maxRequestBody:
		rep := errTooLarge()
		early = &rep
	default:
		c.jsonErr = parseBody(&rec)
	}

	s.mu.Lock()
	var rep reply
	if early != nil {
		rep = *early
	} else {
		rep = s.handle(c)
	}
	s.recordLocked(c, rep.status)
	s.mu.Unlock()

	for k, v := range rep.header {
		w.Header()[k] = v
	}
	switch {
	case rep.body == nil:
	case rep.isJSON || json.Valid(rep.body):
		w.Header().Set("Content-Type", "application/json")
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.WriteHeader(rep.status)
	w.Write(rep.body)
}

// handle routes a request. The caller holds s.mu.
func (s *Server) handle(c *call) reply {
	r := c.req
	rest, isAPI := apiPath(r.Path)
	for _, f := range s.failures {
		if f.left <= 0 || (f.method != "" && f.method != r.Method) {
			continue
		}
		if strings.HasPrefix(r.Path, f.prefix) || (isAPI && strings.HasPrefix("/"+rest, f.prefix)) {
			f.left--
			switch {
			case f.status == http.StatusTooManyRequests:
				return rateLimited(f.body)
			case f.body == "" && f.status != http.StatusNoContent:
				return httpError(f.status)
			default:
				return reply{status: f.status, body: []byte(f.body)}
			}
		}
	}
	if !isAPI {
		return httpError(http.StatusNotFound)
	}
	segs := strings.Split(rest, "/")
	found := false
	for _, rt := range routes {
		params, ok := match(rt.pattern, segs)
		if !ok {
			continue
		}
		found = true
		if rt.method != r.Method {
			continue
		}
		if rt.bot && r.Header.Get("Authorization") != "Bot "+s.Token {
			return httpError(http.StatusUnauthorized)
		}
		c.params = params
		return rt.h(s, c)
	}
	if found {
		return httpError(http.StatusMethodNotAllowed)
	}
	return httpError(http.StatusNotFound)
}

// parseBody fills JSON and Files from the body; the error says why there
// is no JSON payload (none at all is not an error).
func parseBody(r *Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		if len(r.Body) > 0 {
			return errors.New("body without Content-Type")
		}
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return err
	}
	r.ContentType = mt
	switch mt {
	case "application/json":
		if !json.Valid(r.Body) {
			return errors.New("invalid JSON")
		}
		r.JSON = r.Body
		return nil
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			data, err := io.ReadAll(p)
			if err != nil {
				return err
			}
			switch {
			case p.FormName() == "payload_json":
				if !json.Valid(data) {
					return errors.New("invalid payload_json")
				}
				r.JSON = data
			case p.FileName() != "":
				r.Files = append(r.Files, File{
					Field:       p.FormName(),
					Name:        p.FileName(),
					ContentType: p.Header.Get("Content-Type"),
					Data:        data,
				})
			}
		}
		return nil
	default:
		return fmt.Errorf("unsupported Content-Type %q", mt)
	}
}

// object decodes the call's JSON payload as an object of raw fields.
func (c *call) object() (map[string]json.RawMessage, *reply) {
	if c.jsonErr != nil {
		rep := errInvalidJSON()
		return nil, &rep
	}
	var obj map[string]json.RawMessage
	if c.req.JSON == nil {
		return map[string]json.RawMessage{}, nil
	}
	if err := json.Unmarshal(c.req.JSON, &obj); err != nil || obj == nil {
		rep := formError("MODEL_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
		return nil, &rep
	}
	return obj, nil
}

func (s *Server) getGateway(*call) reply {
	return jsonReply(http.StatusOK, map[string]any{"url": s.wsURL})
}

func (s *Server) getMe(*call) reply {
	u := s.botUser()
	u["banner"], u["accent_color"], u["locale"], u["premium_type"] = nil, nil, "en-US", 0
	return jsonReply(http.StatusOK, u)
}
