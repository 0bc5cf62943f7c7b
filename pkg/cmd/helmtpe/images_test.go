package helmtpe

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/internal/configrepo"
	"github.com/thingpark-tools/kubectl-tpe/pkg/catalog"
	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/images"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// fixture731Images are the images the fixture charts of v7.3.1 render with the default values.
var fixture731Images = []string{
	"bitnami/mariadb-galera:10.6.15-debian-11-r45",
	"bitnami/zookeeper:3.8.1-debian-11-r9",
	"percona/percona-server-mongodb-operator:1.13.0",
	"percona/percona-server-mongodb:4.2.22-22",
	"quay.io/jetstack/cert-manager-controller:v1.12.0",
	"quay.io/strimzi/kafka:0.33.2-kafka-3.4.0",
	"quay.io/strimzi/operator:0.33.2",
	"registry.k8s.io/ingress-nginx/controller:v1.5.1",
	"repository.thingpark.com/thingpark-kubernetes/lrc:7",
	"repository.thingpark.com/thingpark-kubernetes/post-upgrade:1.3.0-2",
	"repository.thingpark.com/thingpark-kubernetes/smp-tpe:7",
	"repository.thingpark.com/thingpark-kubernetes/tp-gui:7",
	"repository.thingpark.com/thingpark-kubernetes/tpe-controller:0.5.4-1",
	"repository.thingpark.com/thingpark-kubernetes/twa:7",
}

