//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/internal/chartrepo"
)

// offlineRepo serves the fixture charts of the given releases only (a mirror, or a repository that
// carries only what a customer licensed), behind the run's installation ID.
func offlineRepo(t *testing.T, tags ...string) string {
	t.Helper()
	releases := t.TempDir()
	for _, tag := range tags {
		data, err := os.ReadFile(filepath.Join(env.ReleasesDir, tag, "VERSIONS"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(releases, tag), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(releases, tag, "VERSIONS"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h, err := chartrepo.New(chartrepo.Config{ChartsDir: filepath.Join(env.Root, "testdata", "charts"), ReleasesDir: releases, InstallationID: env.InstallationID})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/charts"
}

// TestHelmOffline is the work without a cluster: a plan made on a laptop from the release the
// customer runs (no kubeconfig at all, or one that must not be used), with the values checked
// against the target charts from the repository or from a directory; the release of a VERSIONS
// file given alone; and a repository that lacks the newest release.
func TestHelmOffline(t *testing.T) {
	h := &helmTPE{t: t}
	noKube := []string{"KUBECONFIG=" + filepath.Join(t.TempDir(), "missing", "kubeconfig")}
	values := writeFile(t, "values.yaml", fmt.Sprintf(`global:
  installationId: %q
  dnsHostname: tpe.example.com
  lora: {ismBand: [eu868], netId: "000001"}
  backup:
    s3Compat: {url: "http://minio.tools.svc:9000", accessKey: minio, secretAccessKey: minio-secret-e2e, bucket: thingpark-enterprise-backup}
`, env.InstallationID))
	old := writeFile(t, "old.yaml", "global:\n  installationId: x1234567890\n  lora: {ismBand: eu868}\n  legacyKey: 1\n")

	// The four 7.3.1 charts as `helm pull` leaves them: two packed, two unpacked (--untar).
	chartDir := t.TempDir()
	h.at(t)
	for i, c := range []string{"thingpark-data-controllers-1.2.4", "thingpark-data-1.3.5", "thingpark-application-controllers-1.2.4", "thingpark-enterprise-1.4.1"} {
		args := []string{"pull", env.RepoURL + "/" + c + ".tgz", "--username", env.InstallationID, "--password", env.InstallationID, "-d", chartDir}
		if i%2 == 1 {
			args = append(args, "--untar")
		}
		if r := env.HelmCLI(t, "", args...); r.Code != 0 {
			t.Fatalf("helm pull %s: %s", c, r)
		}
	}

	t.Run("plan --from without a kubeconfig", func(t *testing.T) {
		h.at(t)
		r := h.run("", noKube, "plan", "--from", "v7.2.2c", "--to", "v7.3.1", "--kube-version", "v1.27.3", "-f", values, "--chart-dir", chartDir)
		if r.Code != 0 {
			t.Fatalf("plan --from: want exit 0, got %s", r)
		}
		for _, want := range []string{"Installed:  v7.2.2c (given; no cluster was read)", "Hop 1: v7.2.2c → v7.3.1 (major)",
			"[to do] upgrade the Strimzi CRDs", "cannot be checked without the cluster", "Kubernetes 1.27 is supported by TPE v7.3.1",
			"During the upgrade", "every key of the values is known to v7.3.1's charts"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("plan --from: output lacks %q:\n%s", want, r.Stdout)
			}
		}
		t.Logf("plan --from:\n%s", r.Stdout)

		// the same plan as JSON, three hops from 7.1.2 with the rename of chart 3, on a too old Kubernetes: exit 2
		r = h.run("", noKube, "plan", "--from", "v7.1.2", "--to", "v7.3.1", "--kube-version", "v1.23.3", "-o", "json")
		if r.Code != 2 {
			t.Fatalf("plan --from v7.1.2 on Kubernetes 1.23: want exit 2, got %s", r)
		}
		var p struct {
			Installed string `json:"installed"`
			Offline   bool   `json:"offline"`
			Hops      []struct {
				To     string
				Charts []struct {
					ReleaseName, FromChart, Chart string
					Renamed                       bool
				}
				AdminSteps []struct{ ID, Status string }
			} `json:"hops"`
			Checks []struct{ ID, Status string } `json:"checks"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &p); err != nil {
			t.Fatalf("plan -o json: %v\n%s", err, r.Stdout)
		}
		if p.Installed != "v7.1.2" || !p.Offline || len(p.Hops) != 3 || p.Hops[2].To != "v7.3.1" {
			t.Fatalf("plan --from v7.1.2: %+v", p)
		}
		if c := p.Hops[1].Charts[2]; !c.Renamed || c.FromChart != "thingpark-enterprise-controllers" || c.Chart != "thingpark-application-controllers" {
			t.Errorf("hop 2 chart 3: %+v, want the rename", c)
		}
		for _, s := range p.Hops[2].AdminSteps {
			if s.Status != "unknown" {
				t.Errorf("admin step %+v: cannot be checked without a cluster", s)
			}
		}
		kube := map[string]string{}
		for _, c := range p.Checks {
			kube[c.ID] = c.Status
		}
		if kube["kubernetes.3"] != "fail" {
			t.Errorf("kubernetes checks: %v", kube)
		}

		// the values against the charts of the repository (--repo-url), and an old values file fails them
		r = h.run("", noKube, "plan", "--from", "v7.2.2c", "--to", "v7.3.1", "-f", old, "--repo-url", env.RepoURL, "--installation-id-file", env.InstallationIDFile)
		if r.Code != 2 {
			t.Fatalf("plan --from with old values: want exit 2, got %s", r)
		}
		for _, want := range []string{"values.schema.json", "global.legacyKey"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("plan --from with old values: output lacks %q:\n%s", want, r.Stdout)
			}
		}
		r = h.run("", noKube, "plan", "--from", "v7.2.2c", "--to", "v7.3.1", "-f", old, "--chart-dir", chartDir)
		if r.Code != 2 || !strings.Contains(r.Stdout, "global.legacyKey") {
			t.Errorf("plan --from --chart-dir with old values: %s", r)
		}
	})

	t.Run("plan --from never contacts the cluster of the kubeconfig", func(t *testing.T) {
		h.at(t)
		since := time.Now()
		h.mustRun(env.OperatorKubeconfig, nil, "plan", "--from", "v7.2.2c", "--to", "v7.3.1")
		if events := env.Audit(t, since, "helm-tpe"); len(events) != 0 {
			t.Errorf("plan --from made %d API requests, e.g. %+v", len(events), events[0])
		}
	})

	t.Run("manifest --manifest without a release", func(t *testing.T) {
		h.at(t)
		data, err := os.ReadFile(filepath.Join(env.ReleasesDir, "v7.3.1", "VERSIONS"))
		if err != nil {
			t.Fatal(err)
		}
		downloaded := writeFile(t, "VERSIONS", string(data))
		r := h.mustRun("", noKube, "manifest", "--manifest", downloaded)
		if !strings.Contains(r.Stdout, "Release:    v7.3.1") {
			t.Errorf("manifest --manifest (the charts of v7.3.1): %s", r)
		}
		r = h.mustRun("", noKube, "manifest", "--manifest", filepath.Join(env.ReleasesDir, "v7.2.2c", "VERSIONS"), "-o", "json")
		if !strings.Contains(r.Stdout, `"name": "v7.2.2c"`) {
			t.Errorf("manifest --manifest releases/v7.2.2c/VERSIONS: %s", r)
		}
		custom := writeFile(t, "VERSIONS", strings.ReplaceAll(string(data), "1.4.1", "9.9.9"))
		r = h.mustRun("", noKube, "manifest", "--manifest", custom)
		if !strings.Contains(r.Stdout, "Release:    custom") || !strings.Contains(r.Stdout, "9.9.9") {
			t.Errorf("manifest --manifest (a custom release): %s", r)
		}
		r = h.run("", noKube, "manifest", "v.", "--manifest", custom)
		if r.Code != 1 || !strings.Contains(r.Stderr, "RELEASE: ") || strings.Contains(r.Stderr, "--to") {
			t.Errorf("manifest with an invalid RELEASE: want an error naming RELEASE, got %s", r)
		}
	})

	t.Run("repo add against a repository without the newest release", func(t *testing.T) {
		h.at(t)
		url := offlineRepo(t, "v7.1.3a", "v7.2.2c")
		r := h.run("", noKube, "repo", "add", "--repo", "tpe-mirror", "--repo-url", url, "--installation-id-file", env.InstallationIDFile)
		if r.Code != 0 {
			t.Fatalf("repo add without --to: want exit 0, got %s", r)
		}
		if !strings.Contains(r.Stderr, "warning: ") || !strings.Contains(r.Stderr, "does not serve the newest known release") ||
			!strings.Contains(r.Stderr, "v7.1.3a, v7.2.2c") || !strings.Contains(r.Stdout, "has been added") {
			t.Errorf("repo add without --to: %s", r)
		}
		if r := env.HelmCLI(t, "", "search", "repo", "tpe-mirror/thingpark-enterprise", "--versions"); r.Code != 0 || !strings.Contains(r.Stdout, "1.2.25") {
			t.Errorf("the real helm does not see the mirror: %s", r)
		}
		r = h.run("", noKube, "repo", "add", "--repo", "tpe-mirror-2", "--repo-url", url, "--installation-id-file", env.InstallationIDFile, "--to", "v7.3.1")
		if r.Code != 1 || !strings.Contains(r.Stderr, "--to v7.3.1") || !strings.Contains(r.Stderr, "lacks") {
			t.Errorf("repo add --to a release the repository lacks: want exit 1 naming --to, got %s", r)
		}
		if b, _ := os.ReadFile(filepath.Join(env.HelmHome, "config", "repositories.yaml")); strings.Contains(string(b), "tpe-mirror-2") {
			t.Errorf("a failed repo add wrote the repository")
		}
	})

	h.at(t)
	for _, out := range h.outputs {
		if strings.Contains(out, env.InstallationID) || strings.Contains(out, "minio-secret-e2e") {
			t.Errorf("a secret appears in an output:\n%s", out)
		}
	}
}
