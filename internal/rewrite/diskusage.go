package rewrite

import (
	"bytes"
	"github.com/dpf-dev/docker-proxy-filter/internal/jsonscan"
)

// ErrNoContainerList reports a GET /system/df body with figures that count
// containers (an image's "Containers", a volume's "RefCount", container
// usage totals) but without the container list they could be recounted
// from: ?type=image or ?type=volume (API >= 1.42) leave the containers out.
// Such a body must not be forwarded, since its counts include hidden
// containers; a proxy can ask the engine again with type=container added
// and drop that section itself. It wraps ErrMalformed, so a caller that
// only checks ErrMalformed fails safe.
var ErrNoContainerList = malformed("system df: container-derived figures without the container list")

// DiskUsage rewrites a GET /system/df body so that it describes only the
// containers for which keepContainer returns true (a nil keepContainer
// keeps all). Both shapes are
// handled: the legacy one (LayersSize, Images, Containers, Volumes,
// BuildCache; all API versions below 1.52, and 1.52+ unless verbose=1)
// and the API 1.52+ one (ImageUsage, ContainerUsage, VolumeUsage,
// BuildCacheUsage, each {ActiveCount, Items, Reclaimable, TotalCount,
// TotalSize}); engine 29 sends both at once by default.
//
// What it recomputes, from the visible containers of ContainerUsage.Items
// (or, without it, of Containers, which lists the same containers):
//   - Containers[] and ContainerUsage.Items lose the hidden containers;
//   - ContainerUsage: TotalCount (visible containers), ActiveCount
//     (running, paused or restarting ones), TotalSize (sum of SizeRw) and
//     Reclaimable (SizeRw of the inactive ones), the engine's own formulas;
//   - every image's "Containers" in Images[] and ImageUsage.Items (visible
//     containers whose ImageID is the image's Id; a negative count, the
//     engine's "not computed", stays), and ImageUsage.ActiveCount and
//     Reclaimable for the images whose count moved between zero and
//     non-zero, by the formula of the engine that sent it (29.4+: unused
//     images add Size-SharedSize; 29.0-29.3 subtracted it from TotalSize;
//     told apart from the figures themselves);
//   - every volume's UsageData.RefCount in Volumes[] and VolumeUsage.Items
//     (visible containers with a "volume" mount of that Name; a negative
//     count stays), and VolumeUsage.ActiveCount and Reclaimable for
//     volumes whose count moved between zero and non-zero (a volume with
//     Size -1 always counts as active, as in the engine).
//
// The usage objects' numbers are omitempty in the engine, so a figure that
// becomes 0 is removed and one that becomes non-zero is inserted in the
// engine's (alphabetical) member order, and an Items list emptied by the
// filter is removed. Nothing else is re-encoded.
//
// Left as sent, because containers do not enter them: LayersSize,
// BuilderSize, the build cache, images' and volumes' TotalCount and
// TotalSize, image Size and SharedSize (the engine counts layers shared
// between images, never with containers) and volume Size.
//
// Not exactly reproducible: a count the engine makes by its own rule
// rather than from the listed data. The graphdriver store counts an
// image's containers by ImageID, as done here, but the containerd store
// counts containers by image manifest (a container without a recorded
// manifest is not counted); the volume store counts references, which a
// container being created or removed may hold without listing the mount.
// Those counts are recounted from the visible list, so in such corner
// cases they can differ from what the smaller engine would say, but they
// never reflect hidden containers. When no listed container is hidden the
// body comes back unchanged (and is body itself).
//
// A body that is not one JSON object, or whose members listed above have
// the wrong types, gives an error wrapping ErrMalformed; ErrNoContainerList
// when there is no container list to recount from.
func DiskUsage(body []byte, keepContainer func(id string) bool) ([]byte, error) {
	return DiskUsageRewriting(body, keepContainer, nil, nil)
}

