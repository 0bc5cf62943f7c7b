//go:build bench

// Package imagesbench measures, on the loopback, `helm tpe bundle create --images` and
// `helm tpe bundle push` against `crane copy` of the same images (go-containerregistry's CLI,
// built from the Go module proxy into ~/.cache/kubectl-tpe/tools-crane-<version>), the
// deduplication ratio of the bundle, and the peak RSS of each process with a 1 GiB image. It
// prints "BENCH ..." lines; docs/benchmarks.md records them. Run it with `make bench-images`.
// No cluster is needed: the chart repository, the configuration repository and the two
// registries (distribution, filesystem storage) run in the test process.
package imagesbench

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/thingpark-tools/kubectl-tpe/internal/chartrepo"
	"github.com/thingpark-tools/kubectl-tpe/internal/configrepo"
	"github.com/thingpark-tools/kubectl-tpe/internal/registrytest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
)

const (
	user, pass = "bench", "bench-registry-password"
	id         = "benchinstallationid0123456789ab"
)

type run struct {
	wall time.Duration
	rss  int64 // KiB
	out  string
}

func exe(t *testing.T, envv []string, stdin string, bin string, args ...string) run {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = envv
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The process's own high-water mark (VmHWM of its memory after exec), sampled until it
	// exits: the rusage of a child counts the RSS of the parent it was forked from.
	stop, done := make(chan struct{}), make(chan struct{})
	var hwm int64
	go func() {
		defer close(done)
		for {
			if v := vmHWM(cmd.Process.Pid); v > hwm {
				hwm = v
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	err := cmd.Wait()
	close(stop)
	<-done
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out.String())
	}
	return run{wall: time.Since(t0), rss: hwm, out: out.String()}
}

// vmHWM is the peak resident set of a process in KiB (0 once it is gone).
func vmHWM(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kib int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kib)
			return kib
		}
	}
	return 0
}

