package rewrite

// skipper follows a JSON object byte by byte (strings, escapes, nesting)
// without holding it, to find where it ends. It is how a record too large
// to hold (an event, a list element) is dropped as it streams past: it
// cannot be decided without being held, so it is never passed on. It does
// not validate: whatever it consumes is discarded.
type skipper struct {
	started, inString, escaped bool
	depth                      int
}

// feed consumes b up to the end of the object (just past its closing
// brace; whitespace before the opening one is consumed too) and reports
// how much it consumed and whether the object ended.
func (k *skipper) feed(b []byte) (int, bool) {
	for i, c := range b {
		switch {
		case k.inString:
			switch {
			case k.escaped:
				k.escaped = false
			case c == '\\':
				k.escaped = true
			case c == '"':
				k.inString = false
			}
		case c == '"':
			k.inString = true
		case c == '{' || c == '[':
			k.depth++
			k.started = true
		case c == '}' || c == ']':
			k.depth--
			if k.started && k.depth == 0 {
				return i + 1, true
			}
		}
	}
	return len(b), false
}
