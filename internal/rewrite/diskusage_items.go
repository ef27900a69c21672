package rewrite

import (
	"github.com/dpf-dev/docker-proxy-filter/internal/jsonscan"
)

// dfItem is an image or a volume of a /system/df list: its container
// count before and after filtering, and its sizes (valid is false when
// the engine could not compute them, Size or SharedSize -1).
type dfItem struct {
	old, new    int64
	size, share int64
	valid       bool
}

// rewriteImages recounts the images' containers in Images[] and
// ImageUsage.Items, and ImageUsage's figures that follow from them.
func (d *diskUsage) rewriteImages() error {
	for _, m := range d.images {
		if _, err := d.itemList(m, 1, d.image); err != nil {
			return err
		}
	}
	for _, m := range d.imgUsage {
		u, items, err := d.usageItems(m, d.image)
		if err != nil {
			return err
		}
		if u == nil {
			continue
		}
		// Images with a count of 0 are unused; the rest active. 29.4+
		// adds an unused image's Size-SharedSize to Reclaimable,
		// 29.0-29.3 subtracted it from TotalSize.
		var active, recl, unusedSize int64
		for _, it := range items {
			active += b2i(it.new > 0) - b2i(it.old > 0)
			if it.valid {
				recl += (it.size - it.share) * (b2i(it.new == 0) - b2i(it.old == 0))
				unusedSize += (it.size - it.share) * b2i(it.old == 0)
			}
		}
		if active != 0 || recl != 0 {
			b := d.e.body
			oldActive, err := u.get(b, "ActiveCount")
			if err != nil {
				return err
			}
			oldRecl, err := u.get(b, "Reclaimable")
			if err != nil {
				return err
			}
			total, err := u.get(b, "TotalSize")
			if err != nil {
				return err
			}
			if oldRecl == total-unusedSize && oldRecl != unusedSize {
				recl = -recl
			}
			if err := u.set(d.e, "ActiveCount", oldActive+active); err != nil {
				return err
			}
			if err := u.set(d.e, "Reclaimable", oldRecl+recl); err != nil {
				return err
			}
		}
		if err := u.finish(d.e); err != nil {
			return err
		}
	}
	return nil
}

// rewriteVolumes recounts the volumes' references in Volumes[] and
// VolumeUsage.Items, and VolumeUsage's figures that follow from them: a
// volume with a known Size and no reference is inactive and reclaimable.
func (d *diskUsage) rewriteVolumes() error {
	for _, m := range d.volumes {
		if _, err := d.itemList(m, 1, d.volume); err != nil {
			return err
		}
	}
	for _, m := range d.volUsage {
		u, items, err := d.usageItems(m, d.volume)
		if err != nil {
			return err
		}
		if u == nil {
			continue
		}
		var active, recl int64
		for _, it := range items {
			if it.size == -1 {
				continue
			}
			was, is := b2i(it.old == 0), b2i(it.new == 0)
			active += was - is
			recl += it.size * (is - was)
		}
		if active != 0 || recl != 0 {
			b := d.e.body
			oldActive, err := u.get(b, "ActiveCount")
			if err != nil {
				return err
			}
			oldRecl, err := u.get(b, "Reclaimable")
			if err != nil {
				return err
			}
			if err := u.set(d.e, "ActiveCount", oldActive+active); err != nil {
				return err
			}
			if err := u.set(d.e, "Reclaimable", oldRecl+recl); err != nil {
				return err
			}
		}
		if err := u.finish(d.e); err != nil {
			return err
		}
	}
	return nil
}

// usageItems opens a usage object and rewrites the items of its (last)
// Items list with item; u is nil for a null usage object.
func (d *diskUsage) usageItems(m member, item func(int, int) (dfItem, error)) (*usageObject, []dfItem, error) {
	u, err := newUsageObject(d.e.body, m, 1)
	if err != nil || u == nil {
		return nil, nil, err
	}
	var items []dfItem
	listed := false
	for _, f := range u.ms {
		if jsonscan.KeyEqualFold(f.key, "Items") {
			if items, err = d.itemList(f, 2, item); err != nil {
				return nil, nil, err
			}
			listed = true
		}
	}
	if !listed && (!d.known || d.hidden) {
		// Without Items, an ActiveCount may count hidden containers'
		// images or volumes and there is nothing to recount it from
		// (the engine always sends Items; this is not its shape).
		if n, err := u.get(d.e.body, "ActiveCount"); err != nil || n != 0 {
			if err == nil {
				err = shape("system df", "%s figures without Items", m.key)
			}
			return nil, nil, err
		}
	}
	return u, items, nil
}

