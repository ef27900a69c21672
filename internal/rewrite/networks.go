package rewrite

import (
	"math"
	"net/netip"
	"strconv"

	"github.com/dpf-dev/docker-proxy-filter/internal/jsonscan"
)

// NetworkInspect rewrites a GET /networks/{id} body so that it describes
// only visible containers.
//
// Members of the top-level "Containers" map whose key is a full container
// ID (64 hex digits) for which keepContainer returns false are removed;
// other keys ("lb-<network>" swarm load-balancer sandboxes, "ep-<endpoint>"
// endpoints without a sandbox) are not containers and stay. A nil
// keepContainer keeps all.
//
// From API 1.52 the engine also reports Status.IPAM.Subnets.<subnet>
// .{IPsInUse, DynamicIPsAvailable}, which count the removed containers'
// addresses too. For every removed member, each of its IPv4Address and
// IPv6Address lowers IPsInUse of the subnet that contains it by one and,
// when the address lies in the subnet's dynamic range (the IPRange of the
// matching IPAM.Config entry, else the whole subnet), raises
// DynamicIPsAvailable by one, saturating at 2^64-1 as the engine does. A
// saturated IPsInUse (a huge IPv6 subnet) is left alone: the exact count
// behind it is unknown. Only those numbers are re-encoded.
//
// The "Services" map of verbose swarm networks (service name -> VIP and
// task endpoints) is left as sent: it names tasks, not containers.
//
// A body that is not one JSON object, or whose Containers or Status is of
// the wrong shape, gives an error wrapping ErrMalformed. When nothing
// changes the result is body itself.
func NetworkInspect(body []byte, keepContainer func(id string) bool) ([]byte, error) {
	ms, err := topMembers(body)
	if err != nil {
		return nil, scanErr("network inspect", err)
	}
	e := &editor{body: body}
	if err := filterNetwork(e, ms, 1, keepContainer); err != nil {
		return nil, err
	}
	return e.apply()
}

// NetworkList applies NetworkInspect's rewrite to each network of a
// GET /networks body. Only API versions below 1.28 list the Containers
// map; newer lists carry none (engine 29) or an empty one, so the body
// comes back unchanged.
func NetworkList(body []byte, keepContainer func(id string) bool) ([]byte, error) {
	els, err := topElems(body)
	if err != nil {
		return nil, scanErr("network list", err)
	}
	e := &editor{body: body}
	for k, el := range els {
		if body[el.start] != '{' {
			return nil, shape("network list", "element %d is not an object", k)
		}
		ms, _, err := objectMembers(body, el.start, 1)
		if err != nil {
			return nil, scanErr("network list", err)
		}
		if err := filterNetwork(e, ms, 2, keepContainer); err != nil {
			return nil, err
		}
	}
	return e.apply()
}

// addrs are the addresses of a removed network member.
type addrs struct{ v4, v6 netip.Addr }

// filterNetwork adds to e the edits for one network object whose members
// are ms; depth is the nesting of the member values.
func filterNetwork(e *editor, ms []member, depth int, keep func(string) bool) error {
	b := e.body
	removed := map[string]addrs{}
	var status []member  // Status members, in order
	var ipamCfg []member // IPAM members, for the dynamic ranges
	for _, m := range ms {
		switch {
		case jsonscan.KeyEqualFold(m.key, "Containers"):
			if isNull(b, m.vs) {
				continue
			}
			if b[m.vs] != '{' {
				return shape("network", `"Containers" is not an object`)
			}
			if err := dropMembers(e, m.vs, depth, keep, removed); err != nil {
				return err
			}
		case jsonscan.KeyEqualFold(m.key, "Status"):
			status = append(status, m)
		case jsonscan.KeyEqualFold(m.key, "IPAM"):
			ipamCfg = append(ipamCfg, m)
		}
	}
	if len(removed) == 0 {
		return nil
	}
	ranges := dynamicRanges(b, ipamCfg, depth)
	for _, st := range status {
		if err := adjustIPAMStatus(e, st, depth, removed, ranges); err != nil {
			return err
		}
	}
	return nil
}

// dropMembers removes the hidden containers from the Containers map at
// b[vs], recording the addresses of those removed.
func dropMembers(e *editor, vs, depth int, keep func(string) bool, removed map[string]addrs) error {
	b := e.body
	ms, _, err := objectMembers(b, vs, depth)
	if err != nil {
		return scanErr("network", err)
	}
	items := make([]span, len(ms))
	drop := make([]bool, len(ms))
	for k, m := range ms {
		items[k] = m.span()
		id, err := jsonscan.Unquote(m.key)
		if err != nil || !isContainerID(id) || keep == nil || keep(id) {
			continue
		}
		drop[k] = true
		a, err := endpointAddrs(b, m, depth+1)
		if err != nil {
			return err
		}
		removed[id] = a
	}
	e.dropItems(items, drop)
	return nil
}

// endpointAddrs reads IPv4Address and IPv6Address of a Containers entry.
// An address that is empty or not a CIDR belongs to no subnet.
func endpointAddrs(b []byte, m member, depth int) (addrs, error) {
	var a addrs
	if isNull(b, m.vs) {
		return a, nil
	}
	if b[m.vs] != '{' {
		return a, shape("network", "a Containers entry is not an object")
	}
	ms, _, err := objectMembers(b, m.vs, depth)
	if err != nil {
		return a, scanErr("network", err)
	}
	for _, f := range ms {
		var dst *netip.Addr
		switch {
		case jsonscan.KeyEqualFold(f.key, "IPv4Address"):
			dst = &a.v4
		case jsonscan.KeyEqualFold(f.key, "IPv6Address"):
			dst = &a.v6
		default:
			continue
		}
		if isNull(b, f.vs) {
			continue
		}
		s, ok := jsonString(b, f.vs, f.ve)
		if !ok {
			return a, shape("network", "an endpoint address is not a string")
		}
		*dst = netip.Addr{}
		if p, err := netip.ParsePrefix(s); err == nil {
			*dst = p.Addr().Unmap()
		}
	}
	return a, nil
}

