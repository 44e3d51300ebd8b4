package bot

import (
	"context"
	"sync"
	"time"

	"github.com/songbot-dev/songbot/storage"
)

// QueuePositions is what keeps queued replies' places in line current.
// storage.Redis and storage.Bolt implement it.
type QueuePositions interface {
	// Queue returns the queued jobs in order (limit 0: all).
	Queue(ctx context.Context, limit int) ([]storage.ActiveJob, error)
	// ClaimPositionEdit reports true to the one caller that should edit a
	// queued reply to show position.
	ClaimPositionEdit(ctx context.Context, now time.Time, id string, position int, every time.Duration) (bool, error)
}

// positionEditEvery is the least time between two edits of one queued
// reply's place in line: the "at most every 30 s per song", which
// keeps a queue of hundreds well inside each token's webhook rate limit.
const positionEditEvery = 30 * time.Second

// queueWatchEvery is how often the queue is read for places that
// changed: a third of positionEditEvery, so a change shows within about
// 40 s at worst while an idle queue costs one read of the store each time.
const queueWatchEvery = positionEditEvery / 3

// watchQueue keeps queued replies' places in line roughly current until
// ctx ends. Every process watches; the store's ClaimPositionEdit lets one
// of them edit each reply, only when its place changed and no more often
// than positionEditEvery.
func (b *Bot) watchQueue(ctx context.Context) {
	tick := time.NewTicker(queueWatchEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		b.updatePositions(ctx)
	}
}

// updatePositions edits every queued reply whose place changed, each in
// its own goroutine (each reply has its own webhook bucket, and the queue
// is bounded by MAX_QUEUED), and returns when all are done, so two rounds
// never overlap.
func (b *Bot) updatePositions(ctx context.Context) {
	jobs, err := b.positions.Queue(ctx, 0)
	if err != nil {
		b.log.Warn("cannot read the queue to update places in line; trying again shortly", "err", err)
		return
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		if j.Position == j.ShownPosition || !replyTo(b.discord, j.Job).live(b.now()) {
			continue
		}
		wg.Go(func() { b.track(func(wctx context.Context) { b.showPosition(wctx, j) }) })
	}
	wg.Wait()
}

// showPosition edits one queued reply to its current place, if this
// process is the one to do it.
func (b *Bot) showPosition(ctx context.Context, j storage.ActiveJob) {
	log := b.jobLog(j.Job)
	ok, err := b.positions.ClaimPositionEdit(ctx, b.now(), j.ID, j.Position, positionEditEvery)
	if err != nil {
		log.Warn("cannot record the place in line shown; not editing it now", "err", err)
		return
	}
	if !ok {
		return // edited recently, by this process or another, or it left the queue
	}
	tr := b.replyTexts(j.Job)
	replyTo(b.discord, j.Job).editWith(ctx, log, queuedText(tr, j.Prompt, j.Position), cancelComponents(tr, j.Job))
}