func root(t *testing.T) string {
	dir, _ := os.Getwd()
	for !exists(filepath.Join(dir, "go.mod")) {
		dir = filepath.Dir(dir)
		if dir == "/" {
			t.Fatal("no go.mod above")
		}
	}
	return dir
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func mibps(n int64, d time.Duration) float64 { return float64(n) / (1 << 20) / d.Seconds() }

func TestImagesBench(t *testing.T) {
	top := root(t)
	crane := os.Getenv("TPE_BENCH_CRANE")
	if crane == "" {
		t.Fatal("TPE_BENCH_CRANE is the crane binary (make bench-images builds it)")
	}
	work := t.TempDir()
	bin := filepath.Join(work, "helm-tpe")
	build := exec.Command("go", "build", "-o", bin, "./cmd/helm-tpe")
	build.Dir = top
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building helm-tpe: %v\n%s", err, out)
	}
	repoH, err := chartrepo.New(chartrepo.Config{ChartsDir: filepath.Join(top, "testdata", "charts"), ReleasesDir: filepath.Join(top, "testdata", "releases"), InstallationID: id})
	if err != nil {
		t.Fatal(err)
	}
	repo := httptest.NewServer(repoH)
	defer repo.Close()
	cfgRepo := httptest.NewServer(configrepo.New([]configrepo.Ref{{Name: "v7.3.1", Versions: "x"}}, nil))
	defer cfgRepo.Close()
	vendor, err := registrytest.Start(registrytest.Options{User: user, Password: pass, Dir: filepath.Join(work, "vendor")})
	if err != nil {
		t.Fatal(err)
	}
	defer vendor.Close()
	sites := map[string]*registrytest.Registry{}
	for _, n := range []string{"push", "crane"} {
		s, err := registrytest.Start(registrytest.Options{User: user, Password: pass, TLS: true, Dir: filepath.Join(work, "site-"+n)})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		sites[n] = s
	}
	ca := filepath.Join(work, "ca.pem")
	_ = os.WriteFile(ca, sites["push"].CAPEM, 0o644)
	caBoth := append(append([]byte{}, sites["push"].CAPEM...), sites["crane"].CAPEM...)
	_ = os.WriteFile(filepath.Join(work, "cas.pem"), caBoth, 0o644)
	docker := filepath.Join(work, "docker")
	_ = os.MkdirAll(docker, 0o755)
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	dc := fmt.Sprintf(`{"auths":{%q:{"auth":%q},%q:{"auth":%q},%q:{"auth":%q}}}`, vendor.Host, auth, sites["push"].Host, auth, sites["crane"].Host, auth)
	_ = os.WriteFile(filepath.Join(docker, "config.json"), []byte(dc), 0o600)
	idFile := filepath.Join(work, "id")
	_ = os.WriteFile(idFile, []byte(id), 0o600)
	envv := append(os.Environ(), "HELM_CONFIG_HOME="+work+"/helm/config", "HELM_CACHE_HOME="+work+"/helm/cache", "HELM_DATA_HOME="+work+"/helm/data",
		"HELM_TPE_CONFIG_REPO_RAW="+cfgRepo.URL+"/raw", "HELM_TPE_CONFIG_REPO_API="+cfgRepo.URL+"/api", "DOCKER_CONFIG="+docker,
		"KUBECONFIG="+filepath.Join(work, "none"), "SSL_CERT_FILE="+filepath.Join(work, "cas.pem"))
	exe(t, envv, "", bin, "repo", "add", "--url", repo.URL+"/charts", "--installation-id-file", idFile, "--to", "v7.3.1")
	values := filepath.Join(work, "vendor.yaml")
	_ = os.WriteFile(values, []byte(fmt.Sprintf("global:\n  imageRegistry: %[1]s\n  repositories: {containerImagesRegistry: {fqdn: %[1]s}}\n", vendor.Host)), 0o644)
	r := exe(t, envv, "", bin, "images", "--to", "v7.3.1", "-f", values, "--vendor-manifest", "none")
	var refs []string
	for _, l := range strings.Split(r.out, "\n") {
		if strings.HasPrefix(l, vendor.Host+"/") {
			refs = append(refs, l)
		}
	}
	// Every image: a 64 MiB base layer they all share and a 16 MiB layer of its own; the first
	// one also carries a 1 GiB layer.
	amd := v1.Platform{OS: "linux", Architecture: "amd64"}
	base := registrytest.Layer(7, 64<<20)
	for i, ref := range refs {
		layers := []v1.Layer{base, registrytest.Layer(uint64(1000+i), 16<<20)}
		if i == 0 {
			layers = append(layers, registrytest.Layer(42, 1<<30))
		}
		img, err := registrytest.Image(amd, layers...)
		if err != nil {
			t.Fatal(err)
		}
		if err := vendor.Push(ref, img, user, pass); err != nil {
			t.Fatal(err)
		}
	}
	out := func(format string, a ...any) {
		line := fmt.Sprintf("BENCH images "+format, a...)
		fmt.Println(line)
		if f := os.Getenv("TPE_BENCH_OUT"); f != "" {
			fh, err := os.OpenFile(f, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			if err == nil {
				fmt.Fprintln(fh, line)
				fh.Close()
			}
		}
	}
	out("machine: %d CPUs, %s, %d images", runtime.NumCPU(), runtime.Version(), len(refs))

	file := filepath.Join(work, "b.tar.gz")
	cr := exe(t, envv, "", bin, "bundle", "create", "--to", "v7.3.1", "-f", values, "--images", "--cache-dir", filepath.Join(work, "cache"), "--output-file", file)
	var shown struct {
		Manifest struct{ ImageLayout bundle.Layout }
	}
	sr := exe(t, envv, "", bin, "bundle", "show", file, "-o", "json")
	if err := json.Unmarshal([]byte(sr.out[strings.Index(sr.out, "{"):]), &shown); err != nil {
		t.Fatal(err)
	}
	lay := shown.Manifest.ImageLayout
	st, _ := os.Stat(file)
	out("bundle create --images: %d images, %s stored (%s referenced: dedup ratio %.2f), bundle %s, %s, %.0f MiB/s, peak RSS %d MiB",
		len(lay.Images), bundle.Size(lay.Size), bundle.Size(lay.Referenced), float64(lay.Referenced)/float64(lay.Size), bundle.Size(st.Size()),
		cr.wall.Round(time.Millisecond), mibps(lay.Size, cr.wall), cr.rss>>10)
	cr2 := exe(t, envv, "", bin, "bundle", "create", "--to", "v7.3.1", "-f", values, "--images", "--cache-dir", filepath.Join(work, "cache"), "--output-file", file, "--force")
	out("bundle create --images again (cache warm): %s, %.0f MiB/s, peak RSS %d MiB", cr2.wall.Round(time.Millisecond), mibps(lay.Size, cr2.wall), cr2.rss>>10)

	pr := exe(t, envv, pass+"\n", bin, "bundle", "push", file, "--registry", sites["push"].Host+"/tpe", "--ca-file", ca, "--username", user, "--password-stdin",
		"--cache-dir", filepath.Join(work, "push-cache"), "-f", values, "--output-file", filepath.Join(work, "mirror.yaml"))
	out("bundle push: %s, %.0f MiB/s, %d blob uploads, peak RSS %d MiB", pr.wall.Round(time.Millisecond), mibps(lay.Size, pr.wall), sites["push"].BlobUploads(), pr.rss>>10)
	before := sites["push"].BlobUploads()
	pr2 := exe(t, envv, pass+"\n", bin, "bundle", "push", file, "--registry", sites["push"].Host+"/tpe", "--ca-file", ca, "--username", user, "--password-stdin",
		"--cache-dir", filepath.Join(work, "push-cache"), "-f", values, "--output-file", filepath.Join(work, "mirror.yaml"))
	out("bundle push again: %s, %d blob uploads, peak RSS %d MiB", pr2.wall.Round(time.Millisecond), sites["push"].BlobUploads()-before, pr2.rss>>10)

	var craneWall time.Duration
	var craneRSS int64
	for _, ref := range refs {
		_, rest, _ := strings.Cut(ref, "/")
		c := exe(t, envv, "", crane, "copy", "--platform", "linux/amd64", ref, sites["crane"].Host+"/tpe/"+rest)
		craneWall += c.wall
		craneRSS = max(craneRSS, c.rss)
	}
	out("crane copy (one process per image, registry to registry): %s, %.0f MiB/s of blobs stored once, %d blob uploads, peak RSS %d MiB",
		craneWall.Round(time.Millisecond), mibps(lay.Size, craneWall), sites["crane"].BlobUploads(), craneRSS>>10)
	_ = http.StatusOK
}
