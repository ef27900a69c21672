package rewrite

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func redactSecret(s string) string { return strings.ReplaceAll(s, "secret-db", "(hidden)") }

func TestErrorMessagesRedactsErrorsOnly(t *testing.T) {
	in := `{"status":"Pulling from library/x","id":"secret-db"}` + "\r\n" +
		`{"stream":"Step 1/2 : secret-db\n"}` + "\r\n" +
		`{"errorDetail":{"message":"conflict with secret-db"},"error":"conflict with secret-db"}` + "\r\n" +
		`{"StatusCode":1,"Error":{"Message":"container secret-db: gone"}}` + "\n" +
		`{"ERROR":"secret-db again","error":null}` + "\n"
	want := `{"status":"Pulling from library/x","id":"secret-db"}` + "\r\n" +
		`{"stream":"Step 1/2 : secret-db\n"}` + "\r\n" +
		`{"errorDetail":{"message":"conflict with (hidden)"},"error":"conflict with (hidden)"}` + "\r\n" +
		`{"StatusCode":1,"Error":{"Message":"container (hidden): gone"}}` + "\n" +
		`{"ERROR":"(hidden) again","error":null}` + "\n"
	for name, r := range map[string]io.Reader{
		"whole":     strings.NewReader(in),
		"byte wise": iotest.OneByteReader(strings.NewReader(in)),
	} {
		var out bytes.Buffer
		flushes := 0
		if err := ErrorMessages(&out, r, redactSecret, func() { flushes++ }); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if out.String() != want {
			t.Errorf("%s: got\n%s\nwant\n%s", name, out.String(), want)
		}
		if flushes != 5 {
			t.Errorf("%s: %d flushes, want one per message (5)", name, flushes)
		}
	}
}

func TestErrorMessagesFailsClosed(t *testing.T) {
	var out bytes.Buffer
	err := ErrorMessages(&out, strings.NewReader(`{"a":1}`+"\n"+`Error: secret-db`), redactSecret, nil)
	if !errors.Is(err, ErrMalformed) || strings.Contains(out.String(), "secret") {
		t.Errorf("non-JSON content = %v, wrote %q; want ErrMalformed and nothing of it", err, out.String())
	}
	err = ErrorMessages(io.Discard, strings.NewReader(`{"stream":"`+strings.Repeat("x", MaxMessage+1)), redactSecret, nil)
	if !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("oversized message = %v, want ErrMessageTooLarge", err)
	}
}
