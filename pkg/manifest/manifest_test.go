package manifest

import (
	"strings"
	"testing"
)

func TestMatrixLoads(t *testing.T) {
	m, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(m.Releases) < 25 {
		t.Fatalf("matrix has %d releases, want every tag of the vendor's configuration repository (≥25)", len(m.Releases))
	}
	seen := map[string]bool{}
	for i, r := range m.Releases {
		t.Run(r.Name, func(t *testing.T) {
			tag, err := ParseTag(r.Name)
			if err != nil {
				t.Fatalf("name: %v", err)
			}
			if tag.String() != r.Name {
				t.Errorf("name %q is not canonical (%q)", r.Name, tag.String())
			}
			if i > 0 && !m.Releases[i-1].Before(r) {
				t.Errorf("not sorted: %s after %s", r.Name, m.Releases[i-1].Name)
			}
			for _, n := range append([]string{r.Name}, r.Aliases...) {
				if seen[n] {
					t.Errorf("name or alias %s appears twice", n)
				}
				seen[n] = true
			}
			charts := r.Charts()
			if len(charts) != 4 {
				t.Fatalf("%d charts, want 4", len(charts))
			}
			for i, c := range charts {
				if c.Step != i+1 || c.ReleaseName != ReleaseNames[i] {
					t.Errorf("chart %d: step %d release %s", i, c.Step, c.ReleaseName)
				}
				if !IsSemver(c.Version) {
					t.Errorf("chart %s version %q is not semver", c.Chart, c.Version)
				}
			}
			if (r.ApplicationControllers == "") == (r.EnterpriseControllers == "") {
				t.Errorf("exactly one of applicationControllers/enterpriseControllers must be set")
			}
			// The chart-3 rename happened in 7.2.2.
			renamed := !tag.Less(MustParseTag("v7.2.2"))
			if renamed != (charts[2].Chart == ChartApplicationControllers) {
				t.Errorf("chart 3 is %s; the rename to %s happened in v7.2.2", charts[2].Chart, ChartApplicationControllers)
			}
			if !kubeMinor(r.Kubernetes.Min) || !kubeMinor(r.Kubernetes.Max) {
				t.Errorf("kubernetes range %q..%q is not two 1.N versions", r.Kubernetes.Min, r.Kubernetes.Max)
			} else if minorOf(r.Kubernetes.Max) < minorOf(r.Kubernetes.Min) {
				t.Errorf("kubernetes range %s..%s is empty", r.Kubernetes.Min, r.Kubernetes.Max)
			}
			if r.Kubernetes.Source != "found" && r.Kubernetes.Source != "inferred" {
				t.Errorf("kubernetes source %q", r.Kubernetes.Source)
			}
			if r.Source != "matrix" {
				t.Errorf("source %q", r.Source)
			}
		})
	}
}

func kubeMinor(v string) bool { return strings.HasPrefix(v, "1.") && minorOf(v) > 0 }

func minorOf(v string) int {
	n, err := atoiDigits(strings.TrimPrefix(v, "1."))
	if err != nil {
		return -1
	}
	return n
}

