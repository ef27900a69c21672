package rewrite

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// networkView is what a client decodes of a network.
type networkView struct {
	Containers map[string]struct{ Name, IPv4Address string }
	Status     *struct {
		IPAM struct {
			Subnets map[string]struct{ IPsInUse, DynamicIPsAvailable uint64 }
		}
	}
}

func TestNetworkInspectFixtures(t *testing.T) {
	tests := []struct {
		engine, file, names string
		inUse, available    uint64 // want for the first subnet, when reported
	}{
		{engine: "engine-20.10", file: "network-inspect", names: "net-vis"},
		{engine: "engine-29.7", file: "network-inspect", names: "net-vis", inUse: 4, available: 65532},
		{engine: "private-20.10", file: "network-inspect-appnet", names: "net-vis"},
	}
	for _, tt := range tests {
		t.Run(tt.engine+"/"+tt.file, func(t *testing.T) {
			in := httpBody(t, tt.engine+"/"+tt.file+".http")
			visible := privateOrEngineVisible(t, tt.engine)
			keep := &inSet{ids: visible}
			got, err := NetworkInspect(in, keep.keep)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.engine+"-"+tt.file+".json", got)
			v := decode[networkView](t, got)
			var names []string
			for _, c := range v.Containers {
				names = append(names, c.Name)
			}
			if strings.Join(names, ",") != tt.names {
				t.Errorf("members %v, want %s", names, tt.names)
			}
			if v.Status != nil {
				for subnet, st := range v.Status.IPAM.Subnets {
					if st.IPsInUse != tt.inUse || st.DynamicIPsAvailable != tt.available {
						t.Errorf("subnet %s: %+v, want IPsInUse %d, DynamicIPsAvailable %d", subnet, st, tt.inUse, tt.available)
					}
				}
			}
			// Keeping everything changes nothing.
			all, err := NetworkInspect(in, func(string) bool { return true })
			if err != nil || !sameSlice(in, all) {
				t.Errorf("keep-all output differs or was copied (err %v)", err)
			}
		})
	}
}

// privateOrEngineVisible returns the visible IDs of a fixture directory.
func privateOrEngineVisible(t *testing.T, dir string) map[string]bool {
	if dir == "private-20.10" {
		df := decode[struct{ Containers json.RawMessage }](t, httpBody(t, dir+"/system-df.http"))
		v, _ := homepageIDs(t, df.Containers)
		return v
	}
	v, _ := engineVisible(t, dir)
	return v
}

func TestNetworkListFixtures(t *testing.T) {
	for _, dir := range []string{"engine-20.10", "engine-29.7"} {
		in := httpBody(t, dir+"/networks-list.http")
		got, err := NetworkList(in, func(string) bool { return false })
		if err != nil || !sameSlice(in, got) {
			t.Errorf("%s: list without container maps changed (err %v)", dir, err)
		}
	}
	in := httpBody(t, "private-20.10/networks-list-v1.27.http")
	got, err := NetworkList(in, (&inSet{ids: privateOrEngineVisible(t, "private-20.10")}).keep)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "private-20.10-networks-list-v1.27.json", got)
	for _, hidden := range []string{"db-b", "net-hid"} {
		if bytes.Contains(got, []byte(hidden)) {
			t.Errorf("list still names %s", hidden)
		}
	}
	for _, visible := range []string{"web-a", "web-2", "net-vis"} {
		if !bytes.Contains(got, []byte(visible)) {
			t.Errorf("list lost %s", visible)
		}
	}
}

const (
	idA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	idB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	idC = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
)

