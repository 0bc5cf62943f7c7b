package pum

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDumpSize bounds a saved dump: a status of a few thousand requests is well under 16 MiB.
const MaxDumpSize = 16 << 20

// ReadDump reads a saved `kubectl exec deploy/pum -- status` dump (a file a customer sent, or
// stdin) and parses it with Parse, like the live command: CRLF line ends, a missing last newline,
// a prompt line before or after the dump are accepted. A byte-order mark is dropped, and UTF-16
// (what Windows PowerShell writes with `>`) is decoded. name is used in error messages.
func ReadDump(r io.Reader, name string) (*Status, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxDumpSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(data) > MaxDumpSize {
		return nil, fmt.Errorf("%s is larger than %d MiB: not a post-upgrade status dump", name, MaxDumpSize>>20)
	}
	text, err := decodeText(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	st, err := Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return st, nil
}

func decodeText(data []byte) (string, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return utf16Text(data[2:], binary.LittleEndian), nil
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return utf16Text(data[2:], binary.BigEndian), nil
	}
	if !utf8.Valid(data) {
		return "", fmt.Errorf("the file is not UTF-8 text (a binary file, or an encoding other than UTF-8 and UTF-16)")
	}
	return string(data), nil
}

func utf16Text(b []byte, order binary.ByteOrder) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = order.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}
