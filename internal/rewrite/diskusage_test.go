package rewrite

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// dfView is what a client decodes of a /system/df body.
type dfView struct {
	Images     []dfImageView
	Containers []dfCtrView
	Volumes    []dfVolView
	ImageUsage *struct {
		ActiveCount, Reclaimable, TotalCount, TotalSize int64
		Items                                           []dfImageView
	}
	ContainerUsage *struct {
		ActiveCount, Reclaimable, TotalCount, TotalSize int64
		Items                                           []dfCtrView
	}
	VolumeUsage *struct {
		ActiveCount, Reclaimable, TotalCount, TotalSize int64
		Items                                           []dfVolView
	}
}

type dfImageView struct {
	ID                           string `json:"Id"`
	Containers, Size, SharedSize int64
}

type dfCtrView struct {
	ID      string `json:"Id"`
	ImageID string
	State   string
	SizeRw  int64
	Mounts  []struct{ Type, Name string }
}

type dfVolView struct {
	Name      string
	UsageData *struct{ RefCount, Size int64 }
}

func TestDiskUsageFixtures(t *testing.T) {
	for _, dir := range []string{"engine-20.10", "engine-29.7", "private-20.10"} {
		t.Run(dir, func(t *testing.T) {
			in := httpBody(t, dir+"/system-df.http")
			visible, all := homepageIDs(t, decode[struct{ Containers json.RawMessage }](t, in).Containers)
			got, err := DiskUsage(in, (&inSet{ids: visible}).keep)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, dir+"-system-df.json", got)
			checkDiskUsage(t, decode[dfView](t, in), decode[dfView](t, got), visible)
			same, err := DiskUsage(in, (&inSet{ids: all}).keep)
			if err != nil || !sameSlice(in, same) {
				t.Errorf("keeping every container changed the body (err %v)", err)
			}
		})
	}
}

// checkDiskUsage checks the client's view of a filtered df body against
// the input: only visible containers, every count recounted from them.
func checkDiskUsage(t *testing.T, in, out dfView, visible map[string]bool) {
	t.Helper()
	var want []dfCtrView
	for _, c := range in.Containers {
		if visible[c.ID] {
			want = append(want, c)
		}
	}
	if len(out.Containers) != len(want) {
		t.Fatalf("%d containers left, want %d", len(out.Containers), len(want))
	}
	byImage, byVolume := map[string]int64{}, map[string]int64{}
	var active, size, recl int64
	for _, c := range want {
		byImage[c.ImageID]++
		seen := map[string]bool{}
		for _, m := range c.Mounts {
			if m.Name != "" && !seen[m.Name] && (m.Type == "volume" || m.Type == "") {
				seen[m.Name] = true
				byVolume[m.Name]++
			}
		}
		size += c.SizeRw
		if c.State == "running" || c.State == "paused" || c.State == "restarting" {
			active++
		} else {
			recl += c.SizeRw
		}
	}
	for i, img := range out.Images {
		if in.Images[i].Containers >= 0 && img.Containers != byImage[img.ID] {
			t.Errorf("image %s: Containers %d, want %d", img.ID, img.Containers, byImage[img.ID])
		}
	}
	for _, v := range out.Volumes {
		if v.UsageData != nil && v.UsageData.RefCount >= 0 && v.UsageData.RefCount != byVolume[v.Name] {
			t.Errorf("volume %s: RefCount %d, want %d", v.Name, v.UsageData.RefCount, byVolume[v.Name])
		}
	}
	if u := out.ContainerUsage; u != nil {
		if u.TotalCount != int64(len(want)) || u.ActiveCount != active || u.TotalSize != size || u.Reclaimable != recl || len(u.Items) != len(want) {
			t.Errorf("ContainerUsage %+v, want %d items, active %d, size %d, reclaimable %d", u, len(want), active, size, recl)
		}
	}
}