func TestKnownReleases(t *testing.T) {
	m := MustLoad()
	tests := []struct {
		name    string
		want    string
		charts  [4]string
		chart3  string
		kubeMin string
		kubeMax string
	}{
		{"v7.1.3a", "v7.1.3a", [4]string{"1.0.3", "1.1.2", "1.0.3", "1.1.7"}, ChartEnterpriseControllers, "1.21", "1.24"},
		{"7.2.2c", "v7.2.2c", [4]string{"1.1.1", "1.2.5", "1.1.6", "1.2.25"}, ChartApplicationControllers, "1.23", "1.26"},
		{"v7.2.1b", "v7.2.1b", [4]string{"1.1.0", "1.2.2", "1.1.3", "1.2.19"}, ChartEnterpriseControllers, "1.22", "1.25"},
		{"v7.3.1", "v7.3.1", [4]string{"1.2.4", "1.3.5", "1.2.4", "1.4.1"}, ChartApplicationControllers, "1.24", "1.27"},
		{"v7.3.4c", "v7.3.6", [4]string{"1.5.0", "1.6.0", "1.5.0", "1.7.6"}, ChartApplicationControllers, "1.24", "1.27"},
		{"v1.0.3", "v7.1.0", [4]string{"1.0.1", "1.0.2", "1.0.1", "1.0.3"}, ChartEnterpriseControllers, "1.19", "1.23"},
		{"v1.0.2", "v1.0.2", [4]string{"1.0.0", "1.0.1", "1.0.0", "1.0.2"}, ChartEnterpriseControllers, "1.19", "1.21"},
		{"v1.1.0", "v1.1.0", [4]string{"1.0.2", "1.1.0", "1.0.2", "1.1.0"}, ChartEnterpriseControllers, "1.21", "1.23"},
		{"v8.0.0", "v8.0.0", [4]string{"2.2.1", "2.2.2", "2.2.0", "2.0.0"}, ChartApplicationControllers, "1.26", "1.28"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := m.Resolve(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if r.Name != tt.want {
				t.Errorf("resolved to %s, want %s", r.Name, tt.want)
			}
			for i, c := range r.Charts() {
				if c.Version != tt.charts[i] {
					t.Errorf("chart %d %s = %s, want %s", i+1, c.Chart, c.Version, tt.charts[i])
				}
			}
			if got := r.Charts()[2].Chart; got != tt.chart3 {
				t.Errorf("chart 3 = %s, want %s", got, tt.chart3)
			}
			if r.Kubernetes.Min != tt.kubeMin || r.Kubernetes.Max != tt.kubeMax {
				t.Errorf("kubernetes %s..%s, want %s..%s", r.Kubernetes.Min, r.Kubernetes.Max, tt.kubeMin, tt.kubeMax)
			}
		})
	}
}

// TestRelease80 pins how 8.0.0 was learned: no tag, the VERSIONS file of the configuration
// repository's main branch, at its last commit with that VERSIONS (the vendor corrected the
// container manifest and examples after the commit "Release thingpark-enterprise 2.0.0").
func TestRelease80(t *testing.T) {
	r, err := MustLoad().Resolve("8.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if r.Tagged || r.Ref != "main" || r.Commit != "1b4e0ed535949f2569bceb464b8d67e5426d07b8" || r.Kubernetes.Source != "found" {
		t.Errorf("v8.0.0 = tagged %v ref %q commit %q kubernetes source %q", r.Tagged, r.Ref, r.Commit, r.Kubernetes.Source)
	}
	want := "THINGPARK_DATA_CONTROLLERS_VERSION=2.2.1\nTHINGPARK_DATA_VERSION=2.2.2\n" +
		"THINGPARK_APPLICATION_CONTROLLERS_VERSION=2.2.0\nTHINGPARK_ENTERPRISE_VERSION=2.0.0\n"
	if got := FormatVersions(r); got != want {
		t.Errorf("VERSIONS of v8.0.0:\n%s\nwant\n%s", got, want)
	}
	for _, rel := range MustLoad().Releases {
		if !rel.Tagged && rel.Ref != "" && len(rel.Commit) != 40 {
			t.Errorf("%s: ref %s without a full commit id (%q)", rel.Name, rel.Ref, rel.Commit)
		}
	}
}

func TestResolveUnknown(t *testing.T) {
	_, err := MustLoad().Resolve("v9.9.9")
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{`"v9.9.9"`, "v7.3.1", "v8.0.0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "--") {
		t.Errorf("error %q names a flag: the caller names its own", err)
	}
}

func TestLatestFixAndLines(t *testing.T) {
	m := MustLoad()
	want := map[string]string{"7.1": "v7.1.3a", "7.2": "v7.2.2c", "7.3": "v7.3.6", "8.0": "v8.0.0"}
	for line, name := range want {
		t.Run(line, func(t *testing.T) {
			r, ok := m.LatestFix(line)
			if !ok || r.Name != name {
				t.Errorf("LatestFix(%s) = %s %v, want %s", line, r.Name, ok, name)
			}
		})
	}
	if _, ok := m.LatestFix("6.0"); ok {
		t.Error("LatestFix(6.0) found a release")
	}
	if got := strings.Join(m.Lines(), ","); got != "1.0,7.1,7.2,7.3,8.0" {
		t.Errorf("Lines() = %s", got)
	}
}