// DiskUsageRewriting is DiskUsage that also checks each container summary
// the ID check keeps with keepNamed(id, its primary name) (the answer may
// be newer than what keepContainer knows: a container renamed onto a
// hidden name a moment ago), keeping only what both keep, and passes each
// kept summary through element, which returns it as it is or rewritten:
// the summaries have the shape of GET /containers/json elements and need
// what those need (a hidden linker's alias in Names, say). nil for either
// changes nothing.
func DiskUsageRewriting(body []byte, keepContainer func(id string) bool, keepNamed func(id, name string) bool, element func(summary []byte) []byte) ([]byte, error) {
	ms, err := topMembers(body)
	if err != nil {
		return nil, scanErr("system df", err)
	}
	d := &diskUsage{e: &editor{body: body}, keep: keepContainer, keepNamed: keepNamed, element: element}
	for _, m := range ms {
		switch {
		case jsonscan.KeyEqualFold(m.key, "Containers"):
			d.legacy = append(d.legacy, m)
		case jsonscan.KeyEqualFold(m.key, "Images"):
			d.images = append(d.images, m)
		case jsonscan.KeyEqualFold(m.key, "Volumes"):
			d.volumes = append(d.volumes, m)
		case jsonscan.KeyEqualFold(m.key, "ContainerUsage"):
			d.ctrUsage = append(d.ctrUsage, m)
		case jsonscan.KeyEqualFold(m.key, "ImageUsage"):
			d.imgUsage = append(d.imgUsage, m)
		case jsonscan.KeyEqualFold(m.key, "VolumeUsage"):
			d.volUsage = append(d.volUsage, m)
		}
	}
	if err := d.run(); err != nil {
		return nil, err
	}
	return d.e.apply()
}

// diskUsage is the state of one DiskUsage call.
type diskUsage struct {
	e         *editor
	keep      func(string) bool
	keepNamed func(id, name string) bool // nil: decided by keep alone
	element   func([]byte) []byte        // nil: kept summaries pass as they are

	// Top-level members by kind (repeated keys are all rewritten).
	legacy, images, volumes, ctrUsage, imgUsage, volUsage []member

	// The container list counts are taken from: known says there is one;
	// hidden says it has hidden containers, i.e. figures must change.
	known, hidden bool
	visible       []dfContainer
	byImage       map[string]int64 // visible containers per ImageID
	byVolume      map[string]int64 // visible containers per volume name
}

// dfContainer is what the figures need from one container summary.
type dfContainer struct {
	id, state, imageID string
	sizeRw             int64
	volumes            []string // Names of its volume mounts
	hidden             bool
}

func (d *diskUsage) run() error {
	b := d.e.body
	// The container lists: filter each, count from the last one a client
	// would decode, preferring ContainerUsage.Items.
	var source []dfContainer
	for _, m := range d.legacy {
		cs, listed, err := d.filterContainers(m, 1, false)
		if err != nil {
			return err
		}
		if listed {
			source, d.known = cs, true
		}
	}
	usages := make([]*usageObject, len(d.ctrUsage))
	var fromItems []dfContainer
	haveItems := false
	for k, m := range d.ctrUsage {
		u, err := newUsageObject(b, m, 1)
		if err != nil {
			return err
		}
		if u == nil {
			continue
		}
		usages[k] = u
		for i, f := range u.ms {
			if !jsonscan.KeyEqualFold(f.key, "Items") {
				continue
			}
			cs, listed, err := d.filterContainers(f, 2, true)
			if err != nil {
				return err
			}
			if listed {
				fromItems, haveItems = cs, true
			}
			if listed && len(cs) > 0 && countVisible(cs) == 0 {
				u.drop[i] = true // omitempty: an emptied Items goes away
			}
		}
	}
	if haveItems {
		source, d.known = fromItems, true
	}
	d.index(source)
	for _, u := range usages {
		if u == nil {
			continue
		}
		if err := d.containerUsage(u); err != nil {
			return err
		}
	}
	if err := d.rewriteImages(); err != nil {
		return err
	}
	return d.rewriteVolumes()
}

// index records the visible containers of the source list.
func (d *diskUsage) index(source []dfContainer) {
	d.byImage = map[string]int64{}
	d.byVolume = map[string]int64{}
	for _, c := range source {
		if c.hidden {
			d.hidden = true
			continue
		}
		d.visible = append(d.visible, c)
		d.byImage[c.imageID]++
		seen := map[string]bool{}
		for _, v := range c.volumes {
			if !seen[v] {
				seen[v] = true
				d.byVolume[v]++
			}
		}
	}
}

func countVisible(cs []dfContainer) int {
	n := 0
	for _, c := range cs {
		if !c.hidden {
			n++
		}
	}
	return n
}

// containerUsage recomputes one ContainerUsage object.
func (d *diskUsage) containerUsage(u *usageObject) error {
	if !d.known {
		if err := u.requireZero(d.e.body, "ActiveCount", "Reclaimable", "TotalCount", "TotalSize"); err != nil {
			return err
		}
		return u.finish(d.e)
	}
	if d.hidden {
		var active, size, reclaimable int64
		for _, c := range d.visible {
			size += c.sizeRw
			switch c.state {
			case "running", "paused", "restarting":
				active++
			default:
				reclaimable += c.sizeRw
			}
		}
		for _, f := range [...]struct {
			name string
			n    int64
		}{{"ActiveCount", active}, {"Reclaimable", reclaimable}, {"TotalCount", int64(len(d.visible))}, {"TotalSize", size}} {
			if err := u.set(d.e, f.name, f.n); err != nil {
				return err
			}
		}
	}
	return u.finish(d.e)
}

