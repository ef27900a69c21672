package jsonscan

// SkipSpace returns the index of the first byte at or after i that is not
// JSON whitespace (space, tab, line feed, carriage return), or len(b).
// An i outside [0, len(b)] is returned unchanged.
func SkipSpace(b []byte, i int) int {
	for uint(i) < uint(len(b)) {
		c := b[i]
		if c > ' ' || (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			return i
		}
		i++
	}
	return i
}

// ValueEnd returns the offset just past the JSON value that starts at b[i],
// after skipping any whitespace at i. It does not consume whitespace after
// the value.
//
// ValueEnd treats b as a prefix of a longer input: a number that runs to the
// very end of b (such as "12") reports ErrIncomplete, because more digits may
// follow. Use ValueEndFinal when b is the whole input.
//
// On error, end is where scanning stopped: len(b) with ErrIncomplete, the
// offending byte's index with a *SyntaxError.
func ValueEnd(b []byte, i int) (end int, err error) {
	return valueEnd(b, i, 0, false)
}

// ValueEndFinal is ValueEnd for input known to end at len(b): a number
// running to the end of b is complete. It still reports ErrIncomplete for
// input that ends inside a value ("tru", "[1,", `"abc`), which for final
// input means it was truncated.
func ValueEndFinal(b []byte, i int) (end int, err error) {
	return valueEnd(b, i, 0, true)
}

// Valid reports whether b is exactly one JSON value, optionally surrounded
// by whitespace; it agrees with encoding/json's json.Valid.
func Valid(b []byte) bool {
	end, err := valueEnd(b, 0, 0, true)
	return err == nil && SkipSpace(b, end) == len(b)
}

