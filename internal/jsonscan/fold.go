package jsonscan

import (
	"unicode"
	"unicode/utf8"
)

// KeyEqualFold reports whether an object key, given raw (still escaped,
// without quotes) as it appears in the input, binds to a struct field
// named name when encoding/json decodes the object.
//
// encoding/json first looks for a field whose name equals the unquoted key
// exactly and otherwise compares case-folded forms: ASCII letters fold
// to upper case, and any other rune folds to the smallest rune of its
// Unicode simple-fold orbit, so "NAMES", "names" and "N\u0061mes" all bind
// to Names, and so do "\u212Aey" (KELVIN SIGN) for Key and "ſtate" (LATIN
// SMALL LETTER LONG S) for State. KeyEqualFold reports that fold equality,
// which is the binding whenever no two fields of the struct fold alike.
//
// A raw key that is not valid JSON string content matches nothing.
func KeyEqualFold(raw []byte, name string) bool {
	if len(raw) > 0 && len(name) > 0 {
		// Most keys differ in their first byte: when both first bytes
		// are ASCII and raw's is not an escape, they are the first runes.
		c, d := raw[0], name[0]
		if c != d && c != '\\' && c|d < utf8.RuneSelf && !asciiFoldEqual(c, d) {
			return false
		}
	}
	if len(raw) == len(name) {
		// Fast path: ASCII, no escapes, lengths equal.
		for i := 0; i < len(raw); i++ {
			c, d := raw[i], name[i]
			if c == '\\' || c|d >= utf8.RuneSelf {
				return slowKeyEqualFold(raw, name)
			}
			if isSpecial(c) {
				return false
			}
			if c != d && !asciiFoldEqual(c, d) {
				return false
			}
		}
		return true
	}
	if len(raw) < len(name) && isASCII(name) {
		return false // every character of name needs at least one raw byte
	}
	if len(raw) > len(name) && isASCII(name) && isASCIIPlain(raw) {
		return false
	}
	return slowKeyEqualFold(raw, name)
}

// asciiFoldEqual reports whether ASCII bytes c and d differ only in case.
func asciiFoldEqual(c, d byte) bool {
	lc := c | 0x20
	return lc == d|0x20 && 'a' <= lc && lc <= 'z'
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isASCIIPlain reports whether raw is ASCII with no backslash, so that it
// unquotes to itself, one byte per character.
func isASCIIPlain(raw []byte) bool {
	for _, c := range raw {
		if c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// slowKeyEqualFold unquotes raw (on the stack for keys up to 64 bytes) and
// compares folded runes.
func slowKeyEqualFold(raw []byte, name string) bool {
	var arr [64]byte
	key, err := AppendUnquote(arr[:0], raw)
	if err != nil {
		return false
	}
	for len(key) > 0 && len(name) > 0 {
		r, n := utf8.DecodeRune(key)
		s, m := utf8.DecodeRuneInString(name)
		if foldRune(r) != foldRune(s) {
			return false
		}
		key, name = key[n:], name[m:]
	}
	return len(key) == 0 && len(name) == 0
}

// foldRune maps r to the representative encoding/json compares: ASCII
// letters upper-cased, other runes the smallest rune of their simple-fold
// orbit (so U+212A KELVIN SIGN folds to 'K' and U+017F LONG S to 'S').
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		return r
	}
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}
