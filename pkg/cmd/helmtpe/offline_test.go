package helmtpe

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/thingpark-tools/kubectl-tpe/internal/chartrepo"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

const testdata = "../../../testdata"

// noKubeconfig points KUBECONFIG at a file that does not exist: a command that builds clients fails.
func noKubeconfig(t *testing.T) {
	t.Helper()
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing", "kubeconfig"))
	t.Setenv("HELM_NAMESPACE", "")
}

// chartDir writes the four fixture charts of tag: two packed (.tgz), two unpacked.
func chartDir(t *testing.T, tag string) string {
	t.Helper()
	releases := t.TempDir()
	if err := os.MkdirAll(filepath.Join(releases, tag), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(testdata, "releases", tag, "VERSIONS"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(releases, tag, "VERSIONS"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	files, _, err := chartrepo.Package(filepath.Join(testdata, "charts"), releases)
	if err != nil {
		t.Fatal(err)
	}
	dir, i := t.TempDir(), 0
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if i++; i%2 == 0 {
			continue
		}
		c, err := loader.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := chartutil.SaveDir(c, dir); err != nil {
			t.Fatal(err)
		}
		_ = os.Remove(p)
	}
	return dir
}

func TestPlanWithoutCluster(t *testing.T) {
	charts731 := chartDir(t, "v7.3.1")
	old := filepath.Join(t.TempDir(), "old.yaml")
	_ = os.WriteFile(old, []byte("global:\n  installationId: x1234567890\n  legacyKey: 1\n"), 0o600)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
		wantErr  string
	}{
		{"7.2.2c → 7.3.1 on Kubernetes 1.27", []string{"--from", "v7.2.2c", "--to", "v7.3.1", "--kube-version", "v1.27.3"}, cli.ExitOK,
			[]string{"Installed:  v7.2.2c (given; no cluster was read)", "Kubernetes: v1.27.3", "Hop 1: v7.2.2c → v7.3.1 (major)",
				"[to do] upgrade the Strimzi CRDs", "cannot be checked without the cluster", "Kubernetes 1.27 is supported by TPE v7.3.1", "During the upgrade"}, ""},
		{"7.1.2 → 7.3.1 on Kubernetes 1.23: three hops, chart 3 renamed, too old", []string{"--from", "7.1.2", "--to", "v7.3.1", "--kube-version", "v1.23.3"}, cli.ExitFailed,
			[]string{"Hop 1: v7.1.2 → v7.1.3a", "Hop 2: v7.1.3a → v7.2.2c", "Hop 3: v7.2.2c → v7.3.1", "thingpark-enterprise-controllers 1.0.3", "chart renamed", "older than the versions supported by TPE v7.3.1"}, ""},
		{"without --kube-version the range is shown, not judged", []string{"--from", "v7.2.2c", "--to", "v7.3.1"}, cli.ExitOK,
			[]string{"Kubernetes 1.24–1.27", "--kube-version"}, ""},
		{"backwards", []string{"--from", "v7.3.1", "--to", "v7.2.2c"}, cli.ExitFailed, []string{"rollback"}, ""},
		{"the namespace of -n", []string{"--from", "v7.2.2c", "--to", "v7.3.1", "-n", "tpe-prod"}, cli.ExitOK, []string{"Namespace:  tpe-prod"}, ""},
		{"values against --chart-dir", []string{"--from", "v7.2.2c", "--to", "v7.3.1", "-f", old, "--chart-dir", charts731}, cli.ExitFailed,
			[]string{"values.schema.json", "global.legacyKey"}, ""},
		{"an unknown --from", []string{"--from", "v9.9.9", "--to", "v7.3.1"}, 0, nil, `--from: unknown TPE release "v9.9.9"`},
		{"a bad --kube-version", []string{"--from", "v7.2.2c", "--to", "v7.3.1", "--kube-version", "latest"}, 0, nil, "--kube-version"},
		{"a --chart-dir without the target's charts is an error, as for images", []string{"--from", "v7.2.2c", "--to", "v7.3.1", "-f", old, "--chart-dir", chartDir(t, "v7.2.2c")}, 0, nil,
			"--chart-dir: chart thingpark-data-controllers 1.2.4 is not in"},
		{"a missing --chart-dir", []string{"--from", "v7.2.2c", "--to", "v7.3.1", "--chart-dir", "/nonexistent"}, 0, nil, "--chart-dir /nonexistent is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noKubeconfig(t)
			out, stderr, err := run(t, nil, append([]string{"plan"}, tt.args...)...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if code := cli.ExitCode(err); code != tt.wantCode {
				t.Errorf("exit %d (%v), want %d\n%s\n%s", code, err, tt.wantCode, out, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestPlanWithoutClusterJSON(t *testing.T) {
	noKubeconfig(t)
	out, _, err := run(t, nil, "plan", "--from", "v7.2.2c", "--to", "v7.3.1", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Installed string `json:"installed"`
		Offline   bool   `json:"offline"`
		Action    string `json:"action"`
		Hops      []struct {
			AdminSteps []struct{ ID, Status, Detail string } `json:"adminSteps"`
		} `json:"hops"`
		Downtime []string `json:"downtime"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if p.Installed != "v7.2.2c" || !p.Offline || p.Action != "upgrade" || len(p.Hops) != 1 || len(p.Downtime) == 0 {
		t.Fatalf("plan: %+v", p)
	}
	for _, s := range p.Hops[0].AdminSteps {
		if s.Status != "unknown" || s.Detail == "" {
			t.Errorf("admin step %+v: want unknown with the reason", s)
		}
	}
}

func TestManifestFileWithoutRelease(t *testing.T) {
	m := manifest.MustLoad()
	r, _ := m.Get("v7.3.1")
	downloads := filepath.Join(t.TempDir(), "VERSIONS")
	_ = os.WriteFile(downloads, []byte(manifest.FormatVersions(r)), 0o644)
	custom := filepath.Join(t.TempDir(), "VERSIONS")
	_ = os.WriteFile(custom, []byte("THINGPARK_DATA_CONTROLLERS_VERSION=9.0.0\nTHINGPARK_DATA_VERSION=9.0.0\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=9.0.0\nTHINGPARK_ENTERPRISE_VERSION=9.0.0\n"), 0o644)
	bad := filepath.Join(t.TempDir(), "VERSIONS")
	_ = os.WriteFile(bad, []byte("THINGPARK_DATA_VERSION=1.2\n"), 0o644)
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{"named by its directory", []string{"--manifest", filepath.Join(testdata, "releases", "v7.2.2c", "VERSIONS")}, []string{"Release:    v7.2.2c", "Kubernetes: 1.23–1.26"}, ""},
		{"named by its charts", []string{"--manifest", downloads}, []string{"Release:    v7.3.1", "thingpark-enterprise                1.4.1"}, ""},
		{"a custom release", []string{"--manifest", custom}, []string{"Release:    custom", "9.0.0"}, ""},
		{"a custom release as JSON", []string{"--manifest", custom, "-o", "json"}, []string{`"custom": true`}, ""},
		{"named by RELEASE", []string{"v7.4.0", "--manifest", custom}, []string{"Release:    v7.4.0"}, ""},
		{"an invalid RELEASE names RELEASE", []string{"v.", "--manifest", custom}, nil, "RELEASE: invalid TPE release name"},
		{"an unknown RELEASE names RELEASE", []string{"v9.9.9"}, nil, `RELEASE: unknown TPE release "v9.9.9"`},
		{"an invalid file names --manifest and the line", []string{"--manifest", bad}, nil, "--manifest: " + bad + ":1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := run(t, nil, append([]string{"manifest"}, tt.args...)...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "--to") {
					t.Fatalf("err = %v, want %q and no --to", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// subsetRepo serves the fixture charts of the given releases only, as a mirror that lacks the others.
func subsetRepo(t *testing.T, id string, tags ...string) string {
	t.Helper()
	releases := t.TempDir()
	for _, tag := range tags {
		data, err := os.ReadFile(filepath.Join(testdata, "releases", tag, "VERSIONS"))
		if err != nil {
			t.Fatal(err)
		}
		_ = os.MkdirAll(filepath.Join(releases, tag), 0o755)
		if err := os.WriteFile(filepath.Join(releases, tag, "VERSIONS"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h, err := chartrepo.New(chartrepo.Config{ChartsDir: filepath.Join(testdata, "charts"), ReleasesDir: releases, InstallationID: id})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/charts"
}

func TestRepoAddMirrorWithoutNewestRelease(t *testing.T) {
	const id = "mirror-installation-id-1234"
	url := subsetRepo(t, id, "v7.2.2c")
	newest := manifest.MustLoad().Releases[len(manifest.MustLoad().Releases)-1].Name
	tests := []struct {
		name    string
		args    []string
		want    []string
		warn    string
		wantErr string
	}{
		{"no --to: added, with a warning", nil, []string{"has been added", "the index lists the four charts of v7.2.2c", "releases served in full: v7.2.2c"},
			"does not serve the newest known release " + newest, ""},
		{"an explicit --to it serves", []string{"--to", "v7.2.2c"}, []string{"has been added", "v7.2.2c"}, "", ""},
		{"an explicit --to it lacks", []string{"--to", "v7.3.1"}, nil, "", "--to v7.3.1: chart repository " + url + " lacks"},
		{"an unknown --to", []string{"--to", "v9.9.9"}, nil, "", `--to: unknown TPE release "v9.9.9"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvInstallationID, "")
			idFile := filepath.Join(t.TempDir(), "id")
			_ = os.WriteFile(idFile, []byte(id+"\n"), 0o600)
			args := append([]string{"repo", "add", "--url", url, "--installation-id-file", idFile}, tt.args...)
			out, stderr, err := run(t, nil, args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "--manifest") {
					t.Errorf("err = %v names --manifest, which repo add does not have", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tt.warn != "" && !strings.Contains(stderr, "warning: ") || !strings.Contains(stderr, tt.warn) {
				t.Errorf("stderr lacks %q:\n%s", tt.warn, stderr)
			}
			if strings.Contains(out+stderr, id) {
				t.Errorf("the installation ID appears in the output")
			}
		})
	}
}

func TestPlanWithoutKubeconfigNamesHelmFlags(t *testing.T) {
	noKubeconfig(t)
	_, _, err := run(t, nil, "plan", "--to", "v7.3.1")
	if err == nil || !strings.Contains(err.Error(), "--from") || !strings.Contains(err.Error(), "--kube-context") ||
		strings.Contains(strings.ReplaceAll(err.Error(), "--kube-context", ""), "--context") {
		t.Errorf("err = %v: want the flags of helm tpe (--kube-context, --from)", err)
	}
}
