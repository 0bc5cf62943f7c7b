package helmtpe

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	helmcli "helm.sh/helm/v3/pkg/cli"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/kube"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

const testNS = "thingpark-enterprise"

// run executes `helm tpe ARGS` with the given cluster (nil: none) and returns stdout, stderr and the error.
func run(t *testing.T, cl *Cluster, args ...string) (string, string, error) {
	t.Helper()
	t.Setenv("HELM_REPOSITORY_CONFIG", filepath.Join(t.TempDir(), "repositories.yaml"))
	t.Setenv("HELM_REPOSITORY_CACHE", t.TempDir())
	t.Setenv(EnvInstallationID, "")
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	env := &Env{Settings: helmcli.New(), Streams: streams}
	if cl != nil {
		env.WithCluster(cl)
	}
	root := NewCmdRootWith(env)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), errOut.String(), err
}

// newCluster is a cluster on memory storage and fake clientsets with the releases of tag installed.
func newCluster(t *testing.T, tag string) *Cluster {
	t.Helper()
	mem := driver.NewMemory()
	mem.SetNamespace(testNS)
	cfg := &action.Configuration{Releases: storage.Init(mem), KubeClient: &kubefake.PrintingKubeClient{Out: io.Discard},
		Capabilities: chartutil.DefaultCapabilities, Log: func(string, ...any) {}}
	if tag != "" {
		r, err := manifest.MustLoad().Resolve(tag)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range r.Charts() {
			rel := &helmrelease.Release{Name: c.ReleaseName, Namespace: testNS, Version: 1,
				Chart:  &chart.Chart{Metadata: &chart.Metadata{Name: c.Chart, Version: c.Version, AppVersion: r.Name[1:]}},
				Info:   &helmrelease.Info{Status: helmrelease.StatusDeployed},
				Config: map[string]any{"global": map[string]any{"installationId": "secret-id-for-" + c.ReleaseName}}}
			if err := cfg.Releases.Create(rel); err != nil {
				t.Fatal(err)
			}
		}
	}
	kc := fake.NewClientset()
	return &Cluster{Clients: &kube.Clients{Kube: kc, Discovery: kc.Discovery(), Namespace: testNS}, Namespace: testNS, Action: cfg}
}

func TestEveryCommandHasLongAndExample(t *testing.T) {
	root := NewCmdRoot(genericiooptions.NewTestIOStreamsDiscard())
	for _, c := range allCommands(root) {
		if c.Long == "" || c.Example == "" {
			t.Errorf("%s: Long and Example are required", c.CommandPath())
		}
	}
}

func allCommands(c *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{c}
	for _, sub := range c.Commands() {
		if sub.Name() == "help" || sub.Name() == "completion" || sub.Hidden {
			continue
		}
		out = append(out, allCommands(sub)...)
	}
	return out
}