// dynamicRanges maps each configured subnet to the range the engine
// allocates dynamic addresses from (IPRange, else the subnet), from the
// IPAM.Config entries. Entries it cannot read are skipped: their subnet
// then counts as its own range, which is the engine's default.
func dynamicRanges(b []byte, ipam []member, depth int) map[netip.Prefix]netip.Prefix {
	ranges := map[netip.Prefix]netip.Prefix{}
	for _, m := range ipam {
		if b[m.vs] != '{' {
			continue
		}
		ms, _, err := objectMembers(b, m.vs, depth)
		if err != nil {
			continue
		}
		for _, c := range ms {
			if !jsonscan.KeyEqualFold(c.key, "Config") || b[c.vs] != '[' {
				continue
			}
			els, _, _ := arrayElems(b, c.vs, depth+1)
			for _, el := range els {
				var subnet, ipRange netip.Prefix
				fs, _, _ := objectMembers(b, el.start, depth+2)
				for _, f := range fs {
					s, _ := jsonString(b, f.vs, f.ve)
					p, err := netip.ParsePrefix(s)
					if err != nil {
						continue
					}
					switch {
					case jsonscan.KeyEqualFold(f.key, "Subnet"):
						subnet = p.Masked()
					case jsonscan.KeyEqualFold(f.key, "IPRange"):
						ipRange = p.Masked()
					}
				}
				if subnet.IsValid() && ipRange.IsValid() {
					ranges[subnet] = ipRange
				}
			}
		}
	}
	return ranges
}

// adjustIPAMStatus rewrites Status.IPAM.Subnets in the Status member st.
func adjustIPAMStatus(e *editor, st member, depth int, removed map[string]addrs, ranges map[netip.Prefix]netip.Prefix) error {
	b := e.body
	subnets, err := objectPath(b, st, depth, "IPAM", "Subnets")
	if err != nil || len(subnets) == 0 {
		return err
	}
	for _, sn := range subnets {
		if isNull(b, sn.vs) {
			continue
		}
		if b[sn.vs] != '{' {
			return shape("network", "a Status.IPAM.Subnets entry is not an object")
		}
		ms, _, err := objectMembers(b, sn.vs, depth+3)
		if err != nil {
			return scanErr("network", err)
		}
		key, _ := jsonscan.Unquote(sn.key)
		prefix, err := netip.ParsePrefix(key)
		if err != nil {
			continue // not a subnet the engine would report; nothing to match
		}
		prefix = prefix.Masked()
		dyn, ok := ranges[prefix]
		if !ok {
			dyn = prefix
		}
		var inUse, inRange uint64
		for _, a := range removed {
			for _, ip := range [2]netip.Addr{a.v4, a.v6} {
				if ip.IsValid() && prefix.Contains(ip) {
					inUse++
					if dyn.Contains(ip) {
						inRange++
					}
				}
			}
		}
		if inUse == 0 {
			continue
		}
		for _, f := range ms {
			switch {
			case jsonscan.KeyEqualFold(f.key, "IPsInUse"):
				if isNull(b, f.vs) {
					continue // a client reads 0, and so would the smaller engine's
				}
				n, ok := jsonUint(b, f.vs, f.ve)
				if !ok {
					return shape("network", "IPsInUse is not an unsigned integer")
				}
				if n != math.MaxUint64 {
					setUint(e, f, n, n-min(n, inUse))
				}
			case jsonscan.KeyEqualFold(f.key, "DynamicIPsAvailable"):
				if isNull(b, f.vs) {
					continue // a client reads 0, and so would the smaller engine's
				}
				n, ok := jsonUint(b, f.vs, f.ve)
				if !ok {
					return shape("network", "DynamicIPsAvailable is not an unsigned integer")
				}
				sum := n + inRange
				if sum < n {
					sum = math.MaxUint64
				}
				setUint(e, f, n, sum)
			}
		}
	}
	return nil
}

// setUint replaces the number of member f when it changes.
func setUint(e *editor, f member, old, n uint64) {
	if n != old {
		e.replace(f.vs, f.ve, strconv.FormatUint(n, 10))
	}
}

// objectPath follows object members named path from the member m, every
// one matched as encoding/json binds keys, and returns the members of the
// objects found at the end (all of them when keys repeat). A null on the
// way ends that branch; any other non-object is malformed.
func objectPath(b []byte, m member, depth int, path ...string) ([]member, error) {
	const what = "response"
	cur := []member{m}
	for level := 0; level <= len(path); level++ {
		var next []member
		for _, c := range cur {
			if isNull(b, c.vs) {
				continue
			}
			if b[c.vs] != '{' {
				return nil, shape(what, "%q is not an object", c.key)
			}
			ms, _, err := objectMembers(b, c.vs, depth+level)
			if err != nil {
				return nil, scanErr(what, err)
			}
			for _, x := range ms {
				if level == len(path) || jsonscan.KeyEqualFold(x.key, path[level]) {
					next = append(next, x)
				}
			}
		}
		cur = next
	}
	return cur, nil
}