// valueEnd is ValueEnd for a value nested inside depth open arrays or
// objects (for the MaxDepth limit); final says b is the whole input.
func valueEnd(b []byte, i, depth int, final bool) (int, error) {
	if i < 0 || i > len(b) {
		return i, &SyntaxError{Offset: i, Msg: "offset out of range"}
	}
	i = SkipSpace(b, i)
	if i >= len(b) {
		return i, ErrIncomplete
	}
	switch c := b[i]; c {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		return containerEnd(b, i, depth)
	case 't':
		return literalEnd(b, i, "true")
	case 'f':
		return literalEnd(b, i, "false")
	case 'n':
		return literalEnd(b, i, "null")
	default:
		if c != '-' && !isDigit(c) {
			return i, syntaxErr(b, i, "looking for beginning of value")
		}
		end, err := numberEnd(b, i)
		if err == nil && end == len(b) && !final {
			return end, ErrIncomplete
		}
		return end, err
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// literalEnd checks that b[i:] starts with lit (b[i] == lit[0] already).
func literalEnd(b []byte, i int, lit string) (int, error) {
	for k := 1; k < len(lit); k++ {
		j := i + k
		if j >= len(b) {
			return j, ErrIncomplete
		}
		if b[j] != lit[k] {
			return j, syntaxErr(b, j, "in literal "+lit+" (expecting "+quoteChar(lit[k])+")")
		}
	}
	return i + len(lit), nil
}

// numberEnd scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? from b[i].
// A number that reaches len(b) is returned as complete; the caller decides
// whether more digits could follow. It reports ErrIncomplete only where the
// grammar still needs a digit ("-", "1.", "1e", "1e+").
func numberEnd(b []byte, i int) (int, error) {
	j := i
	if b[j] == '-' {
		j++
		if j >= len(b) {
			return j, ErrIncomplete
		}
	}
	switch c := b[j]; {
	case c == '0':
		j++
	case '1' <= c && c <= '9':
		j++
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	default:
		return j, syntaxErr(b, j, "in numeric literal")
	}
	if j >= len(b) {
		return j, nil
	}
	if b[j] == '.' {
		j++
		if j >= len(b) {
			return j, ErrIncomplete
		}
		if !isDigit(b[j]) {
			return j, syntaxErr(b, j, "after decimal point in numeric literal")
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if j >= len(b) {
			return j, nil
		}
	}
	if b[j] == 'e' || b[j] == 'E' {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j >= len(b) {
			return j, ErrIncomplete
		}
		if !isDigit(b[j]) {
			return j, syntaxErr(b, j, "in exponent of numeric literal")
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	return j, nil
}

// containerEnd scans the array or object starting at b[i] (b[i] is '[' or
// '{'), nested inside depth already open containers. It is iterative, with a
// bit stack (1 = object) that lives on the goroutine stack up to 128 levels
// and only allocates for deeper input.
func containerEnd(b []byte, i, depth int) (int, error) {
	var small [2]uint64
	stack := small[:]
	n := 0 // containers opened by this call and not yet closed
	var err error
next:
	for {
		// i is at the first byte of a value, whitespace already skipped.
		if i >= len(b) {
			return i, ErrIncomplete
		}
		switch c := b[i]; c {
		case '{', '[':
			if depth+n >= MaxDepth {
				return i, &SyntaxError{Offset: i, Msg: "exceeded max depth"}
			}
			w, bit := n>>6, uint64(1)<<(uint(n)&63)
			if w == len(stack) {
				stack = append(stack, 0)
			}
			if c == '{' {
				stack[w] |= bit
			} else {
				stack[w] &^= bit
			}
			n++
			i = SkipSpace(b, i+1)
			if i >= len(b) {
				return i, ErrIncomplete
			}
			if b[i] == c+2 { // '{'+2 == '}', '['+2 == ']'
				i++
				n--
				break
			}
			if c == '{' {
				if i, err = memberValueStart(b, i); err != nil {
					return i, err
				}
			}
			continue next
		case '"':
			if i, err = stringEnd(b, i); err != nil {
				return i, err
			}
		case 't':
			if i, err = literalEnd(b, i, "true"); err != nil {
				return i, err
			}
		case 'f':
			if i, err = literalEnd(b, i, "false"); err != nil {
				return i, err
			}
		case 'n':
			if i, err = literalEnd(b, i, "null"); err != nil {
				return i, err
			}
		default:
			if c != '-' && !isDigit(c) {
				return i, syntaxErr(b, i, "looking for beginning of value")
			}
			// A number touching len(b) is fine here: the enclosing
			// container is still open, so the loop below reports
			// ErrIncomplete.
			if i, err = numberEnd(b, i); err != nil {
				return i, err
			}
		}
		// After a value: close containers until one continues with ','.
		for n > 0 {
			i = SkipSpace(b, i)
			if i >= len(b) {
				return i, ErrIncomplete
			}
			top := n - 1
			inObject := stack[top>>6]&(uint64(1)<<(uint(top)&63)) != 0
			switch c := b[i]; {
			case c == ',':
				i = SkipSpace(b, i+1)
				if inObject {
					if i, err = memberValueStart(b, i); err != nil {
						return i, err
					}
				}
				continue next
			case inObject && c == '}', !inObject && c == ']':
				i++
				n--
			case inObject:
				return i, syntaxErr(b, i, "after object key:value pair")
			default:
				return i, syntaxErr(b, i, "after array element")
			}
		}
		return i, nil
	}
}

// memberValueStart scans an object member's key and colon from b[i] and
// returns the index of the member's value (whitespace skipped).
func memberValueStart(b []byte, i int) (int, error) {
	_, i, err := memberKey(b, i)
	return i, err
}

// memberKey scans `"key" :` from b[i] and returns the key's raw contents
// and the index of the member's value (whitespace skipped).
func memberKey(b []byte, i int) (key []byte, valStart int, err error) {
	if i >= len(b) {
		return nil, i, ErrIncomplete
	}
	if b[i] != '"' {
		return nil, i, syntaxErr(b, i, "looking for beginning of object key string")
	}
	end, err := stringEnd(b, i)
	if err != nil {
		return nil, end, err
	}
	key = b[i+1 : end-1]
	j := SkipSpace(b, end)
	if j >= len(b) {
		return nil, j, ErrIncomplete
	}
	if b[j] != ':' {
		return nil, j, syntaxErr(b, j, "after object key")
	}
	return key, SkipSpace(b, j+1), nil
}
