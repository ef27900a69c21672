package filterarg

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
)

// Args is a parsed filters parameter: for each key, the set of its values
// with the boolean the client sent (always true in the legacy list form).
//
// It is the engine's own representation (the unexported fields of its
// filters.Args), so that nothing the engine can tell apart is merged here:
// a key mapped to nil (`{"k":null}`) or to an empty set (`{"k":[]}`) is
// present with no values, and a value mapped to false is kept. Read it
// through the methods; a nil Args is empty. Methods never modify the
// receiver, so an Args can be shared between goroutines.
type Args map[string]map[string]bool

// Error is returned by Parse for a parameter the engine rejects.
type Error struct {
	// Err is encoding/json's error for the map form, the one Engine 20.10
	// sends to the client verbatim (wording depends on the Go version).
	Err error
}

// Error returns the message of Engine 24 and later.
func (e *Error) Error() string { return "invalid filter" }

// Unwrap returns the encoding/json error.
func (e *Error) Unwrap() error { return e.Err }

// Parse decodes a filters parameter exactly as the engine's FromJSON does:
// it accepts what the engine accepts and returns the same keys and values,
// and rejects with an *Error what the engine rejects. See the package
// documentation for the details. The result is never nil.
func Parse(raw string) (Args, error) {
	if raw == "" {
		return Args{}, nil
	}
	data := []byte(raw)
	var m map[string]map[string]bool
	err := json.Unmarshal(data, &m)
	if err == nil {
		if m == nil { // the top-level value null
			return Args{}, nil
		}
		return Args(m), nil
	}
	var legacy map[string][]string
	if json.Unmarshal(data, &legacy) != nil {
		return nil, &Error{Err: err}
	}
	a := make(Args, len(legacy))
	for k, list := range legacy {
		set := make(map[string]bool, len(list))
		for _, v := range list {
			set[v] = true
		}
		a[k] = set
	}
	return a, nil
}

// Len returns the number of keys, counting keys without values.
func (a Args) Len() int { return len(a) }

// Keys returns the keys in sorted order.
func (a Args) Keys() []string {
	return slices.Sorted(maps.Keys(a))
}

// Contains reports whether key is present, even without values (the engine
// treats such a key as given: GetBoolOrDefault rejects it, Validate checks
// its name).
func (a Args) Contains(key string) bool {
	_, ok := a[key]
	return ok
}

// Get returns the values of key in sorted order, including values the
// client mapped to false, as the engine's Get and WalkValues do. It returns
// an empty, non-nil slice when key has no values.
func (a Args) Get(key string) []string {
	vals := make([]string, 0, len(a[key]))
	for v := range a[key] {
		vals = append(vals, v)
	}
	slices.Sort(vals)
	return vals
}

// With returns a copy of a in which key has exactly the given values (each
// mapped to true), e.g. to replace `before` refs by full container IDs.
// Without values, key is present with an empty set, like `{"key":[]}`.
func (a Args) With(key string, values ...string) Args {
	c := a.clone()
	set := make(map[string]bool, len(values))
	for _, v := range values {
		set[v] = true
	}
	c[key] = set
	return c
}

// Without returns a copy of a without the given keys.
func (a Args) Without(keys ...string) Args {
	c := a.clone()
	for _, k := range keys {
		delete(c, k)
	}
	return c
}

// Encode returns a in the map form, with keys sorted, which every engine
// version parses back to an equal Args: Parse(a.Encode()) equals a for any
// a returned by Parse. An empty Args encodes as "{}"; a caller may instead
// drop the parameter, which the engine treats the same. Strings that are not
// valid UTF-8 (only possible in keys or values a caller added) are encoded
// with U+FFFD in their place, as encoding/json does.
func (a Args) Encode() string {
	if len(a) == 0 {
		return "{}"
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// A map of string to map of string to bool always encodes.
	_ = enc.Encode(map[string]map[string]bool(a))
	return string(bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}))
}

// clone returns a deep copy of a, keeping nil value sets nil.
func (a Args) clone() Args {
	c := make(Args, len(a))
	for k, set := range a {
		c[k] = maps.Clone(set)
	}
	return c
}
