//go:build e2e

package e2e

// Packaging tests of issue 7, with the real tools: goreleaser builds this machine's archives,
// helm v3.21 (the cluster's) and helm v4.3 (hack/tools) install plugin.yaml, krew's install of the
// kubectl-tpe archive is simulated (internal/packaging) and kubectl finds and completes the plugin,
// bash completes kubectl-tpe through the script `kubectl-tpe completion bash` prints.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/thingpark-tools/kubectl-tpe/e2e/framework"
	"github.com/thingpark-tools/kubectl-tpe/internal/packaging"
)

// pluginTool returns the path of a tool built by hack/tools/build.sh (goreleaser, golangci-lint or
// helm for helm4), building it first when it is missing (minutes, once per machine: it is stamped).
func pluginTool(t *testing.T, tool string) string {
	t.Helper()
	cmd := exec.Command("bash", "-c", ". hack/tools/versions.sh && echo $TOOLS_BIN")
	cmd.Dir = env.Root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/tools/versions.sh: %v", err)
	}
	name := tool
	if tool == "helm" {
		name = "helm4"
	}
	bin := filepath.Join(strings.TrimSpace(string(out)), name)
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	t0 := time.Now()
	cmd = exec.Command("hack/tools/build.sh")
	cmd.Dir = env.Root
	cmd.Env = append(os.Environ(), "TOOLS="+tool)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/tools/build.sh %s: %v\n%s", tool, err, b)
	}
	t.Logf("built %s in %s", name, time.Since(t0).Round(time.Second))
	return bin
}

// toolEnv is the environment of a real helm or kubectl run: the caller's minus every kubeconfig
// and Helm variable, an isolated Helm home, and path first in PATH, then the cluster binaries.
func toolEnv(home string, path ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "KUBECONFIG" || k == "PATH" || strings.HasPrefix(k, "HELM_") {
			continue
		}
		out = append(out, kv)
	}
	path = append(path, env.BinDir, os.Getenv("PATH"))
	return append(out,
		"PATH="+strings.Join(path, string(os.PathListSeparator)),
		// HELM_PLUGINS is Helm's default place, $HELM_DATA_HOME/plugins: Helm 4.3's local installer
		// writes there whatever HELM_PLUGINS says (LocalInstaller.Path uses helmpath.DataPath),
		// while both Helms load plugins from HELM_PLUGINS.
		"HELM_PLUGINS="+filepath.Join(home, "data", "plugins"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"NO_COLOR=1",
	)
}

