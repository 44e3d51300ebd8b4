package storage

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// historyPerUser is how many songs a user's list keeps, newest first.
const historyPerUser = 100

// songRecordVersion is written in every song record's "v" field; like
// recordVersion for jobs, bump it when a field's meaning changes.
const songRecordVersion = 1

// Field names of a version 1 song record. v, user_id and prompt mean what
// they mean in a job record.
const (
	fieldTitle     = "title"
	fieldDuration  = "duration"
	fieldSongURL   = "song_url"
	fieldImageURL  = "image_url"
	fieldCreatedAt = "created_at"
	fieldExpiresAt = "expires_at" // unix ms; empty when the song never expires
)

// errSongNotFound says "song" where ErrNotFound would say "job", and still
// matches errors.Is(err, ErrNotFound).
var errSongNotFound = &notFoundError{what: "song"}

type notFoundError struct{ what string }

func (e *notFoundError) Error() string        { return "storage: " + e.what + " not found" }
func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }

var errEmptyMetaKey = errors.New("storage: set meta: empty key")

// encodeSong returns song's fields as name, value pairs, version first. The
// Ref is the record's key. expiresAt is zero for a song that never expires.
func encodeSong(song Song, expiresAt time.Time) []string {
	return []string{
		fieldVersion, strconv.Itoa(songRecordVersion),
		fieldUserID, song.UserID,
		fieldPrompt, song.Prompt,
		fieldTitle, song.Title,
		fieldDuration, song.Duration,
		fieldSongURL, song.SongURL,
		fieldImageURL, song.ImageURL,
		fieldCreatedAt, formatTime(song.CreatedAt),
		fieldExpiresAt, formatTime(expiresAt),
	}
}

// decodeSong builds the song stored under ref and returns when it expires
// (zero for never). Errors wrap ErrCorrupt and name the field, never its
// value.
func decodeSong(ref string, f map[string]string) (Song, time.Time, error) {
	if len(f) == 0 {
		return Song{}, time.Time{}, fmt.Errorf("%w: empty song record", ErrCorrupt)
	}
	if err := checkVersion(f, songRecordVersion); err != nil {
		return Song{}, time.Time{}, err
	}
	song := Song{
		Ref:      ref,
		UserID:   f[fieldUserID],
		Prompt:   f[fieldPrompt],
		Title:    f[fieldTitle],
		Duration: f[fieldDuration],
		SongURL:  f[fieldSongURL],
		ImageURL: f[fieldImageURL],
	}
	var err error
	if song.CreatedAt, err = parseTime(f, fieldCreatedAt); err != nil {
		return Song{}, time.Time{}, err
	}
	expiresAt, err := parseTime(f, fieldExpiresAt)
	if err != nil {
		return Song{}, time.Time{}, err
	}
	return song, expiresAt, nil
}

// CheckSong rejects songs that could not be found again: AddSong of every
// store, the memory fake's included, calls it first.
func CheckSong(song Song) error {
	switch {
	case song.Ref == "":
		return errors.New("storage: add song: empty ref")
	case song.UserID == "":
		return errors.New("storage: add song: empty user ID")
	case strings.ContainsRune(song.UserID, 0):
		// Bolt's user_songs keys end the user ID with a zero byte.
		return errors.New("storage: add song: user ID contains a zero byte")
	}
	return nil
}

// songExpiry is when a song added at now with ttl expires; zero for never.
func songExpiry(now time.Time, ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return now.Add(ttl)
}
