package storage

import (
	"bytes"
	"encoding/binary"
	"time"
)

// seenPrunePerAdmit bounds how many expired seen markers one admission
// deletes: at least one more than it adds, so the buckets shrink back to
// SeenTTL's worth of ids, and few enough that no admission pays for a
// backlog at once.
const seenPrunePerAdmit = 4

// admitOnce is admit for an id seen for the first time: an id that holds a
// place, or was admitted within SeenTTL, is a second delivery of one
// interaction and gets Duplicate, with the pending job's verdict, and
// changes nothing. An admission remembers its id until SeenTTL after now.
func (t boltTx) admitOnce(now time.Time, job Job, l Limits, gs GuildSettings) (Admission, error) {
	g, id := t.gate, []byte(job.ID)
	nowMs := dueMillis(now)
	if t.jobs.Get(id) != nil {
		adm, err := t.admit(now, job, l, gs)
		adm.Duplicate = true
		return adm, err
	}
	if raw := g.seen.Get(id); len(raw) == 8 && int64(binary.BigEndian.Uint64(raw)) > nowMs {
		return Admission{Duplicate: true}, nil
	}
	adm, err := t.admit(now, job, l, gs)
	if err != nil || adm.Refused != "" {
		return adm, err
	}
	if err := g.pruneSeen(nowMs); err != nil {
		return Admission{}, err
	}
	return adm, g.markSeen(id, nowMs+SeenTTL.Milliseconds())
}

// markSeen remembers id until expiry (unix ms), replacing an older marker.
func (g gateTx) markSeen(id []byte, expiry int64) error {
	if old := g.seen.Get(id); len(old) == 8 {
		if err := g.seenExpiry.Delete(append(bytes.Clone(old), id...)); err != nil {
			return err
		}
	}
	at := binary.BigEndian.AppendUint64(nil, uint64(expiry))
	if err := g.seen.Put(id, at); err != nil {
		return err
	}
	return g.seenExpiry.Put(append(at, id...), nil)
}

// pruneSeen deletes up to seenPrunePerAdmit markers expired at nowMs,
// oldest first.
func (g gateTx) pruneSeen(nowMs int64) error {
	c := g.seenExpiry.Cursor()
	for range seenPrunePerAdmit {
		k, _ := c.First()
		if len(k) <= 8 || int64(binary.BigEndian.Uint64(k[:8])) > nowMs {
			return nil
		}
		k = bytes.Clone(k)
		if err := g.seenExpiry.Delete(k); err != nil {
			return err
		}
		if err := g.seen.Delete(k[8:]); err != nil {
			return err
		}
	}
	return nil
}