func installedOf(r Release) map[string]ChartRef {
	out := map[string]ChartRef{}
	for _, c := range r.Charts() {
		out[c.ReleaseName] = c
	}
	return out
}

func TestMatch(t *testing.T) {
	m := MustLoad()
	get := func(n string) Release { r, _ := m.Get(n); return r }
	tests := []struct {
		name      string
		installed map[string]ChartRef
		want      []string
	}{
		{"exact v7.2.2c", installedOf(get("v7.2.2c")), []string{"v7.2.2c"}},
		{"v7.3.0 and v7.3.1 share charts, newest first", installedOf(get("v7.3.1")), []string{"v7.3.1", "v7.3.0"}},
		{"v7.1.2 and v7.1.2a share charts", installedOf(get("v7.1.2")), []string{"v7.1.2a", "v7.1.2"}},
		{"nothing installed", map[string]ChartRef{}, nil},
		{"one chart off", func() map[string]ChartRef {
			in := installedOf(get("v7.2.2c"))
			c := in[ReleaseEnterprise]
			c.Version = "1.2.99"
			in[ReleaseEnterprise] = c
			return in
		}(), nil},
		{"chart 3 under its old name does not match a renamed release", func() map[string]ChartRef {
			in := installedOf(get("v7.2.2c"))
			c := in[ReleaseControllers]
			c.Chart = ChartEnterpriseControllers
			in[ReleaseControllers] = c
			return in
		}(), nil},
		{"only three charts", func() map[string]ChartRef {
			in := installedOf(get("v7.2.2c"))
			delete(in, ReleaseData)
			return in
		}(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range m.Match(tt.installed) {
				got = append(got, r.Name)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseTag(t *testing.T) {
	tests := []struct {
		in      string
		want    Tag
		wantErr string
	}{
		{"v7.2.2c", Tag{7, 2, 2, "c"}, ""},
		{"7.3.1", Tag{7, 3, 1, ""}, ""},
		{" v7.3.4c ", Tag{7, 3, 4, "c"}, ""},
		{"", Tag{}, "empty"},
		{"v", Tag{}, "want v<major>"},
		{"v7.3", Tag{}, "want v<major>"},
		{"v7.x.1", Tag{}, "minor"},
		{"v-7.3.1", Tag{}, "major"},
		{"v7.3.a", Tag{}, "patch"},
		{"v7.3.1C", Tag{}, "lower-case"},
		{"v7.3.99999999999999999999999", Tag{}, "patch"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTag(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseTag = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	order := []string{"v7.1.3", "v7.1.3a", "v7.1.3z", "v7.1.3aa", "v7.1.4", "v7.2.0", "v7.10.0", "v8.0.0"}
	for i := 1; i < len(order); i++ {
		a, b := MustParseTag(order[i-1]), MustParseTag(order[i])
		if !a.Less(b) || b.Less(a) {
			t.Errorf("want %s < %s", a, b)
		}
	}
}

// Every untagged release carries the full hash of the commit that wrote its VERSIONS, so its files
// can be fetched (images, bundle create), and says where they are without naming a tag.
func TestUntaggedReleasesHaveCommits(t *testing.T) {
	for _, r := range MustLoad().Releases {
		if r.Tagged {
			if r.ConfigRef() != r.Name {
				t.Errorf("%s: config ref %q, want its tag", r.Name, r.ConfigRef())
			}
			continue
		}
		if len(r.Commit) != 40 {
			t.Errorf("%s: commit %q is not a full hash", r.Name, r.Commit)
		}
		if r.ConfigRef() != r.Commit {
			t.Errorf("%s: config ref %q, want its commit", r.Name, r.ConfigRef())
		}
		if w := r.Where(); strings.Contains(w, "tag "+r.Name) || !strings.Contains(w, r.Commit[:12]) {
			t.Errorf("%s: where = %q", r.Name, w)
		}
	}
}
