package discordtest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// What the fake does as Discord toward an Interactions Endpoint URL: it
// POSTs each interaction signed with the application's key (Ed25519 over
// X-Signature-Timestamp followed by the body), and takes a 200 response's
// body as the interaction's first response, exactly as if it had arrived
// at the callback endpoint: Callback, AckLatency and the reply's message
// see it the same way.

// HTTPResponse is an endpoint's answer to one POST.
type HTTPResponse struct {
	Status int
	Body   []byte
}

// publicKeyHex is the public key as the developer portal shows it.
func (s *Server) publicKeyHex() string { return hex.EncodeToString(s.PublicKey) }

// Sign returns the X-Signature-Ed25519 value for body sent at timestamp
// (unix seconds) with the application's key.
func (s *Server) Sign(timestamp string, body []byte) string {
	return hex.EncodeToString(ed25519.Sign(s.privateKey, append([]byte(timestamp), body...)))
}

// PostCommand sends an application command interaction to the endpoint
// at url (e.g. "http://127.0.0.1:8081/interactions") instead of the
// gateway, and records the response as its first response.
func (s *Server) PostCommand(ctx context.Context, url, name string, c SongCommand) (Interaction, HTTPResponse, error) {
	in, body, err := s.prepareEvent(2, c, s.commandData(name, c))
	if err != nil {
		return Interaction{}, HTTPResponse{}, err
	}
	s.mu.Lock()
	in.payload = body
	s.mu.Unlock()
	resp, err := s.post(ctx, url, in)
	s.mu.Lock()
	defer s.mu.Unlock()
	return in.public(), resp, err
}

// PostCommands is PostCommand for many commands at once, as a crowd sends
// them: every interaction is built, encoded and signed first, then all
// are posted together, so that what the fake spends making them (on
// Discord, another machine's work) is not spent while the bot answers.
func (s *Server) PostCommands(ctx context.Context, url, name string, cs []SongCommand) ([]Interaction, []HTTPResponse, error) {
	ins := make([]*interaction, len(cs))
	headers := make([]http.Header, len(cs))
	for i, c := range cs {
		in, body, err := s.prepareEvent(2, c, s.commandData(name, c))
		if err != nil {
			return nil, nil, err
		}
		s.mu.Lock()
		in.payload = body
		s.mu.Unlock()
		ins[i], headers[i] = in, s.signed(body, time.Now())
	}
	out := make([]Interaction, len(cs))
	resps := make([]HTTPResponse, len(cs))
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i := range cs {
		wg.Go(func() {
			resps[i], errs[i] = s.postSigned(ctx, url, ins[i], headers[i])
			s.mu.Lock()
			out[i] = ins[i].public()
			s.mu.Unlock()
		})
	}
	wg.Wait()
	return out, resps, errors.Join(errs...)
}

// Repost sends an interaction posted before to url again, as Discord does
// when it retries, or as a balancer would give it to a second instance.
func (s *Server) Repost(ctx context.Context, url, interactionID string) (HTTPResponse, error) {
	s.mu.Lock()
	in := s.inter.byID[interactionID]
	s.mu.Unlock()
	if in == nil || in.payload == nil {
		return HTTPResponse{}, fmt.Errorf("discordtest: interaction %s was not posted", interactionID)
	}
	return s.post(ctx, url, in)
}

// Ping posts a PING (type 1), as the developer portal does when the URL is
// saved.
func (s *Server) Ping(ctx context.Context, url string) (HTTPResponse, error) {
	body, _ := json.Marshal(map[string]any{"id": s.newID(time.Now()), "token": "ping", "type": 1, "application_id": s.AppID, "version": 1})
	return s.PostSigned(ctx, url, body, time.Now())
}

// PostSigned posts body to url signed for the time at. Tests use it for
// requests Discord would not send: stale, tampered or oversized ones.
func (s *Server) PostSigned(ctx context.Context, url string, body []byte, at time.Time) (HTTPResponse, error) {
	return PostRaw(ctx, url, body, s.signed(body, at))
}

// signed is the header that signs body for the time at.
func (s *Server) signed(body []byte, at time.Time) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	return http.Header{
		"X-Signature-Ed25519":   {s.Sign(ts, body)},
		"X-Signature-Timestamp": {ts},
	}
}

// endpointClient posts interactions the way Discord does: over
// connections it keeps open, so a burst does not dial one per request.
var endpointClient = &http.Client{Transport: func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 0, 1024 // 0: no limit over all hosts
	return t
}()}

// PostRaw posts body to url with header as it is.
func PostRaw(ctx context.Context, url string, body []byte, header http.Header) (HTTPResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return HTTPResponse{}, err
	}
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Discord-Interactions/1.0 (+https://discord.com)")
	res, err := endpointClient.Do(req)
	if err != nil {
		return HTTPResponse{}, fmt.Errorf("discordtest: post interaction: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxRequestBody))
	return HTTPResponse{Status: res.StatusCode, Body: b}, err
}

// post sends in's payload signed now and applies a 200 answer as its
// callback.
func (s *Server) post(ctx context.Context, endpoint string, in *interaction) (HTTPResponse, error) {
	s.mu.Lock()
	body := in.payload
	s.mu.Unlock()
	// Discord signs before it sends: the wait for the answer starts after.
	return s.postSigned(ctx, endpoint, in, s.signed(body, time.Now()))
}

// postSigned is post with in's payload signed already, by header.
func (s *Server) postSigned(ctx context.Context, endpoint string, in *interaction, header http.Header) (HTTPResponse, error) {
	s.mu.Lock()
	body := in.payload
	if in.sentAt.IsZero() {
		in.sentAt = time.Now()
	}
	s.mu.Unlock()
	resp, err := PostRaw(ctx, endpoint, body, header)
	if err != nil || resp.Status != http.StatusOK {
		return resp, err
	}
	rec := Request{
		Method:      http.MethodPost,
		Path:        "/api/v10/interactions/" + in.id + "/" + in.token + "/callback",
		Query:       url.Values{},
		Header:      http.Header{"Content-Type": {"application/json"}},
		ContentType: "application/json",
		Body:        resp.Body,
		JSON:        resp.Body,
		Time:        time.Now(),
	}
	c := &call{req: &rec, params: map[string]string{"id": in.id, "token": in.token}}
	if !json.Valid(resp.Body) {
		c.jsonErr = fmt.Errorf("invalid JSON")
	}
	s.mu.Lock()
	rep := s.interactionCallback(c)
	s.recordLocked(c, rep.status)
	s.mu.Unlock()
	return resp, nil
}
