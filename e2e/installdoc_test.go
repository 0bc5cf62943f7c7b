//go:build e2e

package e2e

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/thingpark-tools/kubectl-tpe/internal/configrepo"
	"github.com/thingpark-tools/kubectl-tpe/internal/registrytest"
)

// docCommand is one command line of a ```sh block of docs/install.md.
type docCommand struct {
	Line int    // line of docs/install.md where it starts
	Text string // continuations joined, comments dropped
	Site bool   // after "On the site's deployment machine"
}

// docAirGapCommands returns the commands of the ```sh blocks of the section "## At a site without
// internet access" of docs/install.md, in order, up to the next "## " heading.
func docAirGapCommands(t *testing.T, file string) []docCommand {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []docCommand
	in, block, site := false, false, false
	cont := ""
	start := 0
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "## "):
			in = l == "## At a site without internet access"
			continue
		case !in:
			continue
		case strings.HasPrefix(l, "```"):
			block = !block && l == "```sh"
			continue
		case !block:
			site = site || strings.Contains(l, "On the site's deployment machine")
			continue
		}
		if i := strings.Index(l, " #"); i >= 0 {
			l = l[:i]
		}
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		if cont == "" {
			start = n
		}
		if s, ok := strings.CutSuffix(strings.TrimRight(l, " \t"), "\\"); ok {
			cont += strings.TrimSpace(s) + " "
			continue
		}
		if c := strings.TrimSpace(cont + strings.TrimSpace(l)); c != "" {
			cmds = append(cmds, docCommand{Line: start, Text: c, Site: site})
		}
		cont = ""
	}
	if len(cmds) == 0 {
		t.Fatalf("%s: no sh block in the section \"At a site without internet access\"", file)
	}
	return cmds
}

