package testkit

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"testing"
)

// WritePNG encodes img as PNG into the file path.
func WritePNG(tb testing.TB, path string, img image.Image) {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// ReadPNG decodes the PNG file path.
func ReadPNG(tb testing.TB, path string) image.Image {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return img
}

// EmptyZlib is a valid zlib stream of no bytes: as the image data of
// HeaderPNG, a decoder believes the header and allocates the whole
// picture before it finds the data short.
var EmptyZlib = []byte{0x78, 0x9c, 0x03, 0x00}

// HeaderPNG returns a PNG whose header claims w×h 8-bit RGB pixels and
// whose one IDAT chunk holds idat: EmptyZlib for a decompression bomb,
// bytes that are not zlib for a file of which only the header reads.
func HeaderPNG(w, h uint32, idat []byte) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB, no interlace
	b := []byte("\x89PNG\r\n\x1a\n")
	b = PNGChunk(b, "IHDR", ihdr)
	b = PNGChunk(b, "IDAT", idat)
	return PNGChunk(b, "IEND", nil)
}

// PNGChunk appends one PNG chunk (length, type, data, CRC) to b.
func PNGChunk(b []byte, typ string, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// WriteJSON writes v as indented JSON into the file path.
func WriteJSON(tb testing.TB, path string, v any) {
	tb.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}