func lookupEnv(environ []string, key string) string {
	for _, kv := range environ {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	return ""
}

func runOK(t *testing.T, environ []string, bin string, args ...string) framework.Result {
	t.Helper()
	r := env.Run(t, environ, nil, bin, args...)
	if r.Code != 0 {
		t.Fatalf("%s %s: %s", filepath.Base(bin), strings.Join(args, " "), r)
	}
	return r
}

// sourceCopy copies the checkout (tracked and untracked, not ignored files) into dir/helm-tpe, as
// `helm plugin install <git URL>` would clone it: a plugin directory with go.mod and no bin/.
func sourceCopy(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "-C", env.Root, "ls-files", "-co", "--exclude-standard", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	dst := filepath.Join(t.TempDir(), "helm-tpe")
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(env.Root, f)
		fi, err := os.Lstat(src)
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the work tree, or a symlink
		}
		copyFile(t, src, filepath.Join(dst, f), fi.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(dst, "bin")); err == nil {
		t.Fatal("the source copy has a bin/ directory: the hook would not build")
	}
	return dst
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// hostDist is goreleaser's snapshot release of this checkout for this machine's platform only
// (.goreleaser.yaml with goos/goarch narrowed; everything else as configured), built once per run.
type hostDistT struct {
	Dir       string
	Meta      packaging.DistMetadata
	Archives  map[string]string // archives id (kubectl-tpe, helm-tpe) → file name
	Checksums map[string]string
}

var hostDistCache *hostDistT

func hostDist(t *testing.T) *hostDistT {
	t.Helper()
	if hostDistCache != nil {
		return hostDistCache
	}
	goreleaser := pluginTool(t, "goreleaser")
	b, err := os.ReadFile(filepath.Join(env.Root, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	builds, _ := cfg["builds"].([]any)
	if len(builds) != 2 {
		t.Fatalf(".goreleaser.yaml has %d builds, want kubectl-tpe and helm-tpe", len(builds))
	}
	for _, b := range builds {
		b.(map[string]any)["goos"] = []string{runtime.GOOS}
		b.(map[string]any)["goarch"] = []string{runtime.GOARCH}
	}
	// Not t.TempDir: later tests reuse the archives. The run dir goes away with the cluster.
	tmp := filepath.Join(env.RunDir, "plugins-dist")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	dist := filepath.Join(tmp, "dist")
	cfg["dist"] = dist
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(tmp, "goreleaser.yaml")
	if err := os.WriteFile(config, out, 0o644); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	r := env.Run(t, nil, nil, goreleaser, "release", "--snapshot", "--clean", "--config", config)
	if r.Code != 0 {
		t.Fatalf("goreleaser release --snapshot: %s", r)
	}
	t.Logf("goreleaser snapshot for %s/%s in %s", runtime.GOOS, runtime.GOARCH, time.Since(t0).Round(time.Second))
	md, arts, sums, err := packaging.ReadDist(dist)
	if err != nil {
		t.Fatal(err)
	}
	d := &hostDistT{Dir: dist, Meta: md, Archives: map[string]string{}, Checksums: sums}
	for _, a := range arts {
		d.Archives[a.Extra.ID] = a.Name
	}
	hostDistCache = d
	return d
}

// TestGoReleaserArchivesMatchManifests: the archives goreleaser really produces carry the names
// both manifests expect, their checksums are right, and their content is what krew/tpe.yaml and
// plugin.yaml refer to.
func TestGoReleaserArchivesMatchManifests(t *testing.T) {
	d := hostDist(t)
	g, err := packaging.LoadGoReleaser(filepath.Join(env.Root, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := g.ArchivesFor(d.Meta.Tag)
	if err != nil {
		t.Fatal(err)
	}
	host := packaging.OSArch{OS: runtime.GOOS, Arch: runtime.GOARCH}
	for _, a := range want {
		if a.Platform != host {
			continue
		}
		t.Run(a.ID, func(t *testing.T) {
			got := d.Archives[a.ID]
			if got != a.Name {
				t.Fatalf("goreleaser produced %q, the manifests expect %q", got, a.Name)
			}
			sum, ok := d.Checksums[got]
			if !ok {
				t.Fatalf("%s is not in checksums.txt", got)
			}
			out, err := exec.Command("sha256sum", filepath.Join(d.Dir, got)).Output()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(out), sum+" ") {
				t.Errorf("checksums.txt says %s, sha256sum says %s", sum, out)
			}
			dir := t.TempDir()
			if err := packaging.Extract(filepath.Join(d.Dir, got), dir); err != nil {
				t.Fatal(err)
			}
			for _, f := range append([]string{a.Binary}, a.Files...) {
				fi, err := os.Stat(filepath.Join(dir, f))
				if err != nil {
					t.Errorf("archive %s lacks %s", got, f)
					continue
				}
				if (f == a.Binary || strings.HasSuffix(f, ".sh") || f == "plugin.complete") && fi.Mode()&0o111 == 0 {
					t.Errorf("%s is not executable in %s", f, got)
				}
			}
		})
	}
	if len(d.Archives) != 2 {
		t.Errorf("goreleaser produced %v, want one kubectl-tpe and one helm-tpe archive", d.Archives)
	}
}

type helmUnderTest struct{ name, bin, wantVersion string }

func helms(t *testing.T) []helmUnderTest {
	return []helmUnderTest{
		{name: "helm-v3", bin: env.Helm, wantVersion: "v3."},
		{name: "helm-v4", bin: pluginTool(t, "helm"), wantVersion: "v4."},
	}
}

func pluginYAMLVersion(t *testing.T) string {
	t.Helper()
	p, err := packaging.LoadHelmPlugin(filepath.Join(env.Root, "plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return p.Version
}

// TestHelmPluginFromSource installs the plugin from a source checkout with helm v3 and helm v4:
// the install hook builds helm-tpe with go build; then helm runs it, hands it its global flags,
// propagates its exit code and completes it through plugin.complete.
func TestHelmPluginFromSource(t *testing.T) {
	src := sourceCopy(t)
	ctxName := strings.TrimSpace(env.KubectlAdmin(t, "config", "current-context"))
	ns := "tpe-plugin-e2e"
	env.KubectlAdmin(t, "create", "namespace", ns)
	t.Cleanup(func() { _, _ = env.KubectlOK(t, env.AdminKubeconfig, "delete", "namespace", ns, "--wait=false") })
	for _, h := range helms(t) {
		t.Run(h.name, func(t *testing.T) {
			home := t.TempDir()
			e := toolEnv(home)
			if r := runOK(t, e, h.bin, "version", "--short"); !strings.HasPrefix(r.Stdout, h.wantVersion) {
				t.Fatalf("%s is %q, want %s*", h.bin, r.Stdout, h.wantVersion)
			}
			t0 := time.Now()
			r := runOK(t, e, h.bin, "plugin", "install", src)
			t.Logf("helm plugin install (hook builds helm-tpe): %s", time.Since(t0).Round(time.Millisecond))
			if !strings.Contains(r.Stdout+r.Stderr, "building v"+pluginYAMLVersion(t)+" from source") {
				t.Errorf("the install hook did not build from source:\n%s", r)
			}
			if r := runOK(t, e, h.bin, "plugin", "list"); !strings.Contains(r.Stdout, "tpe") {
				t.Errorf("helm plugin list lacks tpe:\n%s", r.Stdout)
			}
			checkHelmRunsPlugin(t, h, e, ctxName, ns, "v"+pluginYAMLVersion(t))
			runOK(t, e, h.bin, "plugin", "uninstall", "tpe")
			if r := runOK(t, e, h.bin, "plugin", "list"); strings.Contains(r.Stdout, "tpe ") {
				t.Errorf("tpe still listed after uninstall:\n%s", r.Stdout)
			}
		})
	}
}

// TestHelmPluginFromReleaseArchive installs an unpacked helm-tpe release archive: the hook uses
// the archive's bin/helm-tpe and builds nothing.
func TestHelmPluginFromReleaseArchive(t *testing.T) {
	d := hostDist(t)
	ctxName := strings.TrimSpace(env.KubectlAdmin(t, "config", "current-context"))
	for _, h := range helms(t) {
		t.Run(h.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "helm-tpe")
			if err := packaging.Extract(filepath.Join(d.Dir, d.Archives["helm-tpe"]), dir); err != nil {
				t.Fatal(err)
			}
			home := t.TempDir()
			// No Go on PATH: a release install must not need it.
			e := toolEnv(home)
			for i, kv := range e {
				if strings.HasPrefix(kv, "PATH=") {
					e[i] = "PATH=" + env.BinDir + ":/usr/bin:/bin"
				}
			}
			r := runOK(t, e, h.bin, "plugin", "install", dir)
			if !strings.Contains(r.Stdout+r.Stderr, "using the release binary") {
				t.Errorf("the install hook did not use the release binary:\n%s", r)
			}
			checkHelmRunsPlugin(t, h, e, ctxName, env.Namespace, d.Meta.Version)
		})
	}
}

func checkHelmRunsPlugin(t *testing.T, h helmUnderTest, e []string, ctxName, ns, wantVersion string) {
	t.Helper()
	var v struct{ Version string }
	r := runOK(t, e, h.bin, "tpe", "version", "-o", "json")
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("helm tpe version -o json: %v\n%s", err, r.Stdout)
	}
	if strings.TrimPrefix(v.Version, "v") != strings.TrimPrefix(wantVersion, "v") {
		t.Errorf("helm tpe version = %s, want %s", v.Version, wantVersion)
	}

	// Helm's global flags reach the plugin (helm strips them and exports HELM_NAMESPACE, ...).
	r = runOK(t, e, h.bin, "--kubeconfig", env.AdminKubeconfig, "--kube-context", ctxName, "-n", ns, "tpe", "env", "-o", "json")
	var info struct {
		Namespace, KubeContext, Kubeconfig, PluginDir, HelmBin string
		Plugin                                                 bool
	}
	if err := json.Unmarshal([]byte(r.Stdout), &info); err != nil {
		t.Fatalf("helm tpe env -o json: %v\n%s", err, r.Stdout)
	}
	if info.Namespace != ns || info.KubeContext != ctxName || info.Kubeconfig != env.AdminKubeconfig || !info.Plugin {
		t.Errorf("helm -n %s --kube-context %s --kubeconfig %s tpe env: got %+v", ns, ctxName, env.AdminKubeconfig, info)
	}
	if plugins := lookupEnv(e, "HELM_PLUGINS"); !strings.HasPrefix(info.PluginDir, plugins+string(os.PathSeparator)) {
		t.Errorf("plugin dir %s is not under HELM_PLUGINS=%s", info.PluginDir, plugins)
	}

	// Without -n, and with a kube context that names no namespace, Helm exports
	// HELM_NAMESPACE=default: helm tpe must not take it as the user's choice (it would plan and
	// install TPE in namespace default), but work in the namespace helm-tpe uses on its own.
	ctxNS := strings.TrimSpace(env.KubectlAdmin(t, "config", "view", "--minify", "-o", "jsonpath={.contexts[0].context.namespace}"))
	wantNS := ctxNS
	if wantNS == "" || wantNS == "default" {
		wantNS = "thingpark-enterprise"
	}
	r = runOK(t, e, h.bin, "--kubeconfig", env.AdminKubeconfig, "--kube-context", ctxName, "tpe", "env", "-o", "json")
	if err := json.Unmarshal([]byte(r.Stdout), &info); err != nil {
		t.Fatalf("helm tpe env -o json: %v\n%s", err, r.Stdout)
	}
	if info.Namespace != wantNS {
		t.Errorf("helm tpe env without -n through %s (context namespace %q): namespace %q, want %s", h.name, ctxNS, info.Namespace, wantNS)
	}
	r = env.Run(t, e, nil, h.bin, "--kubeconfig", env.AdminKubeconfig, "--kube-context", ctxName, "tpe", "plan", "--from", "v7.2.2c", "--to", "v7.3.1", "-o", "json")
	var offline struct{ Namespace string }
	if err := json.Unmarshal([]byte(r.Stdout), &offline); err != nil || offline.Namespace != wantNS {
		t.Errorf("helm tpe plan --from without -n through %s: namespace %q (%v), want %s\n%s", h.name, offline.Namespace, err, wantNS, r)
	}

	// A real command through helm, on the cluster: the plan of a fresh install in namespace ns.
	r = env.Run(t, e, nil, h.bin, "--kubeconfig", env.AdminKubeconfig, "--kube-context", ctxName, "-n", ns,
		"tpe", "plan", "--to", "v7.3.1", "--repo-url", env.RepoURL, "--installation-id-file", env.InstallationIDFile, "-o", "json")
	if r.Code != 0 && r.Code != 2 {
		t.Fatalf("helm tpe plan: want exit 0 or 2 (plan blocked), got %s", r)
	}
	var plan struct{ Namespace, Target, Action string }
	if err := json.Unmarshal([]byte(r.Stdout), &plan); err != nil {
		t.Fatalf("helm tpe plan -o json: %v\n%s", err, r.Stdout)
	}
	if plan.Namespace != ns || plan.Target != "v7.3.1" {
		t.Errorf("helm tpe plan through %s: namespace %q target %q, want %s and v7.3.1", h.name, plan.Namespace, plan.Target, ns)
	}
	if strings.Contains(r.Stdout+r.Stderr, env.InstallationID) {
		t.Error("helm tpe plan printed the installation ID")
	}

	// The plugin's exit code and its one error line come through helm.
	r = env.Run(t, e, nil, h.bin, "tpe", "version", "-o", "xml")
	if r.Code != 1 || strings.Count(r.Stderr, "xml") == 0 || r.Stdout != "" {
		t.Errorf("helm tpe version -o xml: want exit 1 and an error naming xml on stderr, got %s", r)
	}

	// helm's completion of the plugin goes through plugin.complete → helm-tpe __complete.
	r = runOK(t, e, h.bin, "__complete", "tpe", "")
	for _, sub := range []string{"version", "env", "plan"} {
		if !slices.Contains(completionWords(r.Stdout), sub) {
			t.Errorf("helm __complete tpe '' lacks %s:\n%s", sub, r.Stdout)
		}
	}
	r = runOK(t, e, h.bin, "__complete", "tpe", "plan", "--to", "v7.3.")
	if got := completionWords(r.Stdout); !slices.Contains(got, "v7.3.1") || slices.Contains(got, "v7.2.2c") {
		t.Errorf("helm __complete tpe plan --to v7.3.: %v", got)
	}
}

// completionWords returns the candidates of a cobra __complete answer (without descriptions and
// the :directive line).
func completionWords(out string) []string {
	var words []string
	for _, line := range strings.Split(out, "\n") {
		if line == "" || strings.HasPrefix(line, ":") || strings.HasPrefix(line, "Completion ended") {
			continue
		}
		w, _, _ := strings.Cut(line, "\t")
		words = append(words, w)
	}
	return words
}

// TestKrewManifestInstall renders krew/tpe.yaml for the snapshot release (this platform's
// archive and checksum are real; the other platforms' archives are not built in this test, so
// their sha256 are stand-ins that only serve the structural checks — `make dist` + `make
// verify-krew` check them all), validates it with krew's rules, installs the archive as krew does,
// and runs the plugin through the real kubectl: plugin list, version, completion.
func TestKrewManifestInstall(t *testing.T) {
	d := hostDist(t)
	tmpl, err := os.ReadFile(filepath.Join(env.Root, "krew", "tpe.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	known := packaging.ChecksumLookup(d.Checksums)
	manifest, err := packaging.RenderKrewTemplate(tmpl, d.Meta.Tag, func(archive string) (string, error) {
		if s, err := known(archive); err == nil {
			return s, nil
		}
		sum := sha256.Sum256([]byte("not built in this test: " + archive))
		return hex.EncodeToString(sum[:]), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "tpe.yaml")
	if err := os.WriteFile(file, manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := packaging.ParseKrewManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range packaging.ValidateKrewManifest(file, p) {
		t.Error(err)
	}
	host := packaging.OSArch{OS: runtime.GOOS, Arch: runtime.GOARCH}
	pl, err := p.PlatformFor(host)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(pl.URI) != d.Archives["kubectl-tpe"] || pl.Sha256 != d.Checksums[d.Archives["kubectl-tpe"]] {
		t.Fatalf("krew platform %s: uri %s sha256 %s, goreleaser made %s", host, pl.URI, pl.Sha256, d.Archives["kubectl-tpe"])
	}

	root := t.TempDir() // KREW_ROOT
	link, err := packaging.KrewInstall(root, p.Metadata.Name, p.Spec.Version, filepath.Join(d.Dir, d.Archives["kubectl-tpe"]), pl, false)
	if err != nil {
		t.Fatal(err)
	}
	krewBin := filepath.Dir(link)
	e := toolEnv(t.TempDir(), krewBin)
	e = append(e, "KUBECONFIG="+env.OperatorKubeconfig)

	r := runOK(t, e, env.Kubectl, "plugin", "list")
	if !strings.Contains(r.Stdout, link) {
		t.Errorf("kubectl plugin list does not find %s:\n%s", link, r)
	}
	r = runOK(t, e, env.Kubectl, "tpe", "version", "-o", "json")
	var v struct{ Version, Commit string }
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil || v.Version != d.Meta.Version {
		t.Errorf("kubectl tpe version -o json: %v, want version %s:\n%s", err, d.Meta.Version, r.Stdout)
	}
	if r := runOK(t, e, env.Kubectl, "tpe", "--help"); !strings.Contains(r.Stdout, "kubectl tpe") {
		t.Errorf("kubectl tpe --help does not present itself as kubectl tpe:\n%s", r.Stdout)
	}

	// kubectl completes `kubectl tpe ...` through kubectl_complete-tpe: first the script of the
	// archive, then a link to the binary (what a user who installed with krew creates).
	dir := t.TempDir()
	if err := packaging.Extract(filepath.Join(d.Dir, d.Archives["kubectl-tpe"]), dir); err != nil {
		t.Fatal(err)
	}
	for name, helperDir := range map[string]string{"script": dir, "link": krewBin} {
		t.Run("kubectl completion via "+name, func(t *testing.T) {
			if name == "link" {
				if err := os.Symlink(link, filepath.Join(krewBin, "kubectl_complete-tpe")); err != nil {
					t.Fatal(err)
				}
			}
			e := toolEnv(t.TempDir(), helperDir, krewBin)
			e = append(e, "KUBECONFIG="+env.AdminKubeconfig)
			r := runOK(t, e, env.Kubectl, "__complete", "tpe", "ver")
			if got := completionWords(r.Stdout); !slices.Equal(got, []string{"version"}) {
				t.Errorf("kubectl __complete tpe ver: %v\n%s", got, r)
			}
			r = runOK(t, e, env.Kubectl, "__complete", "tpe", "completion", "")
			if got := completionWords(r.Stdout); !slices.Equal(got, []string{"bash", "zsh", "fish", "powershell"}) {
				t.Errorf("kubectl __complete tpe completion '': %v", got)
			}
			// namespaces come from the cluster of kubectl's kubeconfig
			r = runOK(t, e, env.Kubectl, "__complete", "tpe", "version", "-n", "thingpark-")
			if got := completionWords(r.Stdout); !slices.Contains(got, env.Namespace) {
				t.Errorf("kubectl __complete tpe version -n thingpark-: %v", got)
			}
			if name == "link" {
				_ = os.Remove(filepath.Join(krewBin, "kubectl_complete-tpe"))
			}
		})
	}
}

// TestCompletionBash loads `kubectl-tpe completion bash` in a real bash and drives the completion
// function as bash does on <TAB> (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT).
// minimalBashCompletion writes the one function of the bash-completion package that cobra's
// script needs, _get_comp_words_by_ref, reduced to what the test's words need (it does not join
// words that bash split on "=" or ":", as the real one does for -n =:).
func minimalBashCompletion(t *testing.T) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "bash_completion")
	const script = `_get_comp_words_by_ref() {
    while [[ $1 == -* ]]; do
        case $1 in -n|-i|-c) shift 2 ;; *) shift ;; esac
    done
    local v
    for v in "$@"; do
        case $v in
            cur) cur=${COMP_WORDS[COMP_CWORD]} ;;
            prev) prev=${COMP_WORDS[COMP_CWORD-1]} ;;
            words) words=("${COMP_WORDS[@]}") ;;
            cword) cword=$COMP_CWORD ;;
        esac
    done
}
`
	if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCompletionBash(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatalf("bash is needed for the completion test: %v", err)
	}
	// cobra's bash completion script, like kubectl's, reads the words with _get_comp_words_by_ref
	// of the bash-completion package, as in a user's shell. When the package is installed the
	// test uses it; otherwise it defines the minimal stand-in below (a test suite does not install
	// system packages).
	bashCompletion := minimalBashCompletion(t)
	for _, f := range []string{"/usr/share/bash-completion/bash_completion", "/etc/bash_completion"} {
		if _, err := os.Stat(f); err == nil {
			bashCompletion = f
			break
		}
	}
	t.Logf("bash completion helpers from %s", bashCompletion)
	binDir := filepath.Dir(env.KubectlTPEBin)
	complete := func(t *testing.T, words ...string) []string {
		t.Helper()
		script := `source "$BASH_COMPLETION_FILE"
source <(kubectl-tpe completion bash)
COMP_WORDS=("$@")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
__start_kubectl-tpe 2>/dev/null
printf '%s\n' "${COMPREPLY[@]}"`
		e := append(toolEnv(t.TempDir(), binDir), "BASH_COMPLETION_FILE="+bashCompletion)
		r := runOK(t, e, "bash", append([]string{"-c", script, "bash"}, words...)...)
		var out []string
		for _, line := range strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n") {
			// With several candidates, cobra's bash script adds "  (description)" to each.
			w, _, _ := strings.Cut(line, " ")
			if w != "" {
				out = append(out, w)
			}
		}
		return out
	}
	tests := []struct {
		name  string
		words []string
		want  []string // exactly
		has   []string // at least
	}{
		{name: "subcommands", words: []string{"kubectl-tpe", ""}, has: []string{"completion", "version"}},
		{name: "one subcommand", words: []string{"kubectl-tpe", "comp"}, want: []string{"completion"}},
		{name: "shells", words: []string{"kubectl-tpe", "completion", ""}, want: []string{"bash", "fish", "powershell", "zsh"}},
		{name: "output formats", words: []string{"kubectl-tpe", "version", "-o", ""}, want: []string{"json", "table", "wide", "yaml"}},
		{name: "namespaces from the cluster", words: []string{"kubectl-tpe", "--kubeconfig", env.AdminKubeconfig, "version", "-n", "thingpark-e"}, want: []string{env.Namespace}},
	}
	cmdPath := commandWithFlag(t, "hosting")
	if cmdPath == nil {
		t.Error("no kubectl-tpe command has --hosting (preflight, prereqs): its completion cannot be checked")
	} else {
		tests = append(tests,
			struct {
				name  string
				words []string
				want  []string
				has   []string
			}{name: "hosting values", words: append(append([]string{"kubectl-tpe"}, cmdPath...), "--hosting", ""), want: []string{"aks", "eks", "gke", "other"}},
			struct {
				name  string
				words []string
				want  []string
				has   []string
			}{name: "one hosting value", words: append(append([]string{"kubectl-tpe"}, cmdPath...), "--hosting", "g"), want: []string{"gke"}},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := complete(t, tt.words...)
			if tt.want != nil {
				slices.Sort(got)
				if !slices.Equal(got, tt.want) {
					t.Errorf("%q<TAB>: got %v, want %v", strings.Join(tt.words, " "), got, tt.want)
				}
			}
			for _, w := range tt.has {
				if !slices.Contains(got, w) {
					t.Errorf("%q<TAB>: %v lacks %s", strings.Join(tt.words, " "), got, w)
				}
			}
		})
	}
}

// commandWithFlag returns the words of the first kubectl-tpe command that has --flag, asking the
// binary itself (kubectl-tpe __complete lists subcommands, --help shows flags).
func commandWithFlag(t *testing.T, flag string) []string {
	t.Helper()
	r := env.KubectlTPE(t, "", "__complete", "")
	for _, sub := range completionWords(r.Stdout) {
		h := env.KubectlTPE(t, "", sub, "--help")
		if strings.Contains(h.Stdout, "--"+flag+" ") || strings.Contains(h.Stdout, "--"+flag+"=") {
			return []string{sub}
		}
	}
	return nil
}