// itemList rewrites each element of the list in member m (values nested
// depth deep) with item.
func (d *diskUsage) itemList(m member, depth int, item func(i, depth int) (dfItem, error)) ([]dfItem, error) {
	b := d.e.body
	if isNull(b, m.vs) {
		return nil, nil
	}
	if b[m.vs] != '[' {
		return nil, shape("system df", "%q is not an array", m.key)
	}
	els, _, err := arrayElems(b, m.vs, depth)
	if err != nil {
		return nil, scanErr("system df", err)
	}
	items := make([]dfItem, len(els))
	for k, el := range els {
		if b[el.start] != '{' {
			return nil, shape("system df", "an element of %q is not an object", m.key)
		}
		if items[k], err = item(el.start, depth+1); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// image recounts the "Containers" of the image summary at b[i].
func (d *diskUsage) image(i, depth int) (dfItem, error) {
	b := d.e.body
	ms, _, err := objectMembers(b, i, depth)
	if err != nil {
		return dfItem{}, scanErr("system df", err)
	}
	var it dfItem
	var id string
	var counts []member
	for _, m := range ms {
		switch {
		case jsonscan.KeyEqualFold(m.key, "Id"):
			err = setStr(b, m, &id)
		case jsonscan.KeyEqualFold(m.key, "Containers"):
			err = setInt(b, m, &it.old)
			counts = append(counts, m)
		case jsonscan.KeyEqualFold(m.key, "Size"):
			err = setInt(b, m, &it.size)
		case jsonscan.KeyEqualFold(m.key, "SharedSize"):
			err = setInt(b, m, &it.share)
		}
		if err != nil {
			return it, err
		}
	}
	it.valid = it.size != -1 && it.share != -1
	if len(counts) == 0 {
		it.new = it.old // nothing a client would see to recount
		return it, nil
	}
	it.new, err = d.recount(it.old, d.byImage[id])
	if err == nil && it.new != it.old {
		replaceInts(d.e, counts, it.new)
	}
	return it, err
}

// volume recounts UsageData.RefCount of the volume at b[i]. size is -1
// when UsageData is null, so that the volume takes no part in the totals.
func (d *diskUsage) volume(i, depth int) (dfItem, error) {
	b := d.e.body
	ms, _, err := objectMembers(b, i, depth)
	if err != nil {
		return dfItem{}, scanErr("system df", err)
	}
	it := dfItem{size: -1}
	var name string
	var usage []member
	for _, m := range ms {
		switch {
		case jsonscan.KeyEqualFold(m.key, "Name"):
			err = setStr(b, m, &name)
		case jsonscan.KeyEqualFold(m.key, "UsageData"):
			usage = append(usage, m)
		}
		if err != nil {
			return it, err
		}
	}
	var counts []member
	for _, u := range usage {
		if isNull(b, u.vs) {
			continue
		}
		if b[u.vs] != '{' {
			return it, shape("system df", `"UsageData" is not an object`)
		}
		fs, _, err := objectMembers(b, u.vs, depth+1)
		if err != nil {
			return it, scanErr("system df", err)
		}
		it.size = 0
		for _, f := range fs {
			switch {
			case jsonscan.KeyEqualFold(f.key, "RefCount"):
				err = setInt(b, f, &it.old)
				counts = append(counts, f)
			case jsonscan.KeyEqualFold(f.key, "Size"):
				err = setInt(b, f, &it.size)
			}
			if err != nil {
				return it, err
			}
		}
	}
	if len(counts) == 0 {
		it.new = it.old
		return it, nil
	}
	it.new, err = d.recount(it.old, d.byVolume[name])
	if err == nil && it.new != it.old {
		replaceInts(d.e, counts, it.new)
	}
	return it, err
}

// recount returns the count to send for an engine count old, given the
// visible count: negative counts (not computed) stay, and nothing changes
// when no listed container is hidden.
func (d *diskUsage) recount(old, visible int64) (int64, error) {
	switch {
	case old < 0:
		return old, nil
	case !d.known:
		if old > 0 {
			return 0, ErrNoContainerList
		}
		return old, nil
	case !d.hidden:
		return old, nil
	}
	return visible, nil
}
