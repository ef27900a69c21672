package rewrite

import (
	"fmt"

	"github.com/dpf-dev/docker-proxy-filter/internal/jsonscan"
)

// ScrubInspectEnv returns the container inspect body (GET
// /containers/{id}/json) with the value of Config.Env replaced by [], so
// that environment secrets never reach the client. Every other byte is
// unchanged, including the trailing newline.
//
// Members are matched as encoding/json binds them: every top-level member
// binding to "Config" whose value is an object has every member binding to
// "Env" replaced, whatever its value. When there is nothing to replace the
// result is body itself, not a copy. A body that is not one JSON object
// followed by whitespace gives an error wrapping ErrMalformed.
func ScrubInspectEnv(body []byte) ([]byte, error) {
	var envs [][2]int // value spans to replace, in order
	env := func(key []byte, vs, ve int) error {
		if jsonscan.KeyEqualFold(key, "Env") && string(body[vs:ve]) != "[]" {
			envs = append(envs, [2]int{vs, ve})
		}
		return nil
	}
	config := func(key []byte, vs, ve int) error {
		if body[vs] != '{' || !jsonscan.KeyEqualFold(key, "Config") {
			return nil
		}
		_, err := jsonscan.ObjectMembers(body, vs, 1, env)
		return err
	}
	if err := jsonscan.ObjectEach(body, config); err != nil {
		return nil, fmt.Errorf("%w: container inspect: %w", ErrMalformed, err)
	}
	if len(envs) == 0 {
		return body, nil
	}
	out := make([]byte, 0, len(body))
	prev := 0
	for _, span := range envs {
		out = append(out, body[prev:span[0]]...)
		out = append(out, "[]"...)
		prev = span[1]
	}
	return append(out, body[prev:]...), nil
}
