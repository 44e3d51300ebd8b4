package whisultest

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
)

// coverJPEG is a small real JPEG, so code that decodes or uploads covers
// sees a valid image.
var coverJPEG = makeJPEG()

// silentMP3 is a short real MP3: silent MPEG-1 Layer III frames.
var silentMP3 = makeMP3(20)

func makeJPEG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for y := range 32 {
		for x := range 32 {
			img.Set(x, y, color.RGBA{R: uint8(x * 8), G: uint8(y * 8), B: 128, A: 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 75}); err != nil {
		panic("whisultest: encoding cover: " + err.Error())
	}
	return b.Bytes()
}

// MP3 frame parameters: MPEG-1 Layer III, no CRC, 32 kbit/s, 44.1 kHz,
// mono. A frame is 144*bitrate/rate bytes (104, no padding) and holds 1152
// samples; all-zero side info and main data decode as silence.
const mp3FrameSize = 144 * 32000 / 44100

// mp3Header: sync, MPEG-1, Layer III, no CRC | 32 kbit/s, 44.1 kHz, no
// padding | mono, original.
var mp3Header = [4]byte{0xFF, 0xFB, 0x10, 0xC4}

func makeMP3(frames int) []byte {
	out := make([]byte, 0, frames*mp3FrameSize)
	for range frames {
		frame := make([]byte, mp3FrameSize)
		copy(frame, mp3Header[:])
		out = append(out, frame...)
	}
	return out
}
