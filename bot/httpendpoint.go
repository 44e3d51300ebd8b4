package bot

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
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot/i18n"
)

// Limits of Discord's interactions endpoint, as the bot applies them.
const (
	// maxInteractionBody is the largest request body read: an interaction
	// is a few kilobytes; anything near a mebibyte is not Discord.
	maxInteractionBody = 1 << 20
	// maxSignatureAge refuses a signed request replayed later: Discord
	// sends each at once, so a timestamp further than this from now (either
	// way, for clock skew) is a replay.
	maxSignatureAge = 5 * time.Minute
	// answerWithin is how long a request waits for its handler's first
	// response: Discord drops an interaction not answered within 3 s, so
	// a later answer would be written for no one.
	answerWithin = 3 * time.Second
)

// errAnswerTooLate is what a handler's first response gets when the HTTP
// request it answers was already given up (answerWithin passed).
var errAnswerTooLate = errors.New("discord: the interaction's HTTP request was already answered (too late)")

// interactionsHandler serves Discord's interactions endpoint: POST
// /interactions, verified before anything else; other paths get 404 and
// other methods 405.
func (b *Bot) interactionsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /interactions", b.serveInteraction)
	return mux
}

// serveInteraction answers one interaction. PING is answered PONG here;
// anything else runs the handler the gateway would run, whose first
// response becomes this request's response body, while the rest of its
// work (Whisul, edits) goes on after the response is sent.
func (b *Bot) serveInteraction(w http.ResponseWriter, r *http.Request) {
	body, status := verifyRequest(r, b.opts.PublicKey, b.now())
	if status != http.StatusOK {
		if status == http.StatusUnauthorized {
			b.log.Debug("refused an interaction request: bad or missing signature, or a stale timestamp", "remote", r.RemoteAddr)
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	in, err := b.decodeInteraction(body)
	if err != nil {
		b.log.Warn("signed interaction request that cannot be decoded", "err", err)
		http.Error(w, "cannot decode the interaction", http.StatusBadRequest)
		return
	}
	if in.Type == discordgo.InteractionPing {
		writeInteractionResponse(w, []byte(`{"type":1}`))
		return
	}
	handle := b.handlers.route(in)
	if handle == nil {
		b.log.Info("interaction the bot does not handle", "type", in.Type, "interaction_id", in.ID)
		handle = b.unknownInteraction
	}
	p := b.responder.expect(in.Interaction)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.track(func(ctx context.Context) { handle(ctx, in) })
	}()
	timer := time.NewTimer(answerWithin)
	defer timer.Stop()
	select {
	case resp := <-p.body:
		p.written <- writeInteractionResponse(w, resp)
		return
	case <-done:
	case <-timer.C:
	}
	if !b.responder.giveUp(p) {
		// The handler's response is on its way: it took p first.
		p.written <- writeInteractionResponse(w, <-p.body)
		return
	}
	if b.stopping() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	b.log.Error("interaction not answered within 3s; the user sees 'did not respond' (is the store slow?)", "interaction_id", in.ID)
	http.Error(w, "not answered in time", http.StatusServiceUnavailable)
}

// unknownInteraction answers an interaction no handler takes (a command
// removed since, a button of an older version) so the user is not left
// with "did not respond".
func (b *Bot) unknownInteraction(ctx context.Context, in incoming) {
	b.respondEphemeral(ctx, b.log, in.Interaction, b.userTexts(in.Interaction).Text(i18n.UnknownInteraction))
}

// decodeInteraction reads a verified request body as an interaction.
func (b *Bot) decodeInteraction(body []byte) (incoming, error) {
	var i discordgo.Interaction
	if err := json.Unmarshal(body, &i); err != nil {
		return incoming{}, fmt.Errorf("bot: decode interaction: %w", err)
	}
	if i.Type == discordgo.InteractionPing {
		return incoming{Interaction: &i}, nil
	}
	in, problem := decodeIncoming(&discordgo.InteractionCreate{Interaction: &i}, body)
	if problem != "" {
		return incoming{}, errors.New("bot: decode interaction: " + problem)
	}
	return in, nil
}

// writeInteractionResponse writes a first response as the HTTP response
// and flushes it, so the error says whether it left.
func writeInteractionResponse(w http.ResponseWriter, body []byte) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("discord: write the interaction response: %w", err)
	}
	if err := http.NewResponseController(w).Flush(); err != nil {
		return fmt.Errorf("discord: send the interaction response: %w", err)
	}
	return nil
}

// verifyRequest checks a request to the interactions endpoint as Discord
// requires: the Ed25519 signature in X-Signature-Ed25519 over
// X-Signature-Timestamp followed by the body, with the application's public
// key, and a timestamp within maxSignatureAge of now, so a captured request
// cannot be replayed. It returns the body and 200, or the status to answer:
// 413 for a body over maxInteractionBody, 401 for everything else. It reads
// the body itself, through a limit, rather than with discordgo's
// VerifyInteraction, which reads any size and does not check the time.
func verifyRequest(r *http.Request, key ed25519.PublicKey, now time.Time) ([]byte, int) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxInteractionBody+1))
	if err != nil {
		return nil, http.StatusBadRequest
	}
	if len(body) > maxInteractionBody {
		return nil, http.StatusRequestEntityTooLarge
	}
	if !validSignature(key, r.Header.Get("X-Signature-Ed25519"), r.Header.Get("X-Signature-Timestamp"), body, now) {
		return nil, http.StatusUnauthorized
	}
	return body, http.StatusOK
}

// validSignature reports whether sig (hex) signs timestamp+body with key
// and timestamp (unix seconds) is recent.
func validSignature(key ed25519.PublicKey, sig, timestamp string, body []byte, now time.Time) bool {
	if len(key) != ed25519.PublicKeySize || timestamp == "" {
		return false
	}
	raw, err := hex.DecodeString(sig)
	if err != nil || len(raw) != ed25519.SignatureSize {
		return false
	}
	var msg bytes.Buffer
	msg.Grow(len(timestamp) + len(body))
	msg.WriteString(timestamp)
	msg.Write(body)
	if !ed25519.Verify(key, msg.Bytes(), raw) {
		return false
	}
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	age := now.Sub(time.Unix(secs, 0))
	return age <= maxSignatureAge && age >= -maxSignatureAge
}
