package jsonscan

// Kind is the type of a JSON value, as told by its first byte.
type Kind uint8

// The kinds of JSON values. Invalid is any byte that cannot start a value.
const (
	Invalid Kind = iota
	Null
	Bool
	Number
	String
	Array
	Object
)

// KindOf returns the kind of the value whose first byte is c. It looks at
// that byte only: the value still has to be scanned to be known valid.
func KindOf(c byte) Kind {
	switch c {
	case 'n':
		return Null
	case 't', 'f':
		return Bool
	case '"':
		return String
	case '[':
		return Array
	case '{':
		return Object
	}
	if c == '-' || isDigit(c) {
		return Number
	}
	return Invalid
}

// ObjectMembers walks the object that starts at b[i] (after any whitespace),
// calling fn for each member in order with the member's raw key (still
// escaped, without quotes, aliasing b) and the offsets in b of its value.
// Each value is fully scanned before fn sees it; fn returning an error stops
// the walk and ObjectMembers returns that error.
//
// depth is how many arrays or objects already enclose the object (0 for a
// top-level value); it only matters for the MaxDepth limit. ObjectMembers
// returns the offset just past the closing '}'. With ErrIncomplete, fn may
// already have been called for the members that were complete: a caller
// that reads more input and retries must discard what fn collected.
func ObjectMembers(b []byte, i, depth int, fn func(key []byte, valStart, valEnd int) error) (end int, err error) {
	i, err = openContainer(b, i, depth, '{')
	if err != nil {
		return i, err
	}
	if b[i] == '}' {
		return i + 1, nil
	}
	for {
		var key []byte
		if key, i, err = memberKey(b, i); err != nil {
			return i, err
		}
		start := i
		if i, err = valueEnd(b, i, depth+1, false); err != nil {
			return i, err
		}
		if err = fn(key, start, i); err != nil {
			return i, err
		}
		var done bool
		if i, done, err = nextMember(b, i, '}'); err != nil || done {
			return i, err
		}
	}
}

// ArrayElems walks the array that starts at b[i] (after any whitespace),
// calling fn with the offsets in b of each element, in order. It is the
// array counterpart of ObjectMembers, with the same contract.
func ArrayElems(b []byte, i, depth int, fn func(valStart, valEnd int) error) (end int, err error) {
	i, err = openContainer(b, i, depth, '[')
	if err != nil {
		return i, err
	}
	if b[i] == ']' {
		return i + 1, nil
	}
	for {
		start := i
		if i, err = valueEnd(b, i, depth+1, false); err != nil {
			return i, err
		}
		if err = fn(start, i); err != nil {
			return i, err
		}
		var done bool
		if i, done, err = nextMember(b, i, ']'); err != nil || done {
			return i, err
		}
	}
}

// openContainer checks for the opening byte open at b[i] (after whitespace)
// and returns the index of the first non-whitespace byte inside, which is
// guaranteed to exist.
func openContainer(b []byte, i, depth int, open byte) (int, error) {
	if i < 0 || i > len(b) {
		return i, &SyntaxError{Offset: i, Msg: "offset out of range"}
	}
	i = SkipSpace(b, i)
	if i >= len(b) {
		return i, ErrIncomplete
	}
	if b[i] != open {
		what := "looking for beginning of object"
		if open == '[' {
			what = "looking for beginning of array"
		}
		return i, syntaxErr(b, i, what)
	}
	if depth >= MaxDepth {
		return i, &SyntaxError{Offset: i, Msg: "exceeded max depth"}
	}
	i = SkipSpace(b, i+1)
	if i >= len(b) {
		return i, ErrIncomplete
	}
	return i, nil
}

// nextMember consumes the ',' or closing byte after a member or element at
// b[i]. After a ',' it returns the index of the next member (whitespace
// skipped); after the closing byte it returns the index just past it and
// done.
func nextMember(b []byte, i int, closing byte) (next int, done bool, err error) {
	i = SkipSpace(b, i)
	if i >= len(b) {
		return i, false, ErrIncomplete
	}
	switch b[i] {
	case closing:
		return i + 1, true, nil
	case ',':
		return SkipSpace(b, i+1), false, nil
	}
	if closing == '}' {
		return i, false, syntaxErr(b, i, "after object key:value pair")
	}
	return i, false, syntaxErr(b, i, "after array element")
}

// ObjectEach calls fn for each member of the object that b holds, as
// ObjectMembers does. b must be exactly one complete object, optionally
// surrounded by whitespace; anything after it is a *SyntaxError, and
// ErrIncomplete means b was truncated.
func ObjectEach(b []byte, fn func(key []byte, valStart, valEnd int) error) error {
	end, err := ObjectMembers(b, 0, 0, fn)
	return onlySpaceAfter(b, end, err)
}

// ArrayEach calls fn for each element of the array that b holds, as
// ArrayElems does, with the same requirements on b as ObjectEach.
func ArrayEach(b []byte, fn func(valStart, valEnd int) error) error {
	end, err := ArrayElems(b, 0, 0, fn)
	return onlySpaceAfter(b, end, err)
}

func onlySpaceAfter(b []byte, end int, err error) error {
	if err != nil {
		return err
	}
	if i := SkipSpace(b, end); i < len(b) {
		return syntaxErr(b, i, "after top-level value")
	}
	return nil
}
