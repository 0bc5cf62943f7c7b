//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/thingpark-tools/kubectl-tpe/internal/configrepo"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// imageLine is an "image:" line of a rendered manifest, as `yq '..|.image? | select(.)'` reads it
// from the simple YAML the fixture charts render (kept independent of pkg/images on purpose).
var imageLine = regexp.MustCompile(`^\s*(?:-\s+)?image:\s*["']?([^"'\s]+)["']?\s*$`)

// templateImages renders the four charts of a release with the real helm and returns the sorted,
// unique images, as the vendor derives its container-manifest.txt.
func templateImages(t *testing.T, tag string, valueFiles ...string) []string {
	t.Helper()
	rel, ok := manifest.MustLoad().Get(tag)
	if !ok {
		t.Fatalf("no release %s", tag)
	}
	seen := map[string]bool{}
	for _, c := range rel.Charts() {
		args := []string{"template", c.ReleaseName, fmt.Sprintf("%s/%s-%s.tgz", env.RepoURL, c.Chart, c.Version),
			"--username", env.InstallationID, "--password", env.InstallationID, "--namespace", env.Namespace}
		for _, f := range valueFiles {
			args = append(args, "-f", f)
		}
		r := env.HelmCLI(t, "", args...)
		if r.Code != 0 {
			t.Fatalf("helm template %s %s: %s", c.Chart, c.Version, r)
		}
		for _, l := range strings.Split(r.Stdout, "\n") {
			if m := imageLine.FindStringSubmatch(l); m != nil {
				seen[m[1]] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for i := range seen {
		out = append(out, i)
	}
	sort.Strings(out)
	return out
}

// TestImages: `helm tpe images` lists exactly the images the real `helm template` of the four
// charts renders; with --registry, the values snippet it prints makes the real helm render every
// image from the mirror except those it lists as not redirected; the vendor's list is read from the
// configuration repository; the installation ID is never printed.
func TestImages(t *testing.T) {
	h := &helmTPE{t: t}
	values := writeFile(t, "values.yaml", fmt.Sprintf(`global:
  installationId: %q
  dnsHostname: tpe.example.com
  lora: {ismBand: [eu868], netId: "000001"}
  backup:
    schedule: "30 2 * * *"
    s3Compat: {url: "http://minio.tools.svc:9000", accessKey: minio, secretAccessKey: minio-secret-e2e, bucket: thingpark-enterprise-backup}
`, env.InstallationID))
	want := templateImages(t, "v7.3.1", values)
	if len(want) < 10 {
		t.Fatalf("helm template rendered %d images: %q", len(want), want)
	}
	vendorList := strings.Join(want, "\n") + "\n"
	repo := configrepo.New([]configrepo.Ref{{Name: "v7.3.1", Files: map[string]string{"container-manifest.txt": vendorList}}}, nil)
	srv := httptest.NewServer(repo)
	defer srv.Close()
	cfgEnv := []string{"HELM_TPE_CONFIG_REPO_API=" + srv.URL + "/api", "HELM_TPE_CONFIG_REPO_RAW=" + srv.URL + "/raw"}
	repoFlags := []string{"--repo-url", env.RepoURL, "--installation-id-file", env.InstallationIDFile}
	noID := func(t *testing.T, outs ...string) {
		for _, o := range outs {
			if strings.Contains(o, env.InstallationID) {
				t.Fatalf("the installation ID is printed:\n%s", o)
			}
		}
	}

	t.Run("the images of helm template compared with the vendor list", func(t *testing.T) {
		h.at(t)
		r := h.run("", cfgEnv, append([]string{"images", "--to", "v7.3.1", "-f", values}, repoFlags...)...)
		if r.Code != 0 {
			t.Fatalf("images: %s", r)
		}
		noID(t, r.Stdout, r.Stderr)
		got := strings.Split(strings.TrimSpace(r.Stdout), "\n")
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("helm tpe images:\n%s\nhelm template:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if !strings.Contains(r.Stderr, "The images are those of the vendor's container-manifest.txt") {
			t.Errorf("no comparison with the vendor's list:\n%s", r.Stderr)
		}
	})

	t.Run("the values of a mirror checked by the real helm", func(t *testing.T) {
		h.at(t)
		const mirror = "mirror.example.com:5000/tpe"
		args := append([]string{"images", "--to", "v7.3.1", "-f", values, "--registry", mirror, "-o", "json"}, repoFlags...)
		r := h.run("", append(cfgEnv, "HELM_TPE_CONFIG_REPO_RAW=http://127.0.0.1:1/raw"), args...)
		if r.Code != 0 {
			t.Fatalf("images --registry: %s", r)
		}
		noID(t, r.Stdout, r.Stderr)
		var rep struct {
			Images []struct {
				Image string `json:"image"`
			} `json:"images"`
			Keys          []struct{ Chart, Key, Value string } `json:"keys"`
			NotRedirected []string                             `json:"notRedirected"`
			Vendor        any                                  `json:"vendor"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
			t.Fatalf("%v\n%s", err, r.Stdout)
		}
		if len(rep.Images) != len(want) || len(rep.Keys) == 0 || len(rep.NotRedirected) == 0 || rep.Vendor != nil {
			t.Fatalf("report: %s", r.Stdout)
		}
		if !strings.Contains(r.Stderr, "container-manifest.txt of v7.3.1 cannot be read") {
			t.Errorf("no note that the vendor's list could not be read:\n%s", r.Stderr)
		}
		// The table output's snippet, given to the real helm with the user's values.
		r = h.run("", cfgEnv, append([]string{"images", "--to", "v7.3.1", "-f", values, "--registry", mirror}, repoFlags...)...)
		if r.Code != 0 {
			t.Fatalf("images --registry: %s", r)
		}
		_, snippet, ok := strings.Cut(r.Stdout, "\n# Values that take the images")
		if !ok || !strings.Contains(r.Stderr, "cannot be redirected by values") {
			t.Fatalf("no values snippet or no warning: %s", r)
		}
		keys := writeFile(t, "mirror.yaml", "# Values that take the images"+snippet)
		not := map[string]bool{}
		for _, i := range rep.NotRedirected {
			not[i] = true
		}
		for _, i := range templateImages(t, "v7.3.1", values, keys) {
			switch {
			case strings.HasPrefix(i, mirror+"/") && not[i]:
				t.Errorf("%s comes from the mirror but is listed as not redirected", i)
			case !strings.HasPrefix(i, mirror+"/") && !not[i]:
				t.Errorf("%s does not come from the mirror with the printed values", i)
			}
			delete(not, i)
		}
		if len(not) > 0 {
			t.Errorf("listed as not redirected but not rendered: %v", not)
		}
	})
}
