// Package rewrite rewrites Docker Engine API responses so that a client sees
// only what the proxy allows, without re-encoding what it keeps.
//
// A proxy that decoded engine JSON into structs and encoded it again would
// drop fields its structs do not know, reorder maps and change number
// formatting: clients written against a newer API than the proxy would see
// a different engine. So the rewriters here work on the bytes, using
// internal/jsonscan to find value boundaries: kept list elements and every
// untouched byte go out exactly as the engine sent them.
//
// Because the decisions must match what a Go client would decode, member
// names are matched the way encoding/json binds them to struct fields
// (case-insensitively, duplicate keys resolved as encoding/json resolves
// them), and anything that is not the expected JSON shape is rejected with
// ErrMalformed rather than passed through.
package rewrite

import (
	"errors"
	"fmt"
)

// ErrMalformed reports an engine response that is not the JSON shape the
// rewriter expects; errors wrapping it mean the response must not be
// forwarded as is.
var ErrMalformed = errors.New("filter: malformed engine response")

// malformed returns an error wrapping ErrMalformed.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}
