package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"time"

	"go.etcd.io/bbolt"
)

var _ History = (*Bolt)(nil)

// History buckets; the layout is in history_record.go. They are created by
// the first write that needs them, so OpenBolt's bucket list stays the
// jobs' own, and reads treat a missing bucket as empty.
var (
	bucketSongs       = []byte("songs")        // ref -> JSON record
	bucketUserSongs   = []byte("user_songs")   // user id 0x00 created ms 0x00 ref -> empty
	bucketSongsExpiry = []byte("songs_expiry") // expires ms || ref -> empty
	bucketMeta        = []byte("meta")         // key -> value
)

// prunePerAdd bounds the expired songs one AddSong deletes, so its
// transaction stays short however long the bot was down; every add deletes
// more than it writes, so expired songs cannot pile up.
const prunePerAdd = 100

// historyTx holds the song buckets of one transaction; in a read
// transaction a bucket nobody wrote yet is nil.
type historyTx struct {
	songs, users, expiry *bbolt.Bucket
}

// historyUpdate runs fn in a write transaction through the group commit:
// songs finishing together are kept in one transaction and one fsync,
// with whatever else is being written then, not one each. fn may run
// more than once (see groupCommit).
func (b *Bolt) historyUpdate(fn func(h historyTx) error) error {
	return b.commits.do(func(tx *bbolt.Tx) error {
		var h historyTx
		for _, bk := range []struct {
			dst  **bbolt.Bucket
			name []byte
		}{{&h.songs, bucketSongs}, {&h.users, bucketUserSongs}, {&h.expiry, bucketSongsExpiry}} {
			var err error
			if *bk.dst, err = tx.CreateBucketIfNotExists(bk.name); err != nil {
				return err
			}
		}
		return fn(h)
	})
}

func (b *Bolt) historyView(fn func(h historyTx) error) error {
	return b.db.View(func(tx *bbolt.Tx) error {
		return fn(historyTx{tx.Bucket(bucketSongs), tx.Bucket(bucketUserSongs), tx.Bucket(bucketSongsExpiry)})
	})
}

// userSongsPrefix starts every user_songs key of userID.
func userSongsPrefix(userID string) []byte {
	return append([]byte(userID), 0)
}

// userSongKey sorts a user's songs by creation time, then by ref, as Redis
// sorts equal scores.
func userSongKey(userID string, created time.Time, ref string) []byte {
	k := userSongsPrefix(userID)
	k = binary.BigEndian.AppendUint64(k, uint64(dueMillis(created)))
	k = append(k, 0)
	return append(k, ref...)
}

// splitUserSongKey returns the creation time (unix ms) and ref of a key that
// starts with prefix; ok is false for a key of another shape.
func splitUserSongKey(prefix, k []byte) (ms int64, ref string, ok bool) {
	rest := k[len(prefix):]
	if len(rest) < 10 || rest[8] != 0 {
		return 0, "", false
	}
	return int64(binary.BigEndian.Uint64(rest)), string(rest[9:]), true
}

// song reads and decodes ref's record; found is false when there is none.
func (h historyTx) song(ref string) (song Song, expiresAt time.Time, found bool, err error) {
	if h.songs == nil {
		return Song{}, time.Time{}, false, nil
	}
	raw := h.songs.Get([]byte(ref))
	if raw == nil {
		return Song{}, time.Time{}, false, nil
	}
	f, err := parseFields(raw)
	if err != nil {
		return Song{}, time.Time{}, true, err
	}
	song, expiresAt, err = decodeSong(ref, f)
	return song, expiresAt, true, err
}

// expired reports whether a song that expires at expiresAt (zero: never) is
// gone at now, to the millisecond the record keeps.
func expired(expiresAt, now time.Time) bool {
	return !expiresAt.IsZero() && now.UnixMilli() >= expiresAt.UnixMilli()
}

// deleteSong removes ref's record and the index entries it names.
func (h historyTx) deleteSong(ref string, song Song, expiresAt time.Time) error {
	if err := h.users.Delete(userSongKey(song.UserID, song.CreatedAt, ref)); err != nil {
		return err
	}
	if !expiresAt.IsZero() {
		if err := h.expiry.Delete(dueKey(expiresAt.UnixMilli(), ref)); err != nil {
			return err
		}
	}
	return h.songs.Delete([]byte(ref))
}

// AddSong implements History in one write transaction, which also deletes
// expired songs and trims the user's list as Redis does.
func (b *Bolt) AddSong(ctx context.Context, song Song, ttl time.Duration) error {
	return b.addSong(ctx, time.Now(), song, ttl)
}

func (b *Bolt) addSong(ctx context.Context, now time.Time, song Song, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return wrapErr("add song", err)
	}
	if err := CheckSong(song); err != nil {
		return err
	}
	expiresAt := songExpiry(now, max(ttl, 0))
	raw, err := json.Marshal(pairsToMap(encodeSong(song, expiresAt)))
	if err != nil {
		return wrapErr("add song", err)
	}
	return wrapErr("add song", b.historyUpdate(func(h historyTx) error {
		old, oldExpiry, found, err := h.song(song.Ref)
		if found && err == nil {
			if err := h.deleteSong(song.Ref, old, oldExpiry); err != nil {
				return err
			}
		}
		// An old record too damaged to name its index entries is replaced;
		// reads skip entries that do not match the record they point to.
		if err := h.songs.Put([]byte(song.Ref), raw); err != nil {
			return err
		}
		if err := h.users.Put(userSongKey(song.UserID, song.CreatedAt, song.Ref), nil); err != nil {
			return err
		}
		if !expiresAt.IsZero() {
			if err := h.expiry.Put(dueKey(expiresAt.UnixMilli(), song.Ref), nil); err != nil {
				return err
			}
		}
		if err := h.pruneExpired(now); err != nil {
			return err
		}
		return h.trimUser(song.UserID, now, ttl)
	}))
}

