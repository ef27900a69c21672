package bodyref

import (
	"bytes"
	"encoding/json"
)

// Error reports a body that every engine version rejects while decoding it,
// before acting on it. Its message is that of current engines' container
// create ("invalid JSON: EOF" for an empty body); older engines and other
// routes word it differently, so a proxy wanting the engine's exact answer
// should forward the body and let the engine reply.
type Error struct {
	// Err is the encoding/json error (io.EOF for an empty or blank body).
	Err error
}

func (e *Error) Error() string { return "invalid JSON: " + e.Err.Error() }

// Unwrap returns the encoding/json error.
func (e *Error) Unwrap() error { return e.Err }

// decodeFirst decodes the first JSON value of body into v with a
// json.Decoder, as every engine does, and reports whether the engine's
// dec.More() check would see content after it.
func decodeFirst(body []byte, v any) (trailing bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return false, &Error{Err: err}
	}
	return dec.More(), nil
}

// lenientString decodes like a string field but never fails; it records a
// type mismatch instead. It holds the top-level HostConfig fields of a create
// body: Engines up to 26 decode them strictly, so a mismatch makes them
// reject the whole body, and newer engines ignore these keys, so no engine
// acts on the top-level fields of a body with a mismatch in one of them,
// while failing would reject a body newer engines accept. Repeated keys
// decode into the same value, as encoding/json does for a plain field.
type lenientString struct {
	value      string
	mismatched bool
}

func (s *lenientString) UnmarshalJSON(b []byte) error {
	if json.Unmarshal(b, &s.value) != nil {
		s.mismatched = true
	}
	return nil
}

// lenientStrings is the []string counterpart of lenientString.
type lenientStrings struct {
	value      []string
	mismatched bool
}

func (s *lenientStrings) UnmarshalJSON(b []byte) error {
	if json.Unmarshal(b, &s.value) != nil {
		s.mismatched = true
	}
	return nil
}
