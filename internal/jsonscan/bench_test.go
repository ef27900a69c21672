package jsonscan

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchDocs returns the Docker bodies in testdata and a 2000-element
// container list built from the captured one.
func benchDocs(b *testing.B) map[string][]byte {
	b.Helper()
	docs := map[string][]byte{}
	files, _ := filepath.Glob(filepath.Join("testdata", "docker-*.json"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		docs[strings.TrimSuffix(filepath.Base(f), ".json")] = data
	}
	list := bytes.TrimSpace(docs["docker-29.7-containers"])
	inner := list[1 : len(list)-1]
	big := []byte{'['}
	for i := 0; i < 400; i++ {
		if i > 0 {
			big = append(big, ',')
		}
		big = append(big, inner...)
	}
	docs["big-list"] = append(big, "]\n"...)
	return docs
}

func BenchmarkValid(b *testing.B) {
	docs := benchDocs(b)
	for _, name := range []string{"big-list", "docker-29.7-containers", "docker-29.7-inspect", "docker-29.7-info", "docker-20.10-system-df"} {
		doc := docs[name]
		b.Run(name+"/jsonscan", func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				if !Valid(doc) {
					b.Fatal("invalid")
				}
			}
		})
		b.Run(name+"/json.Valid", func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				if !json.Valid(doc) {
					b.Fatal("invalid")
				}
			}
		})
	}
}

func BenchmarkObjectEach(b *testing.B) {
	doc := benchDocs(b)["docker-29.7-inspect"]
	n := 0
	fn := func(key []byte, _, _ int) error {
		if KeyEqualFold(key, "Config") {
			n++
		}
		return nil
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ObjectEach(doc, fn); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnquote(b *testing.B) {
	for name, raw := range map[string]string{
		"plain":   "/var/lib/docker/containers/88207d755168a61895a364b4b716597cbf5e03bf8efe77e5ff10d21c34b07642/hostname",
		"escaped": `caf\u00e9 \"quoted\" \uD83D\uDE00 tab\t`,
	} {
		b.Run(name, func(b *testing.B) {
			in := []byte(raw)
			buf := make([]byte, 0, 256)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := AppendUnquote(buf[:0], in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkKeyEqualFold(b *testing.B) {
	keys := [][]byte{[]byte("Id"), []byte("Names"), []byte("Image"), []byte("Labels"), []byte("NetworkSettings"), []byte(`N\u0061mes`)}
	b.ReportAllocs()
	for b.Loop() {
		for _, k := range keys {
			KeyEqualFold(k, "Names")
			KeyEqualFold(k, "Labels")
		}
	}
}