func TestNetworkInspect(t *testing.T) {
	keepA := func(id string) bool { return id == idA }
	ep := func(v4, v6 string) string {
		return `{"Name":"n","IPv4Address":"` + v4 + `","IPv6Address":"` + v6 + `"}`
	}
	tests := []struct{ name, in, want string }{
		{name: "drop middle", in: `{"Containers":{"` + idB + `":{},"` + idA + `":{},"` + idC + `":{}}}`, want: `{"Containers":{"` + idA + `":{}}}`},
		{name: "drop all", in: `{"Containers":{"` + idB + `":{},"` + idC + `":{}},"Options":{}}` + "\n", want: `{"Containers":{},"Options":{}}` + "\n"},
		{name: "non-container keys stay", in: `{"Containers":{"lb-net":{},"ep-123":{},"` + idB + `":{},"BBBB":{}}}`, want: `{"Containers":{"lb-net":{},"ep-123":{},"BBBB":{}}}`},
		{name: "null and empty", in: `{"Containers":null,"containers":{}}`, want: `{"Containers":null,"containers":{}}`},
		{name: "escaped key", in: `{"Containers":{"\u0062` + idB[1:] + `":{}}}`, want: `{"Containers":{}}`},
		{name: "ipam status", in: `{"Containers":{"` + idA + `":` + ep("10.0.0.2/24", "") + `,"` + idB + `":` + ep("10.0.0.3/24", "fd00::3/64") + `},` +
			`"Status":{"IPAM":{"Subnets":{"10.0.0.0/24":{"IPsInUse":5,"DynamicIPsAvailable":251},"fd00::/64":{"IPsInUse":3,"DynamicIPsAvailable":18446744073709551615},"10.9.0.0/24":{"IPsInUse":3,"DynamicIPsAvailable":253}}}}}`,
			want: `{"Containers":{"` + idA + `":` + ep("10.0.0.2/24", "") + `},` +
				`"Status":{"IPAM":{"Subnets":{"10.0.0.0/24":{"IPsInUse":4,"DynamicIPsAvailable":252},"fd00::/64":{"IPsInUse":2,"DynamicIPsAvailable":18446744073709551615},"10.9.0.0/24":{"IPsInUse":3,"DynamicIPsAvailable":253}}}}}`},
		{name: "ip range", in: `{"IPAM":{"Config":[{"Subnet":"10.0.0.0/16","IPRange":"10.0.1.0/24"}]},"Containers":{"` + idB + `":` + ep("10.0.0.3/16", "") + `,"` + idC + `":` + ep("10.0.1.7/16", "") + `},` +
			`"Status":{"IPAM":{"Subnets":{"10.0.0.0/16":{"IPsInUse":9,"DynamicIPsAvailable":250}}}}}`,
			want: `{"IPAM":{"Config":[{"Subnet":"10.0.0.0/16","IPRange":"10.0.1.0/24"}]},"Containers":{},` +
				`"Status":{"IPAM":{"Subnets":{"10.0.0.0/16":{"IPsInUse":7,"DynamicIPsAvailable":251}}}}}`},
		{name: "saturated in use", in: `{"Containers":{"` + idB + `":` + ep("", "fd00::3/64") + `},"Status":{"IPAM":{"Subnets":{"fd00::/8":{"IPsInUse":18446744073709551615,"DynamicIPsAvailable":5}}}}}`,
			want: `{"Containers":{},"Status":{"IPAM":{"Subnets":{"fd00::/8":{"IPsInUse":18446744073709551615,"DynamicIPsAvailable":6}}}}}`},
		{name: "status before containers", in: `{"Status":{"IPAM":{"Subnets":{"10.0.0.0/24":{"IPsInUse":1}}}},"Containers":{"` + idB + `":` + ep("10.0.0.3/24", "") + `}}`,
			want: `{"Status":{"IPAM":{"Subnets":{"10.0.0.0/24":{"IPsInUse":0}}}},"Containers":{}}`},
		{name: "bad address ignored", in: `{"Containers":{"` + idB + `":` + ep("nope", "") + `},"Status":{"IPAM":{"Subnets":{"10.0.0.0/24":{"IPsInUse":1}}}}}`,
			want: `{"Containers":{},"Status":{"IPAM":{"Subnets":{"10.0.0.0/24":{"IPsInUse":1}}}}}`},
		{name: "services untouched", in: `{"Containers":{"` + idB + `":{}},"Services":{"svc":{"Tasks":[{"Name":"svc.1.x","EndpointIP":"10.0.0.3"}]}}}`,
			want: `{"Containers":{},"Services":{"svc":{"Tasks":[{"Name":"svc.1.x","EndpointIP":"10.0.0.3"}]}}}`},
		{name: "whitespace", in: "{ \"Containers\" : { \"" + idA + "\" : {} , \"" + idB + "\" : {} } }", want: "{ \"Containers\" : { \"" + idA + "\" : {} } }"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NetworkInspect([]byte(tt.in), keepA)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestNetworkMalformed(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `{`, `{"Containers":[]}`, `{"Containers":{"` + idB + `":[]}}`, `{"Containers":{"` + idB + `":{"IPv4Address":1}}}`,
		`{"Containers":{"` + idB + `":{"IPv4Address":"10.0.0.2/24"}},"Status":{"IPAM":{"Subnets":{"10.0.0.0/24":{"IPsInUse":-1}}}}}`,
		`{"Containers":{"` + idB + `":{"IPv4Address":"10.0.0.2/24"}},"Status":{"IPAM":[]}}`, `{} {}`,
	} {
		got, err := NetworkInspect([]byte(in), func(string) bool { return false })
		mustMalformed(t, in, got, err)
	}
	for _, in := range []string{``, `{}`, `[1]`, `[{"Containers":1}]`, `[{}`} {
		got, err := NetworkList([]byte(in), func(string) bool { return false })
		mustMalformed(t, in, got, err)
	}
}