func TestReleasesAndManifest(t *testing.T) {
	out, _, err := run(t, nil, "releases", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var m manifest.Matrix
	if err := json.Unmarshal([]byte(out), &m); err != nil || len(m.Releases) < 25 {
		t.Fatalf("releases -o json: %v (%d releases)", err, len(m.Releases))
	}
	out, _, err = run(t, nil, "manifest", "7.2.2c")
	if err != nil || !strings.Contains(out, "thingpark-application-controllers   1.1.6") {
		t.Errorf("manifest 7.2.2c: %v\n%s", err, out)
	}
	bad := filepath.Join(t.TempDir(), "VERSIONS")
	_ = os.WriteFile(bad, []byte("# x\nTHINGPARK_DATA_VERSION=1.2\n"), 0o644)
	_, _, err = run(t, nil, "manifest", "v8.0.0", "--manifest", bad)
	if err == nil || !strings.Contains(err.Error(), bad+":2:") {
		t.Errorf("bad VERSIONS: %v", err)
	}
	if _, _, err := run(t, nil, "manifest", "v9.9.9"); err == nil || !strings.Contains(err.Error(), "--manifest") {
		t.Errorf("unknown release: %v", err)
	}
	if _, _, err := run(t, nil, "releases", "-o", "xml"); err == nil {
		t.Error("-o xml accepted")
	}
}

func TestPlanCommand(t *testing.T) {
	tests := []struct {
		name     string
		tag      string
		args     []string
		wantCode int
		want     []string
	}{
		{"upgrade 7.2.2c → 7.3.1", "v7.2.2c", []string{"plan", "--to", "v7.3.1"}, cli.ExitFailed,
			[]string{"Installed:  v7.2.2c", "Hop 1: v7.2.2c → v7.3.1 (major)", "tpe-controllers", "1.1.6", "During the upgrade", "APIs (including DX API downlinks)", "admin.1.priorityclasses"}},
		{"fresh namespace", "", []string{"plan", "--to", "v7.2.2c"}, cli.ExitOK, []string{"nothing (fresh namespace)", "install in 1 hop(s)"}},
		{"backwards", "v7.3.1", []string{"plan", "--to", "v7.2.2c"}, cli.ExitFailed, []string{"rollback"}},
		{"nothing to do", "v7.3.1", []string{"plan", "--to", "v7.3.1"}, cli.ExitOK, []string{"already installed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl := newCluster(t, tt.tag)
			out, _, err := run(t, cl, tt.args...)
			if code := cli.ExitCode(err); code != tt.wantCode {
				t.Errorf("exit %d (%v), want %d\n%s", code, err, tt.wantCode, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestValuesGetWritesPrivateFiles(t *testing.T) {
	cl := newCluster(t, "v7.2.2c")
	dir := filepath.Join(t.TempDir(), "vals")
	out, _, err := run(t, cl, "values", "get", "-d", dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "secret-id") {
		t.Errorf("values get printed a value:\n%s", out)
	}
	for _, n := range manifest.ReleaseNames {
		fi, err := os.Stat(filepath.Join(dir, n+".yaml"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s.yaml: %v %v", n, err, fi)
			continue
		}
		b, _ := os.ReadFile(filepath.Join(dir, n+".yaml"))
		if !strings.Contains(string(b), "secret-id-for-"+n) {
			t.Errorf("%s.yaml: %s", n, b)
		}
	}
	if _, _, err := run(t, newCluster(t, ""), "values", "get", "-d", dir); err == nil || !strings.Contains(err.Error(), "no TPE release") {
		t.Errorf("empty namespace: %v", err)
	}
}

func TestFlagValidation(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"upgrade", "--to", "v7.3.1", "-f", "x.yaml", "--dry-run", "--resume"}, "--dry-run cannot be used with --resume"},
		{[]string{"upgrade", "--to", "v7.3.1", "-f", "x.yaml", "--show-secrets"}, "--show-secrets only applies to --dry-run"},
		{[]string{"install", "--to", "v7.3.1"}, "-f is required"},
		{[]string{"rollback", "--yes"}, "needs --backup NAME"},
		{[]string{"plan"}, "--to is required"},
		{[]string{"plan", "--to", "v7.3.1", "--color", "banana"}, `invalid argument "banana" for "--color" flag: must be auto, always or never`},
		{[]string{"repo", "add", "--repo-url", "", "--installation-id-file", "/nonexistent/id"}, "--repo and --repo-url must not be empty"},
		{[]string{"repo", "add", "--url", "", "--installation-id-file", "/nonexistent/id"}, "--repo and --repo-url must not be empty"}, // the older name is an alias
		{[]string{"plan", "--bundle", "b.tar.gz", "--refresh"}, "--bundle cannot be used with --refresh"},
		{[]string{"upgrade", "--bundle", "b.tar.gz", "--repo-url", "http://x", "-f", "x.yaml"}, "--bundle cannot be used with --repo-url"},
		{[]string{"upgrade", "--bundle", "/nonexistent/b.tar.gz", "-f", "x.yaml"}, "--bundle: reading the bundle"},
		{[]string{"bundle", "verify", "/nonexistent/b.tar.gz", "--digest", "abc"}, "--digest \"abc\""},
		{[]string{"bundle", "verify", "/nonexistent/b.tar.gz", "--digest", "sha256:abc"}, "--digest \"sha256:abc\""},
		{[]string{"repo", "add", "--to", "v7.3.1"}, "no installation ID"},
		{[]string{"repo", "add", "--installation-id-file", "/nonexistent/id"}, "--installation-id-file: reading the installation ID file"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := run(t, nil, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if cli.ExitCode(err) != cli.ExitErr {
				t.Errorf("exit code %d, want %d (bad input)", cli.ExitCode(err), cli.ExitErr)
			}
		})
	}
}

func TestInstallRefusesWithoutTTYOrRepo(t *testing.T) {
	cl := newCluster(t, "v7.2.2c")
	vals := filepath.Join(t.TempDir(), "v.yaml")
	_ = os.WriteFile(vals, []byte("global:\n  installationId: abcdefgh12345678\n  backup:\n    s3Compat: {url: 'http://m:9000', accessKey: a, secretAccessKey: b, bucket: c}\n"), 0o600)
	// no repository configured: a clear error naming `helm tpe repo add`, nothing changed
	_, _, err := run(t, cl, "upgrade", "--to", "v7.3.1", "-f", vals, "--yes")
	if err == nil || !strings.Contains(err.Error(), "helm tpe repo add") || strings.Contains(err.Error(), "abcdefgh12345678") {
		t.Errorf("err = %v", err)
	}
	// install on an installed namespace is refused
	noID := filepath.Join(t.TempDir(), "n.yaml")
	_ = os.WriteFile(noID, []byte("global: {}\n"), 0o600)
	_, stderr, err := run(t, cl, "upgrade", "--to", "v7.3.1", "-f", noID, "--yes")
	if cli.ExitCode(err) != cli.ExitFailed || !strings.Contains(stderr, "global.installationId is not set") {
		t.Errorf("values without installationId: %v\n%s", err, stderr)
	}
}
