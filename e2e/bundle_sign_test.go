//go:build e2e

package e2e

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/internal/bundletest"
	"github.com/thingpark-tools/kubectl-tpe/internal/configrepo"
)

// TestBundleSign is the signed air-gapped workflow: a key pair made with `bundle keygen`, a
// bundle built and signed in one go (`bundle create --sign-key`); then, with the chart repository
// stopped and the configuration repository unreachable, `bundle verify --key` passes and
// `helm tpe upgrade --bundle --key` runs the hop. A chart swapped inside the bundle with
// SHA256SUMS rewritten is accepted without --key and refused with it, and a bundle checked with
// another key is refused, each before anything changes. No password and no secret of the values
// appears in an output.
func TestBundleSign(t *testing.T) {
	f := newEvFixture(t)
	env.ResetController(t)
	env.SetPUM(t, "done")
	cfg := configrepo.New([]configrepo.Ref{
		{Name: "v7.2.2c", Versions: "x"},
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
	const password = "e2e-signing-key-password"
	pw := "COSIGN_PASSWORD=" + password
	online := []string{"HELM_TPE_CONFIG_REPO_RAW=" + srv.URL + "/raw", "HELM_TPE_CONFIG_REPO_API=" + srv.URL + "/api", pw}
	offline := []string{"HELM_TPE_CONFIG_REPO_RAW=http://127.0.0.1:9/raw", "HELM_TPE_CONFIG_REPO_API=http://127.0.0.1:9/api"}

	f.install(t, "v7.2.2c")
	f.wantRelease(t, charts722c)
	dir := t.TempDir()
	builder, other := filepath.Join(dir, "builder"), filepath.Join(dir, "other")
	r := f.mustHelmTPE(t, "", []string{pw}, "bundle", "keygen", "--output-prefix", builder)
	t.Logf("bundle keygen:\n%s", r.Stdout)
	f.mustHelmTPE(t, "", []string{pw}, "bundle", "keygen", "--output-prefix", other)
	if fi, err := os.Stat(builder + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key: %v, mode %v", err, fi.Mode())
	}

	file := filepath.Join(dir, "tpe-v7.3.1.tar.gz")
	t0 := time.Now()
	r = f.mustHelmTPE(t, "", online, "bundle", "create", "--from", "v7.2.2c", "--to", "v7.3.1", "-f", f.Values, "--output-file", file, "--sign-key", builder+".key")
	t.Logf("bundle create --sign-key (%s):\n%s", time.Since(t0).Round(time.Millisecond), r.Stdout)
	if !strings.Contains(r.Stdout, "Signed:    with "+builder+".key") {
		t.Errorf("bundle create --sign-key: no signature in its summary:\n%s", r.Stdout)
	}
	noSecretsIn(t, file, f.Secrets.list())

	// The site: no chart repository, no configuration repository, no password.
	env.StopRepo(t)
	r = f.mustHelmTPE(t, "", offline, "bundle", "verify", file, "--key", builder+".pub")
	t.Logf("bundle verify --key: %s", r.Stdout)
	if !strings.Contains(r.Stdout, "signed with "+builder+".pub") {
		t.Errorf("bundle verify --key: %s", r.Stdout)
	}

	// Another key: refused by verify (exit 2) and by upgrade (exit 1), one line naming the bundle
	// and the key.
	r = f.helmTPE(t, "", offline, "bundle", "verify", file, "--key", other+".pub")
	if r.Code != 2 || !sigOneLine(r.Stderr) || !strings.Contains(r.Stderr, "bundle "+file+" is signed with another key than "+other+".pub") {
		t.Errorf("verify with another key: %s", r.String())
	}
	r = f.helmTPE(t, "", offline, "upgrade", "--bundle", file, "--key", other+".pub", "-f", f.Values, "--yes")
	if r.Code != 1 || !sigOneLine(r.Stderr) || !strings.Contains(r.Stderr, "another key") {
		t.Errorf("upgrade with another key: %s", redact(r.String()))
	}

	// A chart swapped inside the bundle and SHA256SUMS written again.
	swapped := filepath.Join(dir, "swapped.tar.gz")
	swapChart(t, file, swapped)
	r = f.helmTPE(t, "", offline, "bundle", "verify", swapped)
	if r.Code != 0 {
		t.Errorf("without --key the re-summed bundle is accepted on its checksums: %s", r.String())
	}
	r = f.helmTPE(t, "", offline, "plan", "--bundle", swapped, "-f", f.Values)
	if r.Code == 1 {
		t.Errorf("plan --bundle without --key refuses the re-summed bundle: %s", redact(r.String()))
	}
	r = f.helmTPE(t, "", offline, "bundle", "verify", swapped, "--key", builder+".pub")
	if r.Code != 2 || !sigOneLine(r.Stderr) || !strings.Contains(r.Stderr, "SHA256SUMS is not the one signed") {
		t.Errorf("verify --key of the re-summed bundle: %s", r.String())
	}
	r = f.helmTPE(t, "", offline, "upgrade", "--bundle", swapped, "--key", builder+".pub", "-f", f.Values, "--yes")
	if r.Code != 1 || !sigOneLine(r.Stderr) || !strings.Contains(r.Stderr, "bundle "+swapped) || !strings.Contains(r.Stderr, "changed after it was signed") {
		t.Errorf("upgrade --key of the re-summed bundle: %s", redact(r.String()))
	}
	f.wantRelease(t, charts722c)

	t1 := time.Now()
	r = f.helmTPE(t, "", offline, "upgrade", "--bundle", file, "--key", builder+".pub", "-f", f.Values, "--yes", "--timeout", "4m", "--pum-interval", "200ms", "--pum-timeout", "2m")
	t.Logf("upgrade --bundle --key (exit %d) in %s", r.Code, time.Since(t1).Round(time.Second))
	if r.Code != 0 {
		t.Fatalf("upgrade --bundle --key: %s", redact(r.String()))
	}
	f.wantRelease(t, charts731)
	for _, out := range f.outputs {
		if strings.Contains(out, password) {
			t.Error("the key's password appears in an output")
		}
	}
	f.noLeaks(t)
}

func sigOneLine(s string) bool { return strings.Count(strings.TrimSpace(s), "\n") == 0 }

// swapChart writes to dst the bundle src with one chart changed (a file added to it, still a
// valid chart) and SHA256SUMS computed again, its signature kept.
func swapChart(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	done := false
	swapped := bundletest.Resum(t, data, true, func(n string, d []byte) []byte {
		if !strings.HasPrefix(n, "charts/") || done {
			return d
		}
		done = true
		names, files := bundletest.Files(t, d)
		top, _, _ := strings.Cut(names[0], "/")
		names = append(names, top+"/SWAPPED.md")
		files[top+"/SWAPPED.md"] = []byte("not the vendor's chart\n")
		return bundletest.Pack(t, names, files)
	})
	if err := os.WriteFile(dst, swapped, 0o644); err != nil {
		t.Fatal(err)
	}
}
