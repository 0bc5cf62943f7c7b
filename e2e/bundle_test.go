//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/internal/configrepo"
)

// TestBundleUpgrade is the air-gapped workflow: a release bundle is built from the basic-auth
// fixture repository and a configuration repository for the two-hop path v7.1.3a → v7.2.2c →
// v7.3.1; it verifies, a flipped byte does not; then, with the chart repository stopped and the
// configuration repository unreachable, `helm tpe upgrade --bundle` runs the two hops with their
// backups and post-upgrade gates. A bundle that lacks a release of the path is refused before
// anything changes. No secret of the values is in the bundle or in any output.
func TestBundleUpgrade(t *testing.T) {
	f := newEvFixture(t)
	env.ResetController(t)
	env.SetPUM(t, "done")
	cfg := configrepo.New([]configrepo.Ref{
		{Name: "v7.2.2c", Versions: "x", Files: map[string]string{"container-manifest.txt": "repository.thingpark.com/thingpark-kubernetes/twa:7\n"}},
		{Name: "v7.3.1", Versions: "x", Files: map[string]string{
			"container-manifest.txt":                                             "repository.thingpark.com/thingpark-kubernetes/twa:7\n",
			"manifests/upgrade/strimzi-crds-0.32.0.yaml":                         "# the Strimzi CRDs\n",
			"manifests/upgrade/percona-server-mongodb-operator-crds-1.13.0.yaml": "# the Percona CRDs\n",
			"manifests/upgrade/percona-server-mongodb-operator-rbac-1.13.0.yaml": "# the Percona RBAC\n",
			"examples/priority-class/default.yaml":                               "# the PriorityClasses\n",
		}},
	}, nil)
	srv := httptest.NewServer(cfg)
	defer srv.Close()
	online := []string{"HELM_TPE_CONFIG_REPO_RAW=" + srv.URL + "/raw", "HELM_TPE_CONFIG_REPO_API=" + srv.URL + "/api"}
	// Nothing listens on port 9 of the loopback: the configuration repository cannot be reached.
	offline := []string{"HELM_TPE_CONFIG_REPO_RAW=http://127.0.0.1:9/raw", "HELM_TPE_CONFIG_REPO_API=http://127.0.0.1:9/api"}

	f.install(t, "v7.1.3a")
	f.wantRelease(t, charts713a)
	dir := t.TempDir()
	file := filepath.Join(dir, "tpe-v7.3.1.tar.gz")
	t0 := time.Now()
	r := f.mustHelmTPE(t, "", online, "bundle", "create", "--from", "v7.1.3a", "--to", "v7.3.1", "-f", f.Values, "--output-file", file)
	t.Logf("bundle create (%s):\n%s\n%s", time.Since(t0).Round(time.Millisecond), r.Stdout, r.Stderr)
	digest := ""
	for _, l := range strings.Split(r.Stdout, "\n") {
		if d, ok := strings.CutPrefix(l, "Digest:    "); ok {
			digest = d
		}
	}
	if !strings.HasPrefix(digest, "sha256:") || !strings.Contains(r.Stdout, "v7.1.3a → v7.2.2c → v7.3.1") || strings.Contains(r.Stdout, "images: 0,") {
		t.Fatalf("bundle create: want the path, the images and a digest:\n%s", r.Stdout)
	}
	if !strings.Contains(r.Stderr, "[1/10] chart thingpark-data-controllers") {
		t.Errorf("bundle create: want per-chart progress:\n%s", r.Stderr)
	}
	fresh := filepath.Join(dir, "fresh-v7.3.1.tar.gz")
	f.mustHelmTPE(t, "", online, "bundle", "create", "--to", "v7.3.1", "-f", f.Values, "--output-file", fresh)
	for _, b := range []string{file, fresh} {
		noSecretsIn(t, b, f.Secrets.list())
	}

	r = f.mustHelmTPE(t, "", offline, "bundle", "verify", file, "--digest", digest)
	if !strings.Contains(r.Stdout, "verifies") || !strings.Contains(r.Stdout, "digest matches") {
		t.Errorf("bundle verify: %s", r.Stdout)
	}
	r = f.mustHelmTPE(t, "", offline, "bundle", "show", file, "-o", "json")
	var shown struct {
		Manifest struct {
			Releases []struct {
				Release struct{ Name string }
				Charts  []struct{ Name, Version string }
			}
			Admin []struct{ Hop, Source string }
		}
	}
	if err := json.Unmarshal([]byte(r.Stdout), &shown); err != nil || len(shown.Manifest.Releases) != 2 ||
		shown.Manifest.Releases[0].Release.Name != "v7.2.2c" || shown.Manifest.Releases[1].Release.Name != "v7.3.1" || len(shown.Manifest.Admin) != 4 {
		t.Errorf("bundle show -o json (%v): %s", err, r.Stdout)
	}
	r = f.mustHelmTPE(t, "", offline, "bundle", "show", file)
	t.Logf("bundle show:\n%s", r.Stdout)

	// One modified byte: verify fails with exit 2, and so do plan and upgrade (exit 1, before any change).
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), data...)
	bad[len(bad)/2] ^= 0x20
	badFile := filepath.Join(dir, "modified.tar.gz")
	if err := os.WriteFile(badFile, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	r = f.helmTPE(t, "", offline, "bundle", "verify", badFile)
	if r.Code != 2 || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 || !strings.Contains(r.Stderr, "bundle "+badFile) {
		t.Errorf("verify of a modified bundle: want exit 2 and one line naming it: %s", r.String())
	}
	r = f.helmTPE(t, "", offline, "bundle", "verify", file, "--digest", "sha256:"+strings.Repeat("0", 64))
	if r.Code != 2 || !strings.Contains(r.Stderr, "not the bundle that was built") {
		t.Errorf("verify with another digest: %s", r.String())
	}

	// The site: no chart repository, no configuration repository.
	env.StopRepo(t)
	before, _ := f.progress(t)
	r = f.helmTPE(t, "", offline, "upgrade", "--bundle", badFile, "-f", f.Values, "--yes")
	if r.Code != 1 || !strings.Contains(r.Stderr, "--bundle: bundle "+badFile) {
		t.Errorf("upgrade with a modified bundle: want exit 1 naming it: %s", r.String())
	}
	r = f.helmTPE(t, "", offline, "upgrade", "--bundle", fresh, "-f", f.Values, "--yes")
	if r.Code == 0 || !strings.Contains(r.Stderr, "lacks thingpark-data-controllers 1.1.1 (v7.2.2c)") {
		t.Errorf("upgrade with a bundle that lacks v7.2.2c: want a refusal naming it: %s", r.String())
	}
	f.wantRelease(t, charts713a)
	if p, raw := f.progress(t); p == nil || before == nil || p.Action != before.Action || p.Target != before.Target || p.State != before.State {
		t.Errorf("a refused run changed the progress record of the install:\n%s", raw)
	}

	r = f.helmTPE(t, "", offline, "plan", "--bundle", file, "-f", f.Values, "-o", "json")
	var pl struct{ Hops []struct{ Backup bool } }
	if err := json.Unmarshal([]byte(r.Stdout), &pl); err != nil || len(pl.Hops) != 2 {
		t.Errorf("plan --bundle (exit %d, %v): want two hops: %s", r.Code, err, redact(r.String()))
	}

	pf := f.kubectlTPE(t, env.AdminKubeconfig, "preflight", "--bundle", file, "--only", "machine.bundle,images.pull", "--probe", "-f", f.Values, "-o", "json")
	t.Logf("preflight --bundle --probe (exit %d): %s", pf.Code, pf.Stdout)
	var pr struct {
		Checks []struct{ ID, Status, Message string }
	}
	if err := json.Unmarshal([]byte(pf.Stdout), &pr); err != nil {
		t.Fatalf("preflight -o json: %v: %s", err, pf.String())
	}
	got := map[string]string{}
	for _, c := range pr.Checks {
		got[c.ID] = c.Status
	}
	if got["machine.bundle"] != "pass" || got["images.pull"] != "pass" || got["machine.chart-repository"] != "" {
		t.Errorf("preflight --bundle checks: %v", got)
	}
	pf = f.kubectlTPE(t, env.AdminKubeconfig, "preflight", "--bundle", badFile, "--only", "machine.bundle")
	if pf.Code != 2 || !strings.Contains(pf.Stdout, "machine.bundle") {
		t.Errorf("preflight with a modified bundle: want exit 2 and machine.bundle failing: %s", pf.String())
	}

	t1 := time.Now()
	r = f.helmTPE(t, "", offline, "upgrade", "--bundle", file, "-f", f.Values, "--yes", "--timeout", "4m", "--pum-interval", "200ms", "--pum-timeout", "2m")
	t.Logf("upgrade --bundle, two hops (exit %d) in %s:\n%s", r.Code, time.Since(t1).Round(time.Second), redact(r.Stderr))
	if r.Code != 0 {
		t.Fatalf("upgrade --bundle: %s", redact(r.String()))
	}
	f.wantRelease(t, charts731)
	if b := env.Backups(t); len(b) != 2 {
		t.Errorf("backups: %v, want one before each hop", b)
	}
	p, raw := f.progress(t)
	if p == nil || p.State != "done" || len(p.Backups) != 2 {
		t.Errorf("progress record: want a finished run with two backups:\n%s", raw)
	}
	if !strings.Contains(r.Stderr, "post-upgrade") && !strings.Contains(r.Stderr, "PUM") && !strings.Contains(r.Stderr, "DONE") {
		t.Errorf("upgrade --bundle: no post-upgrade gate in its log")
	}
	f.noLeaks(t)
}

// noSecretsIn fails when the bundle file, or any file in it, holds one of the secrets.
func noSecretsIn(t *testing.T, file string, secrets []string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	check := func(where string, b []byte) {
		for _, s := range secrets {
			if s != "" && bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds a secret of the values (%d chars)", where, len(s))
			}
		}
	}
	check(file, data)
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	n := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		check(file+":"+h.Name, b)
		n++
	}
	if n < 7 {
		t.Errorf("%s holds %d files; want four charts, VERSIONS, bundle.json and SHA256SUMS at least", file, n)
	}
}
