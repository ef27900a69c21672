// Package jsonscan finds the boundaries of JSON values in a byte slice without
// decoding or allocating.
//
// The proxy filters Docker Engine API responses byte-faithfully: a kept list
// element or an untouched field must reach the client exactly as the engine
// wrote it, so re-encoding through Go structs (which drops unknown fields and
// reorders maps) is not an option. What the filters need instead is to know
// where each value starts and ends, to validate it strictly enough that
// nothing a Go client would reject is ever forwarded, and to be fast, because
// every list response goes through it.
//
// The scanner accepts exactly what encoding/json's json.Valid accepts:
// RFC 8259 grammar, strings without raw control characters and with valid
// escapes, invalid UTF-8 inside strings tolerated (as json.Valid does), and
// at most MaxDepth levels of nesting (the limit encoding/json enforces).
//
// Errors come in two kinds so that a streaming caller can tell "read more"
// from "give up": ErrIncomplete means the input ended inside a value that
// could still become valid, and *SyntaxError means no continuation can make
// the bytes valid.
package jsonscan

import (
	"errors"
	"strconv"
)

// MaxDepth is the deepest nesting of arrays and objects accepted, the same
// limit encoding/json applies (10000 nested values are valid, 10001 are not).
const MaxDepth = 10000

// ErrIncomplete reports that the input ended before the value did: the bytes
// seen so far are a valid prefix, and a caller streaming input may read more
// and scan again from the value's start.
var ErrIncomplete = errors.New("jsonscan: unexpected end of JSON input")

// SyntaxError reports bytes that no continuation can make valid JSON.
type SyntaxError struct {
	Offset int    // index in the scanned slice of the offending byte
	Msg    string // what was wrong, in encoding/json's wording where it has one
}

func (e *SyntaxError) Error() string {
	return "jsonscan: " + e.Msg + " at offset " + strconv.Itoa(e.Offset)
}

// syntaxErr builds the *SyntaxError for the byte b[i], described the way
// encoding/json does ("invalid character 'x' in literal true").
func syntaxErr(b []byte, i int, context string) error {
	return &SyntaxError{Offset: i, Msg: "invalid character " + quoteChar(b[i]) + " " + context}
}

// quoteChar formats c for an error message.
func quoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	if c >= 0x80 {
		s = strconv.Quote(string([]byte{c}))
	}
	return "'" + s[1:len(s)-1] + "'"
}
