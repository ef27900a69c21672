package main

// The timing side channel of the first outside attack: can a client tell a
// hidden container from a nonexistent one by how long the proxy takes? The
// built binary runs in front of the real engine; hidden and nonexistent refs
// are probed side by side, interleaved, and the answers' latency compared.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// BenchmarkTimingOracle measures, through the shipped binary on the real
// engine (DPF_BENCH_BINARY names another build to measure, e.g. an older
// one; the default is this tree):
//
//   - first-probe: the latency of the first request for a ref, one that
//     names a hidden container against one that names nothing, interleaved.
//     Each hidden ref is fresh (an ID prefix of another length, a name), as
//     an attacker's sweep would be. Reports
//     hidden-p50-us, missing-p50-us and p50-ratio (hidden / missing).
//   - sweep: the time to ask again for 100 refs already settled missing,
//     right after probing a fresh hidden ref and right after probing a fresh
//     nonexistent one (a probe that changed the proxy's state would make the
//     next sweep slower). Reports after-hidden-ms, after-missing-ms and
//     sweep-ratio.
//
// Ratios near 1 mean the proxy's timing does not tell the two apart.
func BenchmarkTimingOracle(b *testing.B) {
	e := enginetest.Require(b)
	key := enginetest.UniqueName(b, "tk")
	visible := e.Run(b, enginetest.RunSpec{Name: key + "-vis", Labels: map[string]string{key + ".app": "v"}})
	var hidden []enginetest.Container
	for i := range 8 {
		hidden = append(hidden, e.Run(b, enginetest.RunSpec{Name: fmt.Sprintf("%s-hid-%d", key, i)}))
	}

	bin := os.Getenv("DPF_BENCH_BINARY")
	if bin == "" {
		var err error
		if bin, err = builtBinary(); err != nil {
			b.Fatal(err)
		}
	}
	addr := freePort(b)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PROXY_URL="+e.Host, "LISTEN="+addr, "CONTAINER_LABELS="+key+".app", "LOG_LEVEL=error")
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	probe := func(ref string) (time.Duration, int) {
		start := time.Now()
		resp, err := client.Get("http://" + addr + "/containers/" + ref + "/json")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(start), resp.StatusCode
	}
	enginetest.Eventually(b, 20*time.Second, "binary serves the visible container", func() bool {
		resp, err := client.Get("http://" + addr + "/containers/" + visible.Name + "/json")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	// Fresh refs of the same shapes for hidden and nonexistent containers:
	// ID prefixes of every length from 12 to 64, and the name.
	refsOf := func(id, name string) []string {
		refs := []string{name}
		for n := 12; n <= 64; n++ {
			refs = append(refs, id[:n])
		}
		return refs
	}
	var hiddenRefs, missingRefs []string
	for i, h := range hidden {
		hiddenRefs = append(hiddenRefs, refsOf(h.ID, h.Name)...)
		sum := sha256.Sum256([]byte(key + "missing" + fmt.Sprint(i)))
		missingRefs = append(missingRefs, refsOf(hex.EncodeToString(sum[:]), fmt.Sprintf("%s-mis-%d", key, i))...)
	}

	// Each half of the fresh refs serves one measurement.
	half := len(hiddenRefs) / 2
	b.Run("first-probe", func(b *testing.B) {
		hiddenRefs, missingRefs := hiddenRefs[:half], missingRefs[:half]
		var hid, mis []time.Duration
		i := 0
		for b.Loop() {
			if i >= len(hiddenRefs) {
				break // every fresh ref is used up: report what was measured
			}
			// Alternate which kind goes first, so that neither gains from
			// what the other left warm.
			probeHidden := func() {
				d, status := probe(hiddenRefs[i])
				if status != http.StatusNotFound {
					b.Fatalf("hidden %s = %d", hiddenRefs[i], status)
				}
				hid = append(hid, d)
			}
			probeMissing := func() {
				d, status := probe(missingRefs[i])
				if status != http.StatusNotFound {
					b.Fatalf("missing %s = %d", missingRefs[i], status)
				}
				mis = append(mis, d)
			}
			if i%2 == 0 {
				probeHidden()
				probeMissing()
			} else {
				probeMissing()
				probeHidden()
			}
			i++
		}
		h, m := p50(hid), p50(mis)
		b.ReportMetric(float64(h.Microseconds()), "hidden-p50-us")
		b.ReportMetric(float64(m.Microseconds()), "missing-p50-us")
		b.ReportMetric(float64(h)/float64(m), "p50-ratio")
	})

	b.Run("sweep", func(b *testing.B) {
		settled := make([]string, 100)
		for j := range settled {
			settled[j] = fmt.Sprintf("%s-settled-%d", key, j)
			probe(settled[j])
		}
		sweep := func() time.Duration {
			start := time.Now()
			for _, ref := range settled {
				probe(ref)
			}
			return time.Since(start)
		}
		var afterHidden, afterMissing []time.Duration
		hiddenRefs, missingRefs := hiddenRefs[half:], missingRefs[half:]
		i := 0
		for b.Loop() {
			if i >= len(hiddenRefs) {
				break // every fresh ref is used up: report what was measured
			}
			sweep() // everything settled again
			probe(hiddenRefs[i])
			afterHidden = append(afterHidden, sweep())
			probe(missingRefs[i])
			afterMissing = append(afterMissing, sweep())
			i++
		}
		h, m := p50(afterHidden), p50(afterMissing)
		b.ReportMetric(float64(h.Microseconds())/1000, "after-hidden-ms")
		b.ReportMetric(float64(m.Microseconds())/1000, "after-missing-ms")
		b.ReportMetric(float64(h)/float64(m), "sweep-ratio")
	})
}

// p50 is the median of ds.
func p50(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
