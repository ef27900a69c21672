package bodyref

import (
	"errors"
	"reflect"
	"testing"
)

func TestNetworkConnect(t *testing.T) {
	// engine: what Engine 20.10.24 answered to POST /v1.41/networks/n1/connect.
	tests := []struct {
		name    string
		body    string
		ref     string
		links   []Ref
		wantErr bool
		engine  string
	}{
		{name: "zero-length", body: ``, engine: "400 got EOF while reading request body (current engines: zero request)"},
		{name: "blank", body: ` `, wantErr: true, engine: "400 got EOF while reading request body"},
		{name: "null", body: `null`, engine: "400 invalid name or ID supplied: \"\""},
		{name: "empty object", body: `{}`, engine: "400 invalid name or ID supplied: \"\""},
		{name: "container", body: `{"Container":"nonexist"}`, ref: "nonexist", engine: "404 No such container: nonexist"},
		{name: "lower-case key", body: `{"container":"nonexist"}`, ref: "nonexist", engine: "404 No such container: nonexist"},
		{name: "trailing content ignored", body: `{"Container":"nonexist"} x`, ref: "nonexist", engine: "404 No such container: nonexist"},
		{name: "second value ignored", body: `{"Container":"db"} {"Container":"nonexist"}`, ref: "db", engine: "acted on db"},
		{name: "null keeps previous", body: `{"Container":"nonexist","Container":null}`, ref: "nonexist", engine: "404 No such container: nonexist"},
		{name: "not a string", body: `{"Container":5}`, wantErr: true, engine: "400 json: cannot unmarshal number into Go struct field NetworkConnect.Container of type string"},
		{name: "endpoint links", body: `{"Container":"db","EndpointConfig":{"Links":["h1:alias","/h2:/db/x"],"Aliases":["y"]}}`, ref: "db",
			links: []Ref{ref(EndpointLink, "h1", "h1:alias"), ref(EndpointLink, "h2", "/h2:/db/x")}, engine: "source: DNS aliases, never looked up"},
		{name: "null EndpointConfig", body: `{"Container":"db","EndpointConfig":{"Links":["h"]},"EndpointConfig":null}`, ref: "db", engine: "source: pointer set to nil"},
		{name: "links not a list", body: `{"Container":"db","EndpointConfig":{"Links":"h"}}`, wantErr: true, engine: "source: cannot unmarshal string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, links, err := NetworkConnect([]byte(tc.body))
			if tc.wantErr {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("NetworkConnect(%q) = %+v, %+v, %v; want an *Error (engine: %s)", tc.body, got, links, err, tc.engine)
				}
				return
			}
			want := Ref{Kind: NetworkContainer, Ref: tc.ref, Raw: tc.ref}
			if err != nil || got != want || !reflect.DeepEqual(links, tc.links) {
				t.Errorf("NetworkConnect(%q) = %+v, %+v, %v; want %+v, %+v (engine: %s)", tc.body, got, links, err, want, tc.links, tc.engine)
			}
		})
	}
}

func TestNetworkDisconnect(t *testing.T) {
	// engine: what Engine 20.10.24 answered to POST /v1.41/networks/n1/disconnect.
	tests := []struct {
		name    string
		body    string
		ref     string
		force   bool
		wantErr bool
		engine  string
	}{
		{name: "zero-length", body: ``, engine: "source: zero request on current engines"},
		{name: "container", body: `{"Container":"db"}`, ref: "db", engine: "500 container <id> is not connected to the network n1"},
		{name: "force", body: `{"Container":"nonexist","Force":true}`, ref: "nonexist", force: true, engine: "404 endpoint nonexist not found"},
		{name: "odd case", body: `{"CONTAINER":"db","force":true,"Force":null}`, ref: "db", force: true, engine: "source: null keeps the previous value"},
		{name: "force not a bool", body: `{"Container":"db","Force":"x"}`, wantErr: true, engine: "400 json: cannot unmarshal string into Go struct field NetworkDisconnect.Force of type bool"},
		{name: "syntax error", body: `{"Container":"db"`, wantErr: true, engine: "source: unexpected EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, force, err := NetworkDisconnect([]byte(tc.body))
			if tc.wantErr {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("NetworkDisconnect(%q) = %+v, %v, %v; want an *Error (engine: %s)", tc.body, got, force, err, tc.engine)
				}
				return
			}
			want := Ref{Kind: NetworkContainer, Ref: tc.ref, Raw: tc.ref}
			if err != nil || got != want || force != tc.force {
				t.Errorf("NetworkDisconnect(%q) = %+v, %v, %v; want %+v, %v (engine: %s)", tc.body, got, force, err, want, tc.force, tc.engine)
			}
		})
	}
}