// pruneExpired deletes up to prunePerAdd songs that expired by now, oldest
// expiry first.
func (h historyTx) pruneExpired(now time.Time) error {
	var keys [][]byte
	c := h.expiry.Cursor()
	for k, _ := c.First(); k != nil && len(keys) < prunePerAdd; k, _ = c.Next() {
		if len(k) >= 8 && int64(binary.BigEndian.Uint64(k)) > now.UnixMilli() {
			break
		}
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := h.expiry.Delete(k); err != nil {
			return err
		}
		if len(k) < 8 {
			continue
		}
		ref := string(k[8:])
		song, expiresAt, found, err := h.song(ref)
		if !found || err != nil || !expired(expiresAt, now) {
			continue // gone, too damaged to touch, or added again since
		}
		if err := h.deleteSong(ref, song, expiresAt); err != nil {
			return err
		}
	}
	return nil
}

// trimUser keeps in userID's list only the newest historyPerUser entries
// that point to an unexpired song of that user with that creation time and,
// when ttl is set, were created within ttl of now, like the Redis trim. A
// song dropped for the cap keeps its record until it expires.
func (h historyTx) trimUser(userID string, now time.Time, ttl time.Duration) error {
	prefix := userSongsPrefix(userID)
	var drop [][]byte
	kept := 0
	c := h.users.Cursor()
	for k := lastWithPrefix(c, prefix); k != nil; k, _ = c.Prev() {
		if !bytes.HasPrefix(k, prefix) {
			break
		}
		ms, ref, ok := splitUserSongKey(prefix, k)
		keep := ok && kept < historyPerUser && (ttl <= 0 || ms >= now.Add(-ttl).UnixMilli())
		if keep {
			song, expiresAt, found, err := h.song(ref)
			keep = found && err == nil && song.UserID == userID &&
				dueMillis(song.CreatedAt) == ms && !expired(expiresAt, now)
		}
		if keep {
			kept++
		} else {
			drop = append(drop, bytes.Clone(k))
		}
	}
	for _, k := range drop {
		if err := h.users.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// lastWithPrefix moves c to the last key that starts with prefix, which
// must not end in 0xff, and returns it, or nil when there is none.
func lastWithPrefix(c *bbolt.Cursor, prefix []byte) []byte {
	end := bytes.Clone(prefix)
	end[len(end)-1]++
	k, _ := c.Seek(end)
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, prefix) {
		return nil
	}
	return k
}

// Song implements History.
func (b *Bolt) Song(ctx context.Context, ref string) (Song, error) {
	return b.songAt(ctx, time.Now(), ref)
}

func (b *Bolt) songAt(ctx context.Context, now time.Time, ref string) (Song, error) {
	if err := ctx.Err(); err != nil {
		return Song{}, wrapErr("song", err)
	}
	var song Song
	err := b.historyView(func(h historyTx) error {
		s, expiresAt, found, err := h.song(ref)
		switch {
		case err != nil:
			return err
		case !found || expired(expiresAt, now):
			return errSongNotFound
		}
		song = s
		return nil
	})
	if err != nil {
		return Song{}, wrapErr("song", err)
	}
	return song, nil
}

// Songs implements History in one read transaction. Expired songs are left
// out and deleted by a later AddSong; records that cannot be decoded are
// logged and left out.
func (b *Bolt) Songs(ctx context.Context, userID string, limit int) ([]Song, error) {
	return b.songsAt(ctx, time.Now(), userID, limit)
}

func (b *Bolt) songsAt(ctx context.Context, now time.Time, userID string, limit int) ([]Song, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrapErr("songs", err)
	}
	if limit <= 0 || userID == "" {
		return nil, nil
	}
	type skipped struct {
		ref string
		err error
	}
	var songs []Song
	var bad []skipped
	err := b.historyView(func(h historyTx) error {
		songs, bad = nil, nil
		if h.users == nil {
			return nil
		}
		prefix := userSongsPrefix(userID)
		c := h.users.Cursor()
		for k := lastWithPrefix(c, prefix); k != nil && len(songs) < limit; k, _ = c.Prev() {
			if !bytes.HasPrefix(k, prefix) {
				break
			}
			ms, ref, ok := splitUserSongKey(prefix, k)
			if !ok {
				continue
			}
			song, expiresAt, found, err := h.song(ref)
			switch {
			case err != nil:
				bad = append(bad, skipped{ref, err})
			case found && !expired(expiresAt, now) &&
				song.UserID == userID && dueMillis(song.CreatedAt) == ms:
				songs = append(songs, song)
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrapErr("songs", err)
	}
	for _, s := range bad {
		b.log.ErrorContext(ctx, "storage: leaving an undecodable song out of a list", "ref", s.ref, "err", s.err)
	}
	return songs, nil
}

// Meta implements History.
func (b *Bolt) Meta(ctx context.Context, key string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", wrapErr("meta", err)
	}
	var v string
	err := b.db.View(func(tx *bbolt.Tx) error {
		if meta := tx.Bucket(bucketMeta); meta != nil {
			v = string(meta.Get([]byte(key)))
		}
		return nil
	})
	return v, wrapErr("meta", err)
}

// SetMeta implements History.
func (b *Bolt) SetMeta(ctx context.Context, key, value string) error {
	if err := ctx.Err(); err != nil {
		return wrapErr("set meta", err)
	}
	if key == "" {
		return errEmptyMetaKey
	}
	return wrapErr("set meta", b.db.Update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		return meta.Put([]byte(key), []byte(value))
	}))
}