// TestInstallDocAirGap runs the commands of docs/install.md's "At a site without internet access",
// in order, as its reader would (bash, helm with the tpe plugin, kubectl with kubectl-tpe on PATH),
// so that the document cannot drift from the tools: the images of the charts from a vendor
// registry with basic auth (Docker's config file), a bundle with the images built and signed, the
// vendor registry, the chart repository and the configuration repository gone before step 3, the
// bundle verified by digest and by key, pushed into the site's registry (TLS, basic auth), the
// preflight with its pull probe, the plan and the upgrade v7.1.3a → v7.2.2c → v7.3.1 with the
// mirror values. Every command exits 0; every image of the cluster's pod specs names the site's
// registry.
func TestInstallDocAirGap(t *testing.T) {
	const vUser, vPass, sUser, sPass = "vendor", "vendor-registry-pw-doc", "tpe", "site-registry-pw-doc"
	cmds := docAirGapCommands(t, filepath.Join(env.Root, "docs", "install.md"))

	vendor, site, f := newRegistryFixture(t, vUser, vPass, sUser, sPass)
	cfg := configrepo.New([]configrepo.Ref{{Name: "v7.2.2c", Versions: "x"}, {Name: "v7.3.1", Versions: "x"}}, nil)
	srv := httptest.NewServer(cfg)
	defer srv.Close()

	// The reader's machine: the doc's file names in the working directory, helm with the tpe
	// plugin and kubectl with kubectl-tpe on PATH, a kubeconfig whose context names the namespace,
	// the vendor's registry login in Docker's config file.
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	values, err := os.ReadFile(f.Values)
	if err != nil {
		t.Fatal(err)
	}
	// The site's values, with the charts' images from the vendor's registry (here a local one).
	fromVendor := fmt.Sprintf("global:\n  imageRegistry: %[1]s\n  repositories: {containerImagesRegistry: {fqdn: %[1]s}}\n", vendor.Host)
	write("values.yaml", strings.Replace(string(values), "global:\n", fromVendor, 1), 0o600)
	write("site-ca.pem", string(site.CAPEM), 0o644)
	write("registry-password", sPass+"\n", 0o600)
	bin, plugins := filepath.Join(dir, ".bin"), filepath.Join(dir, ".helm-plugins")
	for _, d := range []string{bin, filepath.Join(plugins, "tpe", "bin"), filepath.Join(dir, ".docker")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	manifest, err := os.ReadFile(filepath.Join(env.Root, "plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(".helm-plugins", "tpe", "plugin.yaml"), string(manifest), 0o644)
	for link, target := range map[string]string{
		filepath.Join(plugins, "tpe", "bin", "helm-tpe"): env.HelmTPEBin,
		filepath.Join(bin, "kubectl-tpe"):                env.KubectlTPEBin,
		filepath.Join(bin, "helm"):                       env.Helm,
		filepath.Join(bin, "kubectl"):                    env.Kubectl,
	} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	kc, err := os.ReadFile(env.OperatorKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := write(".kubeconfig", string(kc), 0o600)
	if r := env.Run(t, nil, nil, env.Kubectl, "--kubeconfig", kubeconfig, "config", "set-context", "--current", "--namespace", f.NS); r.Code != 0 {
		t.Fatalf("kubectl config set-context: %s", r)
	}
	auth := base64.StdEncoding.EncodeToString([]byte(vUser + ":" + vPass))
	write(filepath.Join(".docker", "config.json"), `{"auths":{"`+vendor.Host+`":{"auth":"`+auth+`"}}}`, 0o600)
	const cosignPassword = "doc-signing-pw-e2e"
	online := []string{"HELM_TPE_CONFIG_REPO_RAW=" + srv.URL + "/raw", "HELM_TPE_CONFIG_REPO_API=" + srv.URL + "/api"}
	// The environment of the reader's shell: the test's, with the harness's Helm homes (where
	// `helm tpe repo add` wrote the repository and the installation ID); later entries win.
	var shell []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "KUBECONFIG" && k != "PATH" && !strings.HasPrefix(k, "HELM_") && k != "DOCKER_CONFIG" && k != "COSIGN_PASSWORD" {
			shell = append(shell, kv)
		}
	}
	shell = append(shell,
		"HELM_CONFIG_HOME="+filepath.Join(env.HelmHome, "config"),
		"HELM_CACHE_HOME="+filepath.Join(env.HelmHome, "cache"),
		"HELM_DATA_HOME="+filepath.Join(env.HelmHome, "data"),
		"PATH="+bin+string(os.PathListSeparator)+env.BinDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KUBECONFIG="+kubeconfig,
		"HELM_PLUGINS="+plugins,
		"HELM_NAMESPACE="+f.NS,
		"DOCKER_CONFIG="+filepath.Join(dir, ".docker"),
		"COSIGN_PASSWORD="+cosignPassword)
	shell = append(shell, online...)

	// The starting state of the doc's path (--from v7.1.3a), installed as the other tests do.
	f.install(t, "v7.1.3a")
	f.wantRelease(t, charts713a)

	// The vendor's registry serves every image v7.2.2c and v7.3.1 render with these values.
	amd := v1.Platform{OS: "linux", Architecture: "amd64"}
	shared := registrytest.Layer(7, 1<<20)
	pushed := map[string]bool{}
	for _, rel := range []string{"v7.2.2c", "v7.3.1"} {
		r := f.mustHelmTPE(t, "", online, "images", "--to", rel, "-f", filepath.Join(dir, "values.yaml"), "--vendor-manifest", "none", "-o", "json")
		var listed struct{ Images []struct{ Image string } }
		if err := json.Unmarshal([]byte(r.Stdout), &listed); err != nil || len(listed.Images) == 0 {
			t.Fatalf("helm tpe images --to %s (%v): %s", rel, err, r.Stdout)
		}
		for _, li := range listed.Images {
			if pushed[li.Image] {
				continue
			}
			img, err := registrytest.Image(amd, shared, registrytest.Layer(uint64(200+len(pushed)), 32<<10))
			if err != nil {
				t.Fatal(err)
			}
			if err := vendor.Push(li.Image, img, vUser, vPass); err != nil {
				t.Fatal(err)
			}
			pushed[li.Image] = true
		}
	}

	// The doc's placeholders, and what the reader does that a test cannot: nothing else changes.
	mirror := site.Host + "/tpe"
	digest := ""
	placeholders := func(c string) string {
		c = strings.ReplaceAll(c, "registry.site.example", site.Host)
		if digest != "" {
			c = strings.ReplaceAll(c, "sha256:...", digest)
		}
		// The reader answers the upgrade's confirmation on the terminal; the test has none.
		if strings.HasPrefix(c, "helm tpe upgrade ") {
			c += " --yes"
		}
		return c
	}
	digestLine := regexp.MustCompile(`(?m)^Digest:\s+(sha256:[0-9a-f]{64})`)

	siteStarted := false
	for _, c := range cmds {
		if c.Site && !siteStarted {
			// Step 3: the site reaches no vendor registry, no chart repository, no configuration
			// repository.
			siteStarted = true
			vendor.Close()
			env.StopRepo(t)
			srv.Close()
			u, _ := url.Parse(env.RepoURL)
			for _, host := range []string{vendor.Host, u.Host, strings.TrimPrefix(srv.URL, "http://")} {
				if conn, err := net.DialTimeout("tcp", host, time.Second); err == nil {
					conn.Close()
					t.Fatalf("%s still answers at the site", host)
				}
			}
		}
		line := placeholders(c.Text)
		t0 := time.Now()
		r := env.Run(t, shell, nil, "bash", "-c", "cd "+dir+" && set -o pipefail && "+line)
		out := redact(r.String())
		t.Logf("docs/install.md:%d: %s (exit %d, %s)\n%s", c.Line, line, r.Code, time.Since(t0).Round(time.Millisecond), out)
		f.outputs = append(f.outputs, r.Stdout, r.Stderr)
		if r.Code != 0 && !(strings.HasPrefix(line, "kubectl tpe preflight ") && r.Code == 2 && preflightHarnessOnly(t, r.Stdout)) {
			t.Fatalf("docs/install.md:%d: %s: exit %d", c.Line, c.Text, r.Code)
		}
		if m := digestLine.FindAllStringSubmatch(r.Stdout, -1); len(m) > 0 {
			digest = m[len(m)-1][1]
		}
	}
	if !siteStarted {
		t.Fatal("docs/install.md: no command after \"On the site's deployment machine\"")
	}

	f.wantRelease(t, charts731)
	podImagesFrom(t, f.NS, mirror)
	f.noLeaks(t)
}

// podImagesFrom fails unless every image of the pod specs of namespace ns (deployments,
// statefulsets, cronjobs, jobs) names registry (host/path), and there is at least one.
func podImagesFrom(t *testing.T, ns, registry string) {
	t.Helper()
	out := env.KubectlAdmin(t, "-n", ns, "get", "deploy,statefulset,cronjob,job", "-o",
		`jsonpath={range .items[*]}{..containers[*].image}{" "}{..initContainers[*].image}{"\n"}{end}`)
	n := 0
	for _, img := range strings.Fields(out) {
		n++
		if !strings.HasPrefix(img, registry+"/") {
			t.Errorf("the cluster runs %s, not from the mirror %s", img, registry)
		}
	}
	if n == 0 {
		t.Errorf("no image in the cluster's pod specs: %q", out)
	}
}

// preflightHarness are the checks of `kubectl tpe preflight` that fail here for a reason of this
// machine, not of the document or the tools: preflight exits 2 when one fails.
var preflightHarness = map[string]string{
	"backup.reachable": "the fixture's values name an Amazon S3 bucket and this machine reaches no internet",
}

// preflightHarnessOnly reports whether the failed checks of a preflight table are all in
// preflightHarness, and fails the test unless the checks of the doc's point, machine.bundle and
// images.pull (the probe), passed.
func preflightHarnessOnly(t *testing.T, table string) bool {
	t.Helper()
	row := regexp.MustCompile(`(?m)^.*?\s(PASS|FAIL|WARN|SKIP|TODO)\s+(\S+)\s`)
	status := map[string]string{}
	ok := true
	for _, m := range row.FindAllStringSubmatch(table, -1) {
		status[m[2]] = m[1]
		if m[1] == "FAIL" {
			if why, known := preflightHarness[m[2]]; known {
				t.Logf("preflight: %s fails here: %s", m[2], why)
			} else {
				ok = false
			}
		}
	}
	for _, id := range []string{"machine.bundle", "images.pull"} {
		if status[id] != "PASS" {
			t.Errorf("preflight: %s is %q, want PASS", id, status[id])
		}
	}
	return ok
}

// newRegistryFixture starts the vendor's registry (basic auth) and the site's (TLS, basic auth),
// both closed when the test ends, and the fixture of a TPE installation with PUM done.
func newRegistryFixture(t *testing.T, vUser, vPass, sUser, sPass string) (vendor, site *registrytest.Registry, f *evFixture) {
	t.Helper()
	vendor, err := registrytest.Start(registrytest.Options{User: vUser, Password: vPass})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(vendor.Close)
	site, err = registrytest.Start(registrytest.Options{User: sUser, Password: sPass, TLS: true, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(site.Close)
	f = newEvFixture(t)
	env.ResetController(t)
	env.SetPUM(t, "done")
	return vendor, site, f
}
