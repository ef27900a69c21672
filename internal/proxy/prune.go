package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/filterarg"
)

// POST /containers/prune removes every stopped container, hidden ones
// included, so it is never forwarded: the proxy prunes the visible stopped
// containers one by one with the engine's own filters (label, label!,
// until) and answers in the engine's shape. Unlike the engine's prune this
// is not atomic: a container started meanwhile is refused removal by the
// engine and simply not listed as deleted.

func (p *Proxy) serveContainerPrune(x *exchange) {
	w, r, a := x.w, x.r, &x.audit
	args, err := filterarg.Parse(r.URL.Query().Get("filters"))
	if err != nil {
		a.reason = "invalid prune filters"
		x.fail(http.StatusBadRequest, "invalid filter")
		return
	}
	for _, k := range args.Keys() {
		if k != "label" && k != "label!" && k != "until" {
			a.reason = "invalid prune filter"
			msg := "invalid filter '" + k + "'"
			if p.engine().invalidFilterCapitalized() {
				msg = "Invalid filter '" + k + "'"
			}
			x.fail(http.StatusBadRequest, msg)
			return
		}
	}
	until, err := pruneUntil(args.Get("until"), time.Now())
	if err != nil {
		a.reason = "invalid prune until"
		x.fail(http.StatusBadRequest, err.Error())
		return
	}

	list, err := p.up.Summaries(r.Context(), true)
	if err != nil {
		x.lookupFailed(err)
		return
	}
	var deleted []string
	var reclaimed int64
	for _, c := range list {
		if c.State == "running" || c.State == "paused" || c.State == "restarting" || c.State == "removing" {
			continue
		}
		if !p.vis.Container(c.Name(), c.Labels) {
			continue
		}
		if !pruneLabelsMatch(args, c.Labels) || !until.IsZero() && !time.Unix(c.Created, 0).Before(until) {
			continue
		}
		// As prune removes: no force, volumes kept.
		if p.up.RemoveContainer(r.Context(), c.ID, false) {
			deleted = append(deleted, c.ID)
			reclaimed += c.SizeRw
		}
	}
	a.decision = decisionFilter
	a.kept, a.total, a.counted = len(deleted), len(list), true
	out, _ := json.Marshal(struct {
		ContainersDeleted []string
		SpaceReclaimed    uint64
	}{deleted, uint64(reclaimed)})
	h := w.Header()
	p.headers.apply(h)
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(out, '\n'))
}

// pruneLabelsMatch applies prune's label filters: every "label" entry ("key"
// or "key=value") must be present, and no "label!" entry may be.
func pruneLabelsMatch(args filterarg.Args, labels map[string]string) bool {
	has := func(entry string) bool {
		k, v, withValue := strings.Cut(entry, "=")
		got, ok := labels[k]
		return ok && (!withValue || got == v)
	}
	for _, e := range args.Get("label") {
		if !has(e) {
			return false
		}
	}
	return !slices.ContainsFunc(args.Get("label!"), has)
}

// pruneUntil parses prune's until filter: a Go duration before now, a
// Unix timestamp, or an RFC 3339 date, as the engine accepts it.
func pruneUntil(values []string, now time.Time) (time.Time, error) {
	switch len(values) {
	case 0:
		return time.Time{}, nil
	case 1:
	default:
		return time.Time{}, fmt.Errorf("more than one until filter specified")
	}
	v := values[0]
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Unix(int64(secs), 0), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("failed to parse value as time or duration: %q", url.QueryEscape(v))
}
