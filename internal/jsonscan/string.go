package jsonscan

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// SWAR constants: a byte value repeated in all eight lanes of a uint64.
const (
	lanes01 = 0x0101010101010101
	lanes80 = 0x8080808080808080
)

// specialMask flags (in the high bit of each lane) the bytes of w that end
// a run of plain string content: '"', '\\' and control characters < 0x20.
// Borrows can only set flags above a lane that is itself special, so the
// lowest flag is exact.
func specialMask(w uint64) uint64 {
	q := w ^ ('"' * lanes01)
	s := w ^ ('\\' * lanes01)
	return (((w - 0x20*lanes01) &^ w) |
		((q - lanes01) &^ q) |
		((s - lanes01) &^ s)) & lanes80
}

// isSpecial is specialMask for one byte.
func isSpecial(c byte) bool { return c < 0x20 || c == '"' || c == '\\' }

// plainEnd returns the index of the first byte at or after j that is '"',
// '\\' or a control character, or len(b). It checks eight bytes at a time.
func plainEnd(b []byte, j int) int {
	for j+8 <= len(b) {
		if m := specialMask(binary.LittleEndian.Uint64(b[j:])); m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
		j += 8
	}
	for j < len(b) && !isSpecial(b[j]) {
		j++
	}
	return j
}

// plainASCIIEnd is plainEnd that also stops at bytes >= 0x80.
func plainASCIIEnd(b []byte, j int) int {
	for j+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[j:])
		if m := specialMask(w) | w&lanes80; m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
		j += 8
	}
	for j < len(b) && !isSpecial(b[j]) && b[j] < utf8.RuneSelf {
		j++
	}
	return j
}

// stringEnd returns the index just past the string starting at b[i] == '"'.
func stringEnd(b []byte, i int) (int, error) {
	j := i + 1
	for {
		j = plainEnd(b, j)
		if j >= len(b) {
			return j, ErrIncomplete
		}
		switch b[j] {
		case '"':
			return j + 1, nil
		case '\\':
			j++
			if j >= len(b) {
				return j, ErrIncomplete
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				j++
				for k := 0; k < 4; k, j = k+1, j+1 {
					if j >= len(b) {
						return j, ErrIncomplete
					}
					if hexVal(b[j]) < 0 {
						return j, syntaxErr(b, j, `in \u hexadecimal character escape`)
					}
				}
			default:
				return j, syntaxErr(b, j, "in string escape code")
			}
		default:
			return j, syntaxErr(b, j, "in string literal")
		}
	}
}

func hexVal(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// errBadString is what Unquote reports for contents no JSON string can have.
var errBadString = errors.New("jsonscan: invalid JSON string contents")

// Unquote decodes the contents of a JSON string token (the bytes between the
// quotes, still escaped) exactly as encoding/json does: escapes are decoded,
// a \u escape that is half of a surrogate pair without its other half becomes
// U+FFFD, and so does each byte of invalid UTF-8. Contents that would make
// the string invalid JSON (a raw '"' or control character, a bad escape)
// are an error.
func Unquote(raw []byte) (string, error) {
	if isPlainValid(raw) {
		return string(raw), nil
	}
	b, err := AppendUnquote(make([]byte, 0, len(raw)+utf8.UTFMax), raw)
	return string(b), err
}

// isPlainValid reports whether raw decodes to itself: no escapes, nothing
// invalid, valid UTF-8.
func isPlainValid(raw []byte) bool {
	return plainEnd(raw, 0) == len(raw) && utf8.Valid(raw)
}

// AppendUnquote is Unquote appending to dst, for callers that reuse a buffer.
// On error it returns dst unchanged.
func AppendUnquote(dst, raw []byte) ([]byte, error) {
	orig := len(dst)
	for i := 0; i < len(raw); {
		if j := plainASCIIEnd(raw, i); j > i {
			dst = append(dst, raw[i:j]...)
			i = j
			continue
		}
		c := raw[i]
		switch {
		case c == '\\':
			if i+1 >= len(raw) {
				return dst[:orig], errBadString
			}
			switch e := raw[i+1]; e {
			case '"', '\\', '/':
				dst = append(dst, e)
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := hex4(raw, i)
				if r < 0 {
					return dst[:orig], errBadString
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// A pair only if a second \u escape completes it;
					// otherwise this half alone becomes U+FFFD and the
					// next escape is decoded on its own.
					if dec := utf16.DecodeRune(r, hex4(raw, i)); dec != utf8.RuneError {
						dst = utf8.AppendRune(dst, dec)
						i += 6
						continue
					}
					r = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default:
				return dst[:orig], errBadString
			}
			i += 2
		case isSpecial(c):
			return dst[:orig], errBadString
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			dst = utf8.AppendRune(dst, r)
			i += size
		}
	}
	return dst, nil
}

// hex4 decodes the escape `\uXXXX` at raw[i:], or returns -1.
func hex4(raw []byte, i int) rune {
	if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range raw[i+2 : i+6] {
		v := hexVal(c)
		if v < 0 {
			return -1
		}
		r = r<<4 | v
	}
	return r
}
