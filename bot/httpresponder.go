package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/bwmarrin/discordgo"
)

// httpResponder is the bot's discordAPI in HTTP mode. Handlers call Respond
// for an interaction's first response as in gateway mode; for an
// interaction whose HTTP request is waiting, the response becomes that
// request's body instead of a callback, and Respond returns once it has
// been sent. Everything else goes to Discord's REST API as usual.
//
// Requests wait keyed by their decoded *discordgo.Interaction, not by id,
// so two deliveries of one interaction to one instance stay apart.
type httpResponder struct {
	discordAPI

	mu      sync.Mutex
	pending map[*discordgo.Interaction]*pendingAnswer
}

// pendingAnswer is one HTTP request waiting for its handler's first
// response: the handler sends the JSON on body, the request sends back on
// written whether it reached the client.
type pendingAnswer struct {
	in      *discordgo.Interaction
	body    chan []byte
	written chan error
}

func newHTTPResponder(rest discordAPI) *httpResponder {
	return &httpResponder{discordAPI: rest, pending: map[*discordgo.Interaction]*pendingAnswer{}}
}

// expect registers the request of in before its handler starts.
func (h *httpResponder) expect(in *discordgo.Interaction) *pendingAnswer {
	p := &pendingAnswer{in: in, body: make(chan []byte, 1), written: make(chan error, 1)}
	h.mu.Lock()
	h.pending[in] = p
	h.mu.Unlock()
	return p
}

// giveUp stops waiting for p's response. It returns false when a Respond
// already took p, whose body is then on its way and must be written.
func (h *httpResponder) giveUp(p *pendingAnswer) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pending[p.in] != p {
		return false
	}
	delete(h.pending, p.in)
	return true
}

// Respond sends resp as the HTTP response of in's request. An interaction
// without a waiting request (it was given up after answerWithin) gets
// errAnswerTooLate: in HTTP mode a callback could not help either.
func (h *httpResponder) Respond(ctx context.Context, in *discordgo.Interaction, resp *discordgo.InteractionResponse) error {
	body, err := json.Marshal(resp)
	if err != nil {
		return fmt.Errorf("discord: encode the interaction response: %w", err)
	}
	h.mu.Lock()
	p := h.pending[in]
	delete(h.pending, in)
	h.mu.Unlock()
	if p == nil {
		return errAnswerTooLate
	}
	p.body <- body
	select {
	case err := <-p.written:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
