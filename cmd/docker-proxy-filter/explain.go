package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/config"
	"github.com/dpf-dev/docker-proxy-filter/internal/explain"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
	"github.com/dpf-dev/docker-proxy-filter/internal/visibility"
)

// explainTimeout bounds the one look at the upstream.
const explainTimeout = 30 * time.Second

// explainCommand is `docker-proxy-filter explain [--json]`: with the same
// environment as the proxy, it lists the upstream's containers and swarm
// services once and says which are visible and why, so a user sees what a
// configuration exposes before pointing a client at it.
//
// Text goes to stdout, warnings included. With --json, stdout is one JSON
// array of entries (containers, then services, each with "kind", "id",
// "name", "visible" and "reason") and the warnings go to stderr, so the
// output pipes into jq as it is.
func explainCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	asJSON := false
	for _, a := range args {
		switch a {
		case "--json", "-json":
			asJSON = true
		default:
			return &usageError{fmt.Errorf("explain: unknown argument %q; usage: docker-proxy-filter explain [--json]", a)}
		}
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return &usageError{err}
	}
	logger := newLogger(cfg, stderr)
	up, err := upstream.New(cfg.Upstream, logger.With("component", "upstream"))
	if err != nil {
		return err
	}
	defer up.Close()

	ctx, cancel := context.WithTimeout(ctx, explainTimeout)
	defer cancel()
	listed, err := up.List(ctx)
	if err != nil {
		return fmt.Errorf("explain: list containers at %s: %w", cfg.Upstream, err)
	}
	services, _, err := up.Services(ctx)
	if err != nil {
		return fmt.Errorf("explain: list swarm services at %s: %w", cfg.Upstream, err)
	}
	report := explain.Build(&cfg.Criteria, containersOf(listed), servicesOf(services))
	if err := agreeWithTheProxy(ctx, report, cfg, listed, services); err != nil {
		return err
	}

	if asJSON {
		entries := append(report.Containers, report.Services...)
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(entries); err != nil {
			return err
		}
		for _, w := range append(warningMessages(report), configOnlyWarnings(cfg, report)...) {
			fmt.Fprintln(stderr, "warning:", w)
		}
		return nil
	}
	if err := report.WriteText(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nAPI areas and actions: %s\n", accessLine(cfg))
	for _, w := range configOnlyWarnings(cfg, report) {
		fmt.Fprintln(stdout, "configuration warning:", w)
	}
	return nil
}

// configOnlyWarnings are the configuration's warnings the report does not
// already give (both say when every container is visible).
func configOnlyWarnings(cfg config.Config, r explain.Report) []string {
	var out []string
	for _, w := range cfg.Warnings {
		if !slices.Contains(warningMessages(r), w) {
			out = append(out, w)
		}
	}
	return out
}

// listedServices is a ServiceLister that answers with the services explain
// listed, so the rule decides on the same list the report explains: a
// second call could see a service created in between and disagree.
type listedServices []upstream.Service

func (l listedServices) Services(context.Context) ([]upstream.Service, bool, error) {
	return l, true, nil
}

// agreeWithTheProxy checks every verdict of the report against the
// visibility rule the proxy itself decides with. The report explains; the
// rule decides; a disagreement is a bug, and saying so beats a wrong
// explanation.
func agreeWithTheProxy(ctx context.Context, r explain.Report, cfg config.Config, listed []upstream.Container, services []upstream.Service) error {
	criteria := cfg.Criteria
	rule := visibility.New(&criteria, listedServices(services))
	rule.RefreshServices(ctx)
	verdicts := make(map[string]bool, len(r.Containers)+len(r.Services))
	for _, e := range r.Containers {
		verdicts["c"+e.ID] = e.Visible
	}
	for _, e := range r.Services {
		verdicts["s"+e.ID] = e.Visible
	}
	for _, c := range listed {
		if got := rule.Container(c.Name, c.Labels); got != verdicts["c"+c.ID] {
			return fmt.Errorf("explain: internal error: the report says container %s is visible=%v, the proxy decides %v", c.Name, verdicts["c"+c.ID], got)
		}
	}
	for _, s := range services {
		if got := rule.Service(s.Name, s.Labels); got != verdicts["s"+s.ID] {
			return fmt.Errorf("explain: internal error: the report says service %s is visible=%v, the proxy decides %v", s.Name, verdicts["s"+s.ID], got)
		}
	}
	return nil
}

// accessLine says what passes besides visibility: LinuxServer's variables
// when set, else READ_ONLY.
func accessLine(cfg config.Config) string {
	if cfg.Access.Active() {
		return cfg.Access.Summary()
	}
	if cfg.ReadOnly {
		return "READ_ONLY=true: every API area, GET and HEAD only"
	}
	return "READ_ONLY=false: every API area and method (writes decided like reads)"
}

func warningMessages(r explain.Report) []string {
	out := make([]string, len(r.Warnings))
	for i, w := range r.Warnings {
		out[i] = w.Message
	}
	return out
}

func containersOf(list []upstream.Container) []explain.Container {
	out := make([]explain.Container, len(list))
	for i, c := range list {
		out[i] = explain.Container{ID: c.ID, Name: c.Name, Labels: c.Labels}
	}
	return out
}

func servicesOf(list []upstream.Service) []explain.Service {
	out := make([]explain.Service, len(list))
	for i, s := range list {
		out[i] = explain.Service{ID: s.ID, Name: s.Name, Labels: s.Labels}
	}
	return out
}