func TestDiskUsage(t *testing.T) {
	ctr := func(id, state, image string, size int, vols ...string) string {
		var mounts []string
		for _, v := range vols {
			mounts = append(mounts, `{"Type":"volume","Name":"`+v+`","Destination":"/`+v+`"}`)
		}
		s := `{"Id":"` + id + `","ImageID":"` + image + `","State":"` + state + `"`
		if size > 0 {
			s += `,"SizeRw":` + itoa(size)
		}
		return s + `,"Mounts":[` + strings.Join(mounts, ",") + `]}`
	}
	a := ctr("a", "running", "i1", 10, "v1")            // visible
	b := ctr("b", "exited", "i1", 20, "v1", "v2", "v1") // hidden
	c := ctr("c", "exited", "i2", 5)                    // visible
	h := ctr("h", "running", "i2", 0, "v2")             // hidden
	keep := func(id string) bool { return id == "a" || id == "c" }
	tests := []struct{ name, in, want string }{
		{name: "container usage", in: `{"ContainerUsage":{"ActiveCount":1,"Items":[` + a + `,` + b + `,` + c + `],"Reclaimable":25,"TotalCount":3,"TotalSize":35}}`,
			want: `{"ContainerUsage":{"ActiveCount":1,"Items":[` + a + `,` + c + `],"Reclaimable":5,"TotalCount":2,"TotalSize":15}}`},
		{name: "all hidden", in: `{"Containers":[` + b + `,` + h + `],"ContainerUsage":{"ActiveCount":1,"Items":[` + b + `,` + h + `],"Reclaimable":20,"TotalCount":2,"TotalSize":20}}` + "\n",
			want: `{"Containers":[],"ContainerUsage":{}}` + "\n"},
		{name: "legacy lists", in: `{"LayersSize":9,"Images":[{"Containers":2,"Id":"i1"},{"Containers":-1,"Id":"i2"},{"Containers":0,"Id":"i3"}],"Containers":[` + a + `,` + b + `],"Volumes":[{"Name":"v1","UsageData":{"RefCount":2,"Size":0}},{"Name":"v2","UsageData":{"RefCount":-1,"Size":-1}},{"Name":"v3","UsageData":null}],"BuildCache":null}`,
			want: `{"LayersSize":9,"Images":[{"Containers":1,"Id":"i1"},{"Containers":-1,"Id":"i2"},{"Containers":0,"Id":"i3"}],"Containers":[` + a + `],"Volumes":[{"Name":"v1","UsageData":{"RefCount":1,"Size":0}},{"Name":"v2","UsageData":{"RefCount":-1,"Size":-1}},{"Name":"v3","UsageData":null}],"BuildCache":null}`},
		{name: "image usage becomes reclaimable", in: `{"Containers":[` + b + `],"ImageUsage":{"ActiveCount":1,"Items":[{"Containers":1,"Id":"i1","SharedSize":30,"Size":100}],"TotalCount":1,"TotalSize":100}}`,
			want: `{"Containers":[],"ImageUsage":{"Items":[{"Containers":0,"Id":"i1","SharedSize":30,"Size":100}],"Reclaimable":70,"TotalCount":1,"TotalSize":100}}`},
		{name: "image usage 29.0 formula", in: `{"Containers":[` + b + `],"ImageUsage":{"ActiveCount":1,"Items":[{"Containers":1,"Id":"i1","SharedSize":0,"Size":100},{"Containers":0,"Id":"i9","SharedSize":0,"Size":50}],"Reclaimable":100,"TotalCount":2,"TotalSize":150}}`,
			want: `{"Containers":[],"ImageUsage":{"Items":[{"Containers":0,"Id":"i1","SharedSize":0,"Size":100},{"Containers":0,"Id":"i9","SharedSize":0,"Size":50}],"TotalCount":2,"TotalSize":150}}`},
		{name: "image without sizes", in: `{"Containers":[` + b + `],"ImageUsage":{"ActiveCount":1,"Items":[{"Containers":1,"Id":"i1","SharedSize":-1,"Size":100}],"TotalCount":1}}`,
			want: `{"Containers":[],"ImageUsage":{"Items":[{"Containers":0,"Id":"i1","SharedSize":-1,"Size":100}],"TotalCount":1}}`},
		{name: "volume usage", in: `{"Containers":[` + a + `,` + b + `,` + h + `],"VolumeUsage":{"ActiveCount":3,"Items":[{"Name":"v1","UsageData":{"RefCount":2,"Size":10}},{"Name":"v2","UsageData":{"RefCount":2,"Size":7}},{"Name":"v3","UsageData":{"RefCount":1,"Size":-1}}],"TotalCount":3,"TotalSize":17}}`,
			want: `{"Containers":[` + a + `],"VolumeUsage":{"ActiveCount":2,"Items":[{"Name":"v1","UsageData":{"RefCount":1,"Size":10}},{"Name":"v2","UsageData":{"RefCount":0,"Size":7}},{"Name":"v3","UsageData":{"RefCount":0,"Size":-1}}],"Reclaimable":7,"TotalCount":3,"TotalSize":17}}`},
		{name: "items preferred", in: `{"Containers":null,"ContainerUsage":{"Items":[` + c + `,` + h + `],"TotalCount":2,"ActiveCount":1,"Reclaimable":5,"TotalSize":5}}`,
			want: `{"Containers":null,"ContainerUsage":{"Items":[` + c + `],"TotalCount":1,"Reclaimable":5,"TotalSize":5}}`},
		{name: "whitespace", in: "{ \"Containers\" : [ " + a + " , " + b + " ] , \"ContainerUsage\" : { \"ActiveCount\" : 1 , \"TotalCount\" : 2 } }",
			want: "{ \"Containers\" : [ " + a + " ] , \"ContainerUsage\" : { \"ActiveCount\" : 1 , \"TotalCount\" : 1,\"TotalSize\":10 } }"},
		{name: "insert after last", in: `{"Containers":[` + b + `],"ImageUsage":{"Items":[{"Containers":1,"Id":"i1","Size":5,"SharedSize":0}],"ActiveCount":1}}`,
			want: `{"Containers":[],"ImageUsage":{"Items":[{"Containers":0,"Id":"i1","Size":5,"SharedSize":0}],"Reclaimable":5}}`},
		{name: "usage without items", in: `{"Containers":[` + a + `],"ImageUsage":{"ActiveCount":1},"VolumeUsage":{"ActiveCount":1}}`,
			want: `{"Containers":[` + a + `],"ImageUsage":{"ActiveCount":1},"VolumeUsage":{"ActiveCount":1}}`},
		{name: "nothing to count", in: `{"Images":[{"Containers":0,"Id":"i1"}],"Volumes":[{"Name":"v","UsageData":{"RefCount":0,"Size":1}}],"ImageUsage":{"TotalCount":1}}`,
			want: `{"Images":[{"Containers":0,"Id":"i1"}],"Volumes":[{"Name":"v","UsageData":{"RefCount":0,"Size":1}}],"ImageUsage":{"TotalCount":1}}`},
		{name: "null usages", in: `{"ContainerUsage":null,"ImageUsage":null,"VolumeUsage":null,"Containers":[` + b + `]}`,
			want: `{"ContainerUsage":null,"ImageUsage":null,"VolumeUsage":null,"Containers":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DiskUsage([]byte(tt.in), keep)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestDiskUsageRewritingKeptSummaries: each kept container summary, in both
// lists, goes through the element rewriter; hidden ones are dropped unseen.
func TestDiskUsageRewritingKeptSummaries(t *testing.T) {
	a := `{"Id":"a","Names":["/web","/hidden/alias"],"State":"running"}`
	b := `{"Id":"b","Names":["/hidden"],"State":"running"}`
	var seen []string
	element := func(summary []byte) []byte {
		seen = append(seen, string(summary))
		return []byte(strings.Replace(string(summary), `,"/hidden/alias"`, "", 1))
	}
	in := `{"Containers":[` + a + `,` + b + `],"ContainerUsage":{"ActiveCount":2,"Items":[` + b + `,` + a + `],"TotalCount":2}}`
	got, err := DiskUsageRewriting([]byte(in), func(id string) bool { return id == "a" }, nil, element)
	if err != nil {
		t.Fatal(err)
	}
	clean := `{"Id":"a","Names":["/web"],"State":"running"}`
	want := `{"Containers":[` + clean + `],"ContainerUsage":{"ActiveCount":1,"Items":[` + clean + `],"TotalCount":1}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if len(seen) != 2 || seen[0] != a || seen[1] != a {
		t.Errorf("element saw %q, want the kept summary once per list", seen)
	}
}

func TestDiskUsageNoContainerList(t *testing.T) {
	for _, in := range []string{
		`{"Images":[{"Containers":2,"Id":"i1"}]}`,
		`{"ImageUsage":{"Items":[{"Containers":1,"Id":"i1"}],"ActiveCount":1}}`,
		`{"Volumes":[{"Name":"v","UsageData":{"RefCount":1,"Size":0}}]}`,
		`{"ContainerUsage":{"TotalCount":3}}`,
	} {
		got, err := DiskUsage([]byte(in), func(string) bool { return true })
		if !errors.Is(err, ErrNoContainerList) || !errors.Is(err, ErrMalformed) || got != nil {
			t.Errorf("DiskUsage(%s) = %s, %v; want ErrNoContainerList", in, got, err)
		}
	}
}

func TestDiskUsageMalformed(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `{`, `{"Containers":{}}`, `{"Containers":[1]}`, `{"Containers":[{"Id":1}]}`, `{"Containers":[{"SizeRw":1.5}]}`,
		`{"Containers":[{"Mounts":{}}]}`, `{"Containers":[{"Mounts":[1]}]}`, `{"Images":[{"Containers":"1"}],"Containers":[]}`,
		`{"Images":{}}`, `{"Volumes":[{"UsageData":[]}],"Containers":[]}`, `{"Volumes":[{"UsageData":{"RefCount":1e3}}],"Containers":[]}`,
		`{"ContainerUsage":[]}`, `{"ContainerUsage":{"Items":{}}}`, `{"ImageUsage":{"Items":[1]}}`, `{"VolumeUsage":{"Items":[{"Name":2}]}}`,
		`{"ContainerUsage":{"Items":[{"Id":"h"}],"TotalCount":"x"}}`, `{}x`,
		`{"Containers":[{"Id":"h"}],"ImageUsage":{"ActiveCount":1}}`, `{"Containers":[{"Id":"h"}],"VolumeUsage":{"ActiveCount":2}}`,
	} {
		got, err := DiskUsage([]byte(in), func(id string) bool { return id != "h" })
		mustMalformed(t, in, got, err)
	}
}

// TestDiskUsageDecidesSummariesOnTheirOwnNames: a summary the ID check
// keeps is still dropped when its own name is hidden (renamed a moment
// ago, before the caller heard of it).
func TestDiskUsageDecidesSummariesOnTheirOwnNames(t *testing.T) {
	a := `{"Id":"a","Names":["/web"],"State":"running","SizeRw":1}`
	b := `{"Id":"b","Names":["/renamed-secret"],"State":"exited","SizeRw":2}`
	keepNamed := func(id, name string) bool { return strings.HasPrefix(name, "/web") }
	in := `{"Containers":[` + a + `,` + b + `],"ContainerUsage":{"ActiveCount":1,"Items":[` + a + `,` + b + `],"Reclaimable":2,"TotalCount":2,"TotalSize":3}}`
	got, err := DiskUsageRewriting([]byte(in), func(string) bool { return true }, keepNamed, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Containers":[` + a + `],"ContainerUsage":{"ActiveCount":1,"Items":[` + a + `],"TotalCount":1,"TotalSize":1}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if _, err := DiskUsageRewriting([]byte(`{"Containers":[{"Id":"a","Names":7}]}`), func(string) bool { return true }, keepNamed, nil); err == nil {
		t.Error("a summary whose Names is not an array was accepted")
	}
}
