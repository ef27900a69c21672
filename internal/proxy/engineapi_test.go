package proxy

import "testing"

func TestImageSourceVersion(t *testing.T) {
	for _, tc := range []struct {
		max, min, want apiVersion
		ok             bool
	}{
		{"1.41", "1.12", "1.41", true}, // 20.10: its own version names the source
		{"1.55", "1.40", "1.44", true}, // 29.7
		{"1.52", "1.44", "1.44", true}, // 29.0-29.2
		{"1.60", "1.45", "", false},    // a future engine that serves no 1.44
		{"", "", "", false},            // not known yet
	} {
		if got, ok := imageSourceVersion(tc.max, tc.min); got != tc.want || ok != tc.ok {
			t.Errorf("imageSourceVersion(%s, %s) = %s %v, want %s %v", tc.max, tc.min, got, ok, tc.want, tc.ok)
		}
	}
}

func TestAPIVersionComparisons(t *testing.T) {
	for _, tc := range []struct {
		v            apiVersion
		major, minor int
		want         bool
	}{{"1.41", 1, 41, true}, {"1.41", 1, 40, false}, {"1.9", 1, 10, true}, {"1.44.0", 1, 44, true}, {"", 1, 99, false}, {"x", 1, 99, false}} {
		if got := tc.v.atMost(tc.major, tc.minor); got != tc.want {
			t.Errorf("%q.atMost(%d, %d) = %v", tc.v, tc.major, tc.minor, got)
		}
	}
	if !apiVersion("1.9").less("1.10") || apiVersion("1.10").less("1.9") || apiVersion("1.41").less("1.41") {
		t.Error("less does not compare part by part")
	}
}
