package explain

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report for a terminal:
//
//	filters: CONTAINER_NAMES=web CONTAINER_LABELS=homepage
//
//	CONTAINER ID  NAME       VISIBLE  REASON
//	0123456789ab  /web       yes      CONTAINER_NAMES item "web" matches name "/web"
//	abcdef012345  /db        no       no filter matched
//
//	SERVICE ID    NAME  VISIBLE  REASON                  (only when there are services)
//	...
//
//	containers: 1 visible, 1 hidden
//	services: 0 visible, 0 hidden                         (only when there are services)
//
//	warnings:                                             (only when there are warnings)
//	  - CONTAINER_LABELS item "traefik" matches traefik.enable=false on ...
func (r Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "filters: %s=%s %s=%s\n\n", VarNames, joinOrNone(r.Filters.Names), VarLabels, joinOrNone(r.Filters.Labels))

	table(bw, "CONTAINER ID", r.Containers)
	if len(r.Services) > 0 {
		bw.WriteString("\n")
		table(bw, "SERVICE ID", r.Services)
	}

	fmt.Fprintf(bw, "\ncontainers: %d visible, %d hidden\n", r.Summary.ContainersVisible, r.Summary.ContainersHidden)
	if len(r.Services) > 0 {
		fmt.Fprintf(bw, "services: %d visible, %d hidden\n", r.Summary.ServicesVisible, r.Summary.ServicesHidden)
	}
	if len(r.Warnings) > 0 {
		bw.WriteString("\nwarnings:\n")
		for _, wn := range r.Warnings {
			fmt.Fprintf(bw, "  - %s\n", clean(wn.Message))
		}
	}
	return bw.Flush()
}

// table writes one aligned section; an empty list says so instead.
func table(w io.Writer, idHeader string, es []Entry) {
	if len(es) == 0 {
		kind := "containers"
		if idHeader != "CONTAINER ID" {
			kind = "services"
		}
		fmt.Fprintf(w, "(no %s)\n", kind)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tNAME\tVISIBLE\tREASON\n", idHeader)
	for _, e := range es {
		visible := "no"
		if e.Visible {
			visible = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", short(e.ID), clean(e.Name), visible, clean(e.Reason))
	}
	tw.Flush()
}

// clean keeps a name or label chosen by whoever created the container from
// breaking the table or the terminal: control characters become '?'.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return '?'
		}
		return r
	}, s)
}

func joinOrNone(items []string) string {
	if len(items) == 0 {
		return "(none)"
	}
	return strings.Join(items, ",")
}

// WriteJSON writes the report as one indented JSON object, for
// `explain --json`:
//
//	{
//	  "filters":    {"names": [...], "labels": [...]},
//	  "containers": [{"kind": "container", "id", "name", "visible", "basis", "reason", "matches"?, "service"?, "service_name"?}, ...],
//	  "services":   [{"kind": "service", ...}, ...],
//	  "warnings":   [{"code", "variable"?, "item"?, "message"}, ...],
//	  "summary":    {"containers_visible", "containers_hidden", "services_visible", "services_hidden"}
//	}
//
// An object rather than a bare array, so the warnings and counts have a home
// and fields can be added without breaking `jq '.containers[]'`. Lists are
// never null.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