// vendorRepo serves a configuration repository whose v7.3.1 lists list as its container manifest
// (v7.2.2c has none), and points the command at it.
func vendorRepo(t *testing.T, list string) {
	t.Helper()
	srv := httptest.NewServer(configrepo.New([]configrepo.Ref{
		{Name: "v7.3.1", Files: map[string]string{catalog.ContainerManifest: list}},
		{Name: "v7.2.2c"},
	}, nil))
	t.Cleanup(srv.Close)
	t.Setenv("HELM_TPE_CONFIG_REPO_API", srv.URL+"/api")
	t.Setenv("HELM_TPE_CONFIG_REPO_RAW", srv.URL+"/raw")
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func TestImagesCommand(t *testing.T) {
	noKubeconfig(t)
	dir := chartDir(t, "v7.3.1")
	vendor := "Images:\r\n" + strings.Join(fixture731Images[1:], "\r\n") + "\r\nrepository.thingpark.com/thingpark-kubernetes/lrc-proxy:7\r\n"
	vendorRepo(t, vendor)

	t.Run("one image a line, compared with the vendor's list", func(t *testing.T) {
		out, stderr, err := run(t, nil, "images", "--to", "v7.3.1", "--chart-dir", dir)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		if got := lines(out); !reflect.DeepEqual(got, fixture731Images) {
			t.Errorf("stdout:\n%s\nwant:\n%s", out, strings.Join(fixture731Images, "\n"))
		}
		for _, w := range []string{"14 images in the charts of v7.3.1", "2 images differ from the vendor's container-manifest.txt",
			"+ bitnami/mariadb-galera:10.6.15-debian-11-r45 (only rendered)", "- repository.thingpark.com/thingpark-kubernetes/lrc-proxy:7 (only in the vendor's list)", "/raw/v7.3.1/container-manifest.txt"} {
			if !strings.Contains(stderr, w) {
				t.Errorf("stderr lacks %q:\n%s", w, stderr)
			}
		}
	})

	t.Run("the keys of a mirror as a values snippet", func(t *testing.T) {
		out, stderr, err := run(t, nil, "images", "--to", "v7.3.1", "--chart-dir", dir, "--registry", "mirror.example.com:5000/tpe/", "--vendor-manifest", writeTemp(t, strings.Join(fixture731Images, "\n")))
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		for _, w := range []string{
			"# Values that take the images of v7.3.1 from mirror.example.com:5000/tpe",
			"global:\n  repositories:\n    containerImagesRegistry:\n      fqdn: mirror.example.com:5000/tpe\n",
			"strimzi-kafka-operator:\n  image:\n    registry: mirror.example.com:5000/tpe\n",
			"psmdb-operator:\n  image:\n    repository: mirror.example.com:5000/tpe/percona/percona-server-mongodb-operator\n",
		} {
			if !strings.Contains(out, w) {
				t.Errorf("stdout lacks %q:\n%s", w, out)
			}
		}
		for _, w := range []string{"cannot be redirected by values: mirror it under the same name or ask the vendor", "  bitnami/zookeeper:3.8.1-debian-11-r9",
			"The images are those of the vendor's container-manifest.txt"} {
			if !strings.Contains(stderr, w) {
				t.Errorf("stderr lacks %q:\n%s", w, stderr)
			}
		}
		if strings.Contains(stderr, "thingpark-kubernetes/twa") || strings.Contains(stderr, "strimzi/operator") {
			t.Errorf("a redirected image is listed as not redirected:\n%s", stderr)
		}
	})

	t.Run("the installation ID in a registry host name is refused, as bundle create refuses it", func(t *testing.T) {
		const id = "f00dfeed1234abcd5678"
		vals := writeTemp(t, "global:\n  installationId: "+id+"\n  repositories:\n    containerImagesRegistry:\n      fqdn: "+id+".registry.example.com\n")
		for _, o := range []string{"table", "json"} {
			out, stderr, err := run(t, nil, "images", "--to", "v7.3.1", "--chart-dir", dir, "-f", vals, "-o", o)
			var se *images.SecretInImageError
			if !errors.As(err, &se) || cli.ExitCode(err) != cli.ExitErr {
				t.Fatalf("-o %s: err = %v, want a SecretInImageError (exit 1)", o, err)
			}
			if all := out + stderr + err.Error(); strings.Contains(all, id) || !strings.Contains(err.Error(), "registry host name") {
				t.Errorf("-o %s: the ID is shown, or the error does not say why:\n%s", o, all)
			}
		}
		// bundle create renders its images through the same rule (renderImages).
		rel, err := manifest.MustLoad().Resolve("v7.3.1")
		if err != nil {
			t.Fatal(err)
		}
		v, _ := values.LoadContext(t.Context(), []string{vals})
		var se *images.SecretInImageError
		if _, err := renderImages(t.Context(), rel, &charts.Dir{Path: dir}, v); !errors.As(err, &se) {
			t.Errorf("bundle create's images: %v", err)
		}
	})

	t.Run("the report as JSON", func(t *testing.T) {
		out, stderr, err := run(t, nil, "images", "--to", "v7.3.1", "--chart-dir", dir, "--registry", "mirror.example.com", "-o", "json")
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		var rep images.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if len(rep.Images) != len(fixture731Images) || rep.Release != "v7.3.1" || rep.Vendor == nil || rep.Vendor.Same {
			t.Errorf("report: %+v", rep)
		}
		want := map[string]bool{"bitnami/mariadb-galera:10.6.15-debian-11-r45": true, "bitnami/zookeeper:3.8.1-debian-11-r9": true,
			"percona/percona-server-mongodb:4.2.22-22": true, "quay.io/jetstack/cert-manager-controller:v1.12.0": true,
			"quay.io/strimzi/kafka:0.33.2-kafka-3.4.0": true, "registry.k8s.io/ingress-nginx/controller:v1.5.1": true}
		for _, i := range rep.NotRedirected {
			if !want[i] {
				t.Errorf("%s is not redirected", i)
			}
			delete(want, i)
		}
		if len(want) > 0 {
			t.Errorf("hard-coded images missing from notRedirected: %v", want)
		}
		if len(rep.Keys) != 3 {
			t.Errorf("keys: %+v", rep.Keys)
		}
	})

	t.Run("a release whose list is not published", func(t *testing.T) {
		dir722 := chartDir(t, "v7.2.2c")
		out, stderr, err := run(t, nil, "images", "--to", "v7.2.2c", "--chart-dir", dir722)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		if !strings.Contains(out, "quay.io/strimzi/operator:0.26.1\n") || !strings.Contains(stderr, "the vendor publishes no container-manifest.txt for v7.2.2c") || strings.Contains(stderr, "differ") {
			t.Errorf("stdout:\n%s\nstderr:\n%s", out, stderr)
		}
	})

	t.Run("errors hide the installation ID", func(t *testing.T) {
		id := "e2e0123456789abcdef0123"
		vals := writeTemp(t, "global:\n  installationId: "+id+"\nfixture:\n  failRenderQuoting: true\n")
		_, _, err := run(t, nil, "images", "--to", "v7.3.1", "--chart-dir", dir, "-f", vals)
		if err == nil || !strings.Contains(err.Error(), "failRenderQuoting") || strings.Contains(err.Error(), id) {
			t.Errorf("err = %v: want the chart's failure without the installation ID", err)
		}
	})

	for _, tt := range []struct {
		name, want string
		args       []string
	}{
		{"a scheme in --registry", "without a scheme", []string{"--registry", "https://mirror.example.com"}},
		{"a missing --chart-dir", "--chart-dir /nonexistent is not a directory", []string{"--chart-dir", "/nonexistent"}},
		{"a missing --vendor-manifest", "--vendor-manifest: open /nonexistent", []string{"--chart-dir", dir, "--vendor-manifest", "/nonexistent"}},
		{"no repository", "helm tpe repo add", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := run(t, nil, append([]string{"images", "--to", "v7.3.1"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// With --bundle the target, the charts and the vendor's list come from a release bundle; bundle
// create records the same images.
func TestImagesFromBundle(t *testing.T) {
	noKubeconfig(t)
	id := "bundle0123456789abcdef"
	url := subsetRepo(t, id, "v7.3.1")
	vendorRepo(t, strings.Join(fixture731Images, "\n")+"\n")
	idFile := writeTemp(t, id+"\n")
	file := filepath.Join(t.TempDir(), "tpe.tar.gz")
	if _, stderr, err := run(t, nil, "bundle", "create", "--to", "v7.3.1", "--repo-url", url, "--installation-id-file", idFile, "-o", file); err != nil {
		t.Fatalf("bundle create: %v\n%s", err, stderr)
	} else if !strings.Contains(stderr, "name the file with --output-file") {
		t.Errorf("-o FILE (the older spelling) gives no warning:\n%s", stderr)
	}
	// -o is only a format: -o json prints the summary as JSON, the file is --output-file.
	dir := t.TempDir()
	file2 := filepath.Join(dir, "again.tar.gz")
	sum, stderr, err := run(t, nil, "bundle", "create", "--to", "v7.3.1", "--repo-url", url, "--installation-id-file", idFile, "-o", "json", "--output-file", file2)
	var res BundleCreateResult
	if err != nil || json.Unmarshal([]byte(sum), &res) != nil || res.File != file2 || res.Digest == "" {
		t.Fatalf("bundle create -o json: %v %+v\n%s\n%s", err, res, sum, stderr)
	}
	if _, err := os.Stat("json"); err == nil {
		t.Error("-o json wrote a file named json")
	}
	// a file in a directory that does not exist: the error names it (not a temporary file), and
	// nothing is downloaded
	missing := filepath.Join(t.TempDir(), "nonexistent", "x.tgz")
	if _, stderr, err := run(t, nil, "bundle", "create", "--to", "v7.3.1", "--repo-url", url, "--installation-id-file", idFile, "-o", missing); err == nil ||
		!strings.Contains(err.Error(), missing) || strings.Contains(err.Error(), ".tpe-bundle") || strings.Contains(stderr, "Building") {
		t.Errorf("bundle create into a missing directory: %v\n%s", err, stderr)
	}
	t.Setenv("HELM_TPE_CONFIG_REPO_RAW", "http://127.0.0.1:1/raw") // nothing is read from the network
	out, stderr, err := run(t, nil, "images", "--bundle", file, "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var rep images.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Release != "v7.3.1" || !reflect.DeepEqual(rep.Names(), fixture731Images) || rep.Vendor == nil || !rep.Vendor.Same ||
		!strings.HasSuffix(rep.Vendor.Source, ":releases/v7.3.1/container-manifest.txt") {
		t.Errorf("report: %+v (vendor %+v)\n%s", rep, rep.Vendor, stderr)
	}
	show, _, err := run(t, nil, "bundle", "show", file, "-o", "json")
	if err != nil || !strings.Contains(show, "repository.thingpark.com/thingpark-kubernetes/twa:7") {
		t.Errorf("bundle show: %v\n%s", err, show)
	}
	if _, _, err := run(t, nil, "images", "--bundle", file, "--chart-dir", t.TempDir()); err == nil || !strings.Contains(err.Error(), "--bundle cannot be used with --chart-dir") {
		t.Errorf("--bundle with --chart-dir: %v", err)
	}
}

// TestImagesVendorManifestNone: --vendor-manifest none reads no vendor's list, so no request is
// made (it was always tried, even with --chart-dir: 15 s behind a proxy that hangs); without it,
// a configuration repository that hangs costs vendorFetchTimeout and a note, not an error.
func TestImagesVendorManifestNone(t *testing.T) {
	noKubeconfig(t)
	dir := chartDir(t, "v7.3.1")
	var requests atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		select { // a proxy that hangs
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	t.Setenv(catalog.EnvAPIBase, srv.URL+"/api")
	t.Setenv(catalog.EnvRawBase, srv.URL+"/raw")

	out, stderr, err := run(t, nil, "images", "--to", "v7.3.1", "--chart-dir", dir, "--vendor-manifest", "none")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("--vendor-manifest none made %d request(s)", n)
	}
	if got := lines(out); !reflect.DeepEqual(got, fixture731Images) {
		t.Errorf("stdout:\n%s", out)
	}
	if strings.Contains(stderr, "differ") || strings.Contains(stderr, "cannot be read") {
		t.Errorf("stderr compares or notes a list it should not read:\n%s", stderr)
	}

	old := vendorFetchTimeout
	vendorFetchTimeout = 200 * time.Millisecond
	t.Cleanup(func() { vendorFetchTimeout = old })
	start := time.Now()
	_, stderr, err = run(t, nil, "images", "--to", "v7.3.1", "--chart-dir", dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if requests.Load() == 0 || !strings.Contains(stderr, "cannot be read") || !strings.Contains(stderr, "--vendor-manifest FILE, or none") {
		t.Errorf("%d request(s); stderr:\n%s", requests.Load(), stderr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a hanging configuration repository took %v", d)
	}
}