// filterContainers removes the hidden containers from the list in member
// m (values nested depth deep) and returns what the figures need from all
// of them; listed is false for null. In a usage object (usage) the whole
// Items member is dropped instead when nothing visible is left.
func (d *diskUsage) filterContainers(m member, depth int, usage bool) ([]dfContainer, bool, error) {
	b := d.e.body
	if isNull(b, m.vs) {
		return nil, true, nil
	}
	if b[m.vs] != '[' {
		return nil, false, shape("system df", "a container list is not an array")
	}
	els, _, err := arrayElems(b, m.vs, depth)
	if err != nil {
		return nil, false, scanErr("system df", err)
	}
	cs := make([]dfContainer, len(els))
	drop := make([]bool, len(els))
	for k, el := range els {
		if cs[k], err = readContainer(b, el.start, depth+1); err != nil {
			return nil, false, err
		}
		cs[k].hidden = d.keep != nil && !d.keep(cs[k].id)
		if !cs[k].hidden && d.keepNamed != nil {
			name, err := SummaryName(b[el.start:el.end])
			if err != nil {
				return nil, false, scanErr("system df", err)
			}
			cs[k].hidden = !d.keepNamed(cs[k].id, name)
		}
		drop[k] = cs[k].hidden
		if !drop[k] && d.element != nil {
			summary := b[el.start:el.end]
			if out := d.element(summary); !bytes.Equal(out, summary) {
				d.e.replace(el.start, el.end, string(out))
			}
		}
	}
	if !usage || countVisible(cs) > 0 || len(cs) == 0 {
		d.e.dropItems(els, drop)
	}
	return cs, true, nil
}

// readContainer reads the container summary object at b[i].
func readContainer(b []byte, i, depth int) (dfContainer, error) {
	var c dfContainer
	if b[i] != '{' {
		return c, shape("system df", "a container is not an object")
	}
	ms, _, err := objectMembers(b, i, depth)
	if err != nil {
		return c, scanErr("system df", err)
	}
	for _, m := range ms {
		switch {
		case jsonscan.KeyEqualFold(m.key, "Id"):
			err = setStr(b, m, &c.id)
		case jsonscan.KeyEqualFold(m.key, "State"):
			err = setStr(b, m, &c.state)
		case jsonscan.KeyEqualFold(m.key, "ImageID"):
			err = setStr(b, m, &c.imageID)
		case jsonscan.KeyEqualFold(m.key, "SizeRw"):
			err = setInt(b, m, &c.sizeRw)
		case jsonscan.KeyEqualFold(m.key, "Mounts"):
			c.volumes, err = volumeMounts(b, m, depth+1)
		}
		if err != nil {
			return c, err
		}
	}
	return c, nil
}

// volumeMounts returns the Names of the "volume" mounts in a Mounts list.
func volumeMounts(b []byte, m member, depth int) ([]string, error) {
	if isNull(b, m.vs) {
		return nil, nil
	}
	if b[m.vs] != '[' {
		return nil, shape("system df", `"Mounts" is not an array`)
	}
	els, _, err := arrayElems(b, m.vs, depth)
	if err != nil {
		return nil, scanErr("system df", err)
	}
	var names []string
	for _, el := range els {
		if isNull(b, el.start) {
			continue
		}
		if b[el.start] != '{' {
			return nil, shape("system df", "a mount is not an object")
		}
		fs, _, err := objectMembers(b, el.start, depth+1)
		if err != nil {
			return nil, scanErr("system df", err)
		}
		var typ, name string
		for _, f := range fs {
			switch {
			case jsonscan.KeyEqualFold(f.key, "Type"):
				err = setStr(b, f, &typ)
			case jsonscan.KeyEqualFold(f.key, "Name"):
				err = setStr(b, f, &name)
			}
			if err != nil {
				return nil, err
			}
		}
		if name != "" && (typ == "volume" || typ == "") {
			names = append(names, name)
		}
	}
	return names, nil
}

// setStr binds a string member as encoding/json does: null leaves *dst.
func setStr(b []byte, m member, dst *string) error {
	return bindString(b, m, dst, "system df")
}

// setInt binds an integer member as encoding/json does: null leaves *dst.
func setInt(b []byte, m member, dst *int64) error {
	if isNull(b, m.vs) {
		return nil
	}
	n, ok := jsonInt(b, m.vs, m.ve)
	if !ok {
		return shape("system df", "%q is not an integer", m.key)
	}
	*dst = n
	return nil
}
