package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestUnquote(t *testing.T) {
	tests := []struct {
		raw     string
		want    string
		wantErr bool
	}{
		{raw: ``, want: ``},
		{raw: `/web-a`, want: `/web-a`},
		{raw: `\/web`, want: `/web`},
		{raw: `a\"b\\c\/d`, want: `a"b\c/d`},
		{raw: `\b\f\n\r\t`, want: "\b\f\n\r\t"},
		{raw: `caf\u00e9 \u00E9`, want: "café é"},
		{raw: `\u0000`, want: "\x00"},
		{raw: `\uD83D\uDE00`, want: "😀"},
		{raw: `\uD83D`, want: "\uFFFD"},              // lone high surrogate
		{raw: `\uDE00`, want: "\uFFFD"},              // lone low surrogate
		{raw: `\uDE00\uD83D`, want: "\uFFFD\uFFFD"},  // reversed pair
		{raw: `\uD83Dx`, want: "\uFFFDx"},            // high surrogate then text
		{raw: `\uD83D\u0041`, want: "\uFFFDA"},       // second escape kept
		{raw: `\uD83D\uD83D\uDE00`, want: "\uFFFD😀"}, // pair after a lone half
		{raw: "\xff", want: "\uFFFD"},
		{raw: "a\xed\xa0\x80b", want: "a\uFFFD\uFFFD\uFFFDb"}, // UTF-8 encoded surrogate
		{raw: "caf\xc3", want: "caf\uFFFD"},
		{raw: "日本語", want: "日本語"},
		{raw: `\'`, wantErr: true},
		{raw: `\x41`, wantErr: true},
		{raw: `\`, wantErr: true},
		{raw: `ab\`, wantErr: true},
		{raw: `\u12`, wantErr: true},
		{raw: `\u12g4`, wantErr: true},
		{raw: `a"b`, wantErr: true},
		{raw: "a\nb", wantErr: true},
		{raw: "\x7f", want: "\x7f"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := Unquote([]byte(tt.raw))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Unquote(%q) err = %v, want error %v", tt.raw, err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("Unquote(%q) = %q, want %q", tt.raw, got, tt.want)
			}
			// The table itself is checked against encoding/json.
			var js string
			jerr := json.Unmarshal([]byte(`"`+tt.raw+`"`), &js)
			if (jerr != nil) != tt.wantErr || (!tt.wantErr && js != tt.want) {
				t.Errorf("encoding/json disagrees with the table: %q, %v", js, jerr)
			}
		})
	}
}

func TestUnquoteAllocs(t *testing.T) {
	raw := []byte(`/some-container-name`)
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { _, _ = AppendUnquote(buf[:0], raw) }); n != 0 {
		t.Errorf("AppendUnquote allocs = %v, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = Unquote(raw) }); n != 1 {
		t.Errorf("Unquote allocs = %v, want 1 (the string)", n)
	}
}

func TestSpecialMask(t *testing.T) {
	// Every byte value in every lane, with plain bytes elsewhere: the
	// SWAR scan must stop exactly where the byte-at-a-time rule does.
	for c := 0; c < 256; c++ {
		for lane := 0; lane < 8; lane++ {
			b := []byte(strings.Repeat("a", 16))
			b[lane+3] = byte(c)
			got := plainEnd(b, 3)
			want := len(b)
			if isSpecial(byte(c)) {
				want = lane + 3
			}
			if got != want {
				t.Fatalf("plainEnd with %#x at %d = %d, want %d", c, lane+3, got, want)
			}
		}
	}
	// Two special bytes: the first one wins, whatever borrows do above it.
	for _, pair := range [][2]byte{{0x00, '"'}, {'"', 0x00}, {0x1f, '\\'}, {0x00, 0x00}, {'\\', 0x01}} {
		for lane := 0; lane < 7; lane++ {
			b := []byte("xxxxxxxx")
			b[lane], b[lane+1] = pair[0], pair[1]
			if got := plainEnd(b, 0); got != lane {
				t.Errorf("plainEnd(%q) = %d, want %d", b, got, lane)
			}
		}
	}
}
