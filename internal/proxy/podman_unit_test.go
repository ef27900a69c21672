package proxy

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Podman's answer for a container removed between the proxy's decision and
// its own lookup is recognised like the engine's: the request is decided
// again, or the client's ref is put back, Podman's shape kept.
func TestDecidedPodmanContainerGone(t *testing.T) {
	id := strings.Repeat("ab", 32)
	answer := func() *http.Response {
		body := podmanErrorBody(http.StatusNotFound, podmanCauseNoSuchContainer, podmanNoSuchContainer(id))
		return &http.Response{
			StatusCode: http.StatusNotFound,
			Header:     http.Header{"Content-Type": {"application/json"}},
			Body:       io.NopCloser(strings.NewReader(string(body))),
		}
	}
	if err := decidedContainerGone(answer(), id, "web", true); !errors.Is(err, errDecidedContainerGone) {
		t.Errorf("with a retry: %v, want errDecidedContainerGone", err)
	}
	resp := answer()
	if err := decidedContainerGone(resp, id, "web", false); err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	want := `{"cause":"no such container","message":"no container with name or ID \"web\" found: no such container","response":404}` + "\n"
	if string(got) != want {
		t.Errorf("without a retry: %s, want %s", got, want)
	}
	// Another container's absence (a VolumesFrom of a create) is not the
	// decided container's.
	other := podmanErrorBody(http.StatusNotFound, podmanCauseNoSuchContainer, podmanNoSuchContainer("db"))
	resp = &http.Response{StatusCode: 404, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(string(other)))}
	if err := decidedContainerGone(resp, id, "web", true); err != nil {
		t.Errorf("an answer about another container: %v, want it passed on", err)
	}
}
