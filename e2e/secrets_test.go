//go:build e2e

package e2e

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/e2e/framework"
	"github.com/thingpark-tools/kubectl-tpe/internal/configrepo"
)

// TestSecretsNeverLeak runs every command of the e2e suite against an installation whose values
// hold the installation ID, Amazon backup keys, an Azure client secret and a TLS private key, and
// checks that none of them appears in stdout, stderr, the support bundle, the progress ConfigMap or
// the API server audit log; and that --dry-run of `prereqs apply` and `helm tpe upgrade` makes no
// mutating API request (counted in the audit log). The charts copy these secrets outside their
// Secrets (fixture.spreadSecrets): the dry-run diff must mask every copy and still show which
// objects and lines change, a rotated key shows as a changed line, --show-secrets shows them (the
// positive control of the detector), and errors that quote the values (fixture.failRenderQuoting)
// are masked in the dry run, the upgrade, its progress record and `kubectl tpe status`.
func TestSecretsNeverLeak(t *testing.T) {
	f := newEvFixture(t)
	env.SetPUM(t, "done")
	since := time.Now()
	s := f.Secrets
	// The charts copy the installation ID, the backup keys and the TLS key outside their Secrets
	// (ConfigMap data, annotations, env values, args, command lines; templates/spread.yaml).
	f.Values = writeFile(t, "values-spread.yaml", evValues(s, "fixture: {spreadSecrets: true}\n"))
	failQuoting := writeFile(t, "fail-quoting.yaml", "fixture: {failRenderQuoting: true}\n")
	rotatedKey := "AKIAROTATED" + s.AWSAccessKey[len("AKIAEVIDENCE"):]
	rotated := writeFile(t, "rotated.yaml", "global: {backup: {amazon: {accessKey: \""+rotatedKey+"\"}}}\n")
	azure := writeFile(t, "azure.yaml", evAzureValues(s))
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, []byte(s.TLSCertPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(s.TLSKeyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	var outputs []string
	type cmd struct {
		name string
		run  func() framework.Result
		// codes are the accepted exit codes (default 0)
		codes []int
	}
	k := func(kubeconfig string, args ...string) func() framework.Result {
		return func() framework.Result { return f.kubectlTPE(t, kubeconfig, args...) }
	}
	h := func(args ...string) func() framework.Result {
		return func() framework.Result { return f.helmTPE(t, "", nil, args...) }
	}
	bundle := filepath.Join(dir, "bundle.tar.gz")
	relBundle := filepath.Join(dir, "tpe-v7.2.2c.tar.gz")
	// A configuration repository that publishes nothing for v7.2.2c (a 404 for each file: recorded
	// as missing); an unreachable one is an error of bundle create.
	cfgSrv := httptest.NewServer(configrepo.New([]configrepo.Ref{{Name: "v7.2.2c", Versions: "x"}}, nil))
	t.Cleanup(cfgSrv.Close)
	noConfigRepo := []string{"HELM_TPE_CONFIG_REPO_RAW=" + cfgSrv.URL + "/raw", "HELM_TPE_CONFIG_REPO_API=" + cfgSrv.URL + "/api"}
	deadConfigRepo := []string{"HELM_TPE_CONFIG_REPO_RAW=http://127.0.0.1:9/raw", "HELM_TPE_CONFIG_REPO_API=http://127.0.0.1:9/api"}
	// Credentials in a backup URL are no values key of their own: only their form says they are
	// secret. The installation ID inside a registry host name is refused by images and bundle
	// create alike.
	urlCreds := []string{"AKIAURLCRED0123", "urlPassw0rdSecret"}
	urlValues := writeFile(t, "values-url-creds.yaml", "global:\n  installationId: \""+s.InstallationID+"\"\n  dnsHostname: tpe.example.com\n"+
		"  backup:\n    s3Compat: {url: \"http://"+urlCreds[0]+":"+urlCreds[1]+"@minio.example.com:9000\", bucket: tpe-backups, accessKey: \""+s.AWSAccessKey+"\", secretAccessKey: \""+s.AWSSecretKey+"\"}\n")
	idInRegistry := writeFile(t, "values-id-registry.yaml", "global:\n  repositories:\n    containerImagesRegistry:\n      fqdn: "+strings.ToLower(s.InstallationID)+".registry.example.com\n")
	admin := env.AdminKubeconfig
	// why is what the error of a command that must fail says (it fails for that reason).
	why := map[string]string{
		"helm tpe images (installation ID in a registry host)":          "registry host name",
		"helm tpe bundle create (installation ID in a registry host)":   "registry host name",
		"helm tpe bundle create (configuration repository unreachable)": "configuration repository",
		"helm tpe repo add --repo-url http:// (refused)":                "--allow-insecure-http",
	}
	phase := func(t *testing.T, cmds []cmd) {
		for _, c := range cmds {
			r := c.run()
			outputs = append(outputs, r.Stdout, r.Stderr)
			if w := why[c.name]; w != "" && !strings.Contains(r.Stderr, w) {
				t.Errorf("%s: stderr does not say %q:\n%s", c.name, w, redact(r.Stderr))
			}
			ok := r.Code == 0
			for _, code := range c.codes {
				ok = ok || r.Code == code
			}
			if !ok {
				t.Errorf("%s: %s", c.name, redact(r.String()))
			}
			if what := s.find(r.Stdout + r.Stderr); what != "" {
				t.Errorf("%s: the %s appears in its output", c.name, what)
			}
			for _, u := range urlCreds {
				if strings.Contains(r.Stdout+r.Stderr, u) {
					t.Errorf("%s: a credential of the backup URL appears in its output", c.name)
				}
			}
		}
	}

	t.Run("before install", func(t *testing.T) {
		phase(t, []cmd{
			{"helm tpe repo add -f values", h("repo", "add", "--repo-url", env.RepoURL, "-f", f.Values, "--to", "v7.3.1"), nil},
			{"helm tpe repo add (env)", func() framework.Result {
				return f.helmTPE(t, "", []string{"HELM_TPE_INSTALLATION_ID=" + s.InstallationID}, "repo", "add", "--repo-url", env.RepoURL, "--to", "v7.3.1", "-o", "json")
			}, nil},
			{"helm tpe releases", h("releases"), nil},
			{"helm tpe manifest", h("manifest", "v7.3.1", "-o", "yaml"), nil},
			{"helm tpe env", h("env", "-o", "json"), nil},
			{"helm tpe plan (fresh)", h("plan", "--to", "v7.2.2c", "-f", f.Values, "-o", "json"), []int{2}},
			{"helm tpe install --dry-run", h("install", "--to", "v7.2.2c", "-f", f.Values, "--dry-run"), nil},
			{"kubectl tpe preflight -f values", k(admin, "preflight", "--to", "v7.3.1", "-f", f.Values, "-o", "json"), []int{2}},
			{"kubectl tpe preflight -f azure", k(admin, "preflight", "--to", "v7.3.1", "-f", azure, "--probe", "--probe-timeout", "1s"), []int{2}},
			{"kubectl tpe preflight --tls-*", k(admin, "preflight", "--tls-cert", certFile, "--tls-key", keyFile, "--tls-ca", certFile, "--hostname", "tpe.example.com", "-o", "yaml"), []int{2}},
			{"kubectl tpe prereqs show", k(admin, "prereqs", "show", "--hosting", "other", "--storage-provisioner", "example.com/fake"), nil},
			{"helm tpe bundle create -f values", func() framework.Result {
				return f.helmTPE(t, "", noConfigRepo, "bundle", "create", "--to", "v7.2.2c", "-f", f.Values, "-o", relBundle)
			}, nil},
			{"helm tpe bundle show", h("bundle", "show", relBundle), nil},
			{"helm tpe plan --bundle", h("plan", "--bundle", relBundle, "-f", f.Values, "-o", "yaml"), []int{2}},
			{"kubectl tpe preflight --bundle", k(admin, "preflight", "--bundle", relBundle, "-f", f.Values, "--only", "machine.bundle,images"), nil},
			{"helm tpe plan (backup URL with credentials)", h("plan", "--to", "v7.2.2c", "-f", urlValues), []int{2}},
			{"helm tpe plan -o json (backup URL with credentials)", h("plan", "--to", "v7.2.2c", "-f", urlValues, "-o", "json"), []int{2}},
			{"kubectl tpe preflight (backup URL with credentials)", k(admin, "preflight", "--to", "v7.3.1", "-f", urlValues), []int{2}},
			{"kubectl tpe preflight --probe (backup URL with credentials)", k(admin, "preflight", "--to", "v7.3.1", "-f", urlValues, "--probe", "--probe-timeout", "1s", "-o", "yaml"), []int{2}},
			{"helm tpe images (installation ID in a registry host)", h("images", "--to", "v7.2.2c", "-f", f.Values, "-f", idInRegistry), []int{1}},
			{"helm tpe bundle create (installation ID in a registry host)", func() framework.Result {
				return f.helmTPE(t, "", noConfigRepo, "bundle", "create", "--to", "v7.2.2c", "-f", f.Values, "-f", idInRegistry, "-o", filepath.Join(dir, "id.tar.gz"))
			}, []int{1}},
			{"helm tpe bundle create (configuration repository unreachable)", func() framework.Result {
				return f.helmTPE(t, "", deadConfigRepo, "bundle", "create", "--to", "v7.2.2c", "-f", f.Values, "-o", filepath.Join(dir, "dead.tar.gz"))
			}, []int{1}},
			{"helm tpe repo add --repo-url http:// (refused)", func() framework.Result {
				return f.helmTPE(t, "", []string{"HELM_TPE_INSTALLATION_ID=" + s.InstallationID}, "repo", "add", "--repo", "plain", "--repo-url", "http://charts.example.com/charts")
			}, []int{1}},
		})
		for _, n := range []string{"id.tar.gz", "dead.tar.gz"} {
			if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
				t.Errorf("bundle create wrote %s though it failed", n)
			}
		}
		// The release bundle travels: no secret of the values in the file or in any file of it.
		noSecretsIn(t, relBundle, s.list())
	})

	t.Run("prereqs apply --dry-run makes no mutating request", func(t *testing.T) {
		t0 := time.Now()
		r := f.kubectlTPE(t, admin, "prereqs", "apply", "--hosting", "other", "--storage-provisioner", "example.com/fake", "--dry-run")
		outputs = append(outputs, r.Stdout, r.Stderr)
		if r.Code != 0 {
			t.Fatalf("prereqs apply --dry-run: %s", r)
		}
		c := countAudit(t, t0, time.Now(), "kubectl-tpe/")
		t.Logf("prereqs apply --dry-run: %s API requests, %d mutating", c, c.Mutating)
		if c.Total == 0 {
			t.Error("no kubectl-tpe request in the audit log")
		}
		if c.Mutating > 0 {
			t.Errorf("prereqs apply --dry-run made mutating requests: %v", c.Mutations)
		}
	})

	f.install(t, "v7.2.2c")

	t.Run("helm tpe upgrade --dry-run makes no mutating request", func(t *testing.T) {
		t0 := time.Now()
		r := f.helmTPE(t, "", nil, "upgrade", "--to", "v7.3.1", "-f", f.Values, "--dry-run")
		outputs = append(outputs, r.Stdout, r.Stderr)
		if r.Code != 0 {
			t.Fatalf("upgrade --dry-run: %s", redact(r.String()))
		}
		// The diff still says which objects and lines change, with the copies masked.
		for _, want := range []string{"--- ConfigMap tpe-spread-config (installed)", "+++ Deployment tpe-spread (new)",
			`-  chartVersion: "1.2.`, `+  chartVersion: "1.4.`, `thingpark.com/installation-id: "<redacted installation ID #`,
			`args: ["--installation-id=<redacted installation ID #`} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("upgrade --dry-run: %q not in the diff:\n%s", want, redact(r.Stdout))
			}
		}
		c := countAudit(t, t0, time.Now(), "helm-tpe/")
		t.Logf("helm tpe upgrade --dry-run: %s API requests, %d mutating", c, c.Mutating)
		if c.Total == 0 {
			t.Error("no helm-tpe request in the audit log")
		}
		if c.Mutating > 0 {
			t.Errorf("upgrade --dry-run made mutating requests: %v", c.Mutations)
		}
		f.wantRelease(t, charts722c)
	})

	t.Run("dry run with a rotated key and --show-secrets", func(t *testing.T) {
		r := f.helmTPE(t, "", nil, "upgrade", "--to", "v7.3.1", "-f", f.Values, "-f", rotated, "--dry-run")
		outputs = append(outputs, r.Stdout, r.Stderr)
		if r.Code != 0 {
			t.Fatalf("upgrade --dry-run -f rotated.yaml: %s", redact(r.String()))
		}
		if strings.Contains(r.Stdout+r.Stderr, rotatedKey) {
			t.Errorf("the rotated access key appears in the dry run")
		}
		// The old and the new key show as a changed line, each with its own tag.
		var minus, plus string
		for _, l := range strings.Split(r.Stdout, "\n") {
			if strings.Contains(l, "name: AWS_ACCESS_KEY_ID") {
				switch {
				case strings.HasPrefix(l, "-"):
					minus = l
				case strings.HasPrefix(l, "+"):
					plus = l
				}
			}
		}
		if minus == "" || plus == "" || minus[1:] == plus[1:] || !strings.Contains(minus, "<redacted global.backup.amazon.accessKey #") {
			t.Errorf("the rotated key is not shown as a changed, masked line: -%q +%q\n%s", minus, plus, redact(r.Stdout))
		}
		// --show-secrets is the deliberate way to see them: a warning, and the detector finds them
		// (positive control, kept out of the outputs checked below).
		r = env.HelmTPE(t, env.OperatorKubeconfig, []string{"HELM_NAMESPACE=" + f.NS}, "upgrade", "--to", "v7.3.1", "-f", f.Values, "--dry-run", "--show-secrets")
		if r.Code != 0 || !strings.Contains(r.Stderr, "WARNING: --show-secrets") {
			t.Errorf("--show-secrets: exit %d, stderr: %s", r.Code, redact(r.Stderr))
		}
		if what := s.find(r.Stdout); what == "" {
			t.Errorf("--show-secrets shows no secret: the detector is broken")
		} else {
			t.Logf("--show-secrets: the detector finds the %s in the diff, as it should", what)
		}
		if what := s.find(r.Stderr); what != "" {
			t.Errorf("--show-secrets: the %s appears on stderr", what)
		}
	})

	t.Run("failure paths quote the values", func(t *testing.T) {
		phase(t, []cmd{
			{"helm tpe upgrade --dry-run (render error)", h("upgrade", "--to", "v7.3.1", "-f", f.Values, "-f", failQuoting, "--dry-run"), []int{1}},
			{"helm tpe plan (failRenderQuoting)", h("plan", "--to", "v7.3.1", "-f", f.Values, "-f", failQuoting), []int{2}},
			{"helm tpe upgrade (render error)", h("upgrade", "--to", "v7.3.1", "-f", f.Values, "-f", failQuoting, "--yes"), []int{2}},
			{"kubectl tpe status (failed run)", k("", "status", "-o", "json"), []int{2}},
		})
		if n := len(outputs); n < 8 || !strings.Contains(outputs[n-8]+outputs[n-7], "fixture.failRenderQuoting is set") ||
			!strings.Contains(outputs[n-4]+outputs[n-3], "fixture.failRenderQuoting is set") {
			t.Errorf("the render errors are not shown (masked):\n%s", redact(strings.Join(outputs[max(0, n-8):], "\n")))
		}
		if n := len(outputs); n >= 8 && s.find(outputs[n-7]+outputs[n-3]) == "" {
			t.Logf("what the user sees of the render errors:\n%s\n%s", outputs[n-7], outputs[n-3])
		}
		p, raw := f.progress(t)
		if p == nil || p.State != "failed" || !strings.Contains(raw, "failRenderQuoting") {
			t.Fatalf("progress after the failed run: %+v", p)
		}
		if what := s.find(raw); what != "" {
			t.Errorf("the progress ConfigMap of the failed run holds the %s", what)
		}
		phase(t, []cmd{{"helm tpe upgrade --resume", h("upgrade", "--to", "v7.3.1", "-f", f.Values, "--yes", "--resume", "--pum-interval", "1s"), nil}})
	})

	t.Run("installed", func(t *testing.T) {
		phase(t, []cmd{
			{"helm tpe plan", h("plan", "--to", "v7.3.1", "-f", f.Values), nil},
			{"helm tpe plan -f azure", h("plan", "--to", "v7.3.1", "-f", f.Values, "-f", azure, "-o", "yaml"), []int{2}},
			{"helm tpe values get", h("values", "get", "-d", filepath.Join(dir, "values")), nil},
			{"helm tpe upgrade", h("upgrade", "--to", "v7.3.1", "-f", f.Values, "--yes", "--pum-interval", "1s"), nil},
			{"helm tpe upgrade -o json (rerun)", h("upgrade", "--to", "v7.3.1", "-f", f.Values, "--yes", "-o", "json"), nil},
			{"helm tpe rollback --dry-run", h("rollback", "--dry-run", "-o", "json"), nil},
			{"kubectl tpe status", k("", "status"), nil},
			{"kubectl tpe status -o yaml -v=6", k("", "status", "-o", "yaml", "-v=6"), nil},
			{"kubectl tpe wait", k("", "wait", "--timeout", "3m"), nil},
			{"kubectl tpe pum status", k("", "pum", "status"), nil},
			{"kubectl tpe pum status -o json", k("", "pum", "status", "-o", "json"), nil},
			{"kubectl tpe preflight (operator)", k("", "preflight", "--profile", "operator", "-f", f.Values), []int{2}},
			{"kubectl tpe support-bundle", k("", "support-bundle", "-o", bundle), nil},
		})
		// Positive control: the files of `values get` hold the values by design, so the detector
		// must find the installation ID there (a detector that finds nothing proves nothing).
		entries, err := os.ReadDir(filepath.Join(dir, "values"))
		if err != nil {
			t.Fatal(err)
		}
		found := ""
		for _, e := range entries {
			if info, err := e.Info(); err != nil {
				t.Error(err)
			} else if info.Mode().Perm() != 0o600 {
				t.Errorf("helm tpe values get wrote %s with mode %v, want 0600 (it holds the secrets)", e.Name(), info.Mode().Perm())
			}
			b, _ := os.ReadFile(filepath.Join(dir, "values", e.Name()))
			if w := s.find(string(b)); w != "" {
				found = w
			}
		}
		if found == "" {
			t.Errorf("the %d files of helm tpe values get hold no secret: the detector is broken", len(entries))
		}
		t.Logf("helm tpe values get wrote %d files; they hold the values by design (detector found the %s)", len(entries), found)
	})

	t.Run("support bundle", func(t *testing.T) {
		fh, err := os.Open(bundle)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		gz, err := gzip.NewReader(fh)
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(gz)
		n := 0
		for {
			hd, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			n++
			if what := s.find(string(b)); what != "" {
				t.Errorf("support bundle file %s holds the %s", hd.Name, what)
			}
		}
		t.Logf("support bundle: %d files scanned", n)
		if n == 0 {
			t.Error("empty support bundle")
		}
	})

	t.Run("progress ConfigMap", func(t *testing.T) {
		p, raw := f.progress(t)
		if p == nil {
			t.Fatal("no progress ConfigMap after the upgrade")
		}
		if what := s.find(raw); what != "" {
			t.Errorf("the progress ConfigMap holds the %s:\n%s", what, raw)
		}
	})

	t.Run("audit log", func(t *testing.T) {
		fh, err := os.Open(env.AuditLog)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		lines := 0
		for sc.Scan() {
			line := sc.Text()
			if !strings.Contains(line, `"requestReceivedTimestamp"`) {
				continue
			}
			lines++
			if what := s.find(line); what != "" {
				t.Errorf("the audit log holds the %s: %.300s", what, line)
			}
		}
		t.Logf("audit log: %d lines scanned (level Metadata: URIs, user agents, object references), since %s", lines, since.Format(time.RFC3339))
	})

	for _, o := range append(outputs, f.outputs...) {
		if what := s.find(o); what != "" {
			t.Errorf("the %s appears in a command output", what)
		}
	}
}
