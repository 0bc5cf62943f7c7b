//go:build e2e

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/thingpark-tools/kubectl-tpe/e2e/framework"
	"github.com/thingpark-tools/kubectl-tpe/internal/configrepo"
	"github.com/thingpark-tools/kubectl-tpe/internal/registrytest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
)

// TestBundleImages is a site without internet access with its own registry: the images the
// charts render come from the vendor's registry (distribution, basic auth, credentials from a
// Docker config file); `bundle create --images` carries them in the bundle (each layer once, a
// multi-platform index reduced to linux/amd64, a rerun served by the cache); the vendor's
// registry and the chart repository are stopped; the bundle verifies, and one damaged layer is
// named by its image; `bundle push` into the site's registry (TLS from a test CA, basic auth with
// the password on stdin) fails in one line on a wrong password, fails when the registry goes down
// half-way and resumes when run again; a second push uploads no blob; then `helm tpe upgrade
// --bundle` with the values it printed, and every image of the cluster's pod specs names the
// site's registry.
func TestBundleImages(t *testing.T) {
	const vUser, vPass, sUser, sPass = "vendor", "vendor-registry-pw-e2e", "site", "site-registry-pw-e2e"
	vendor, site, f := newRegistryFixture(t, vUser, vPass, sUser, sPass)
	cfg := configrepo.New([]configrepo.Ref{{Name: "v7.3.1", Versions: "x"}}, nil)
	srv := httptest.NewServer(cfg)
	defer srv.Close()
	docker := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(vUser + ":" + vPass))
	if err := os.WriteFile(filepath.Join(docker, "config.json"), []byte(`{"auths":{"`+vendor.Host+`":{"auth":"`+auth+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	online := []string{"HELM_TPE_CONFIG_REPO_RAW=" + srv.URL + "/raw", "HELM_TPE_CONFIG_REPO_API=" + srv.URL + "/api", "DOCKER_CONFIG=" + docker}
	offline := []string{"HELM_TPE_CONFIG_REPO_RAW=http://127.0.0.1:9/raw", "HELM_TPE_CONFIG_REPO_API=http://127.0.0.1:9/api", "DOCKER_CONFIG=" + t.TempDir()}
	// The charts' images come from the vendor's registry.
	fromVendor := writeFile(t, "vendor-registry.yaml", fmt.Sprintf("global:\n  imageRegistry: %[1]s\n  repositories: {containerImagesRegistry: {fqdn: %[1]s}}\n", vendor.Host))

	f.install(t, "v7.2.2c")

	// The vendor's registry serves every image v7.3.1 renders: a layer shared by all, one of its
	// own each, the first one as a two-platform index.
	r := f.mustHelmTPE(t, "", online, "images", "--to", "v7.3.1", "-f", f.Values, "-f", fromVendor, "--vendor-manifest", "none", "-o", "json")
	var listed struct{ Images []struct{ Image string } }
	if err := json.Unmarshal([]byte(r.Stdout), &listed); err != nil || len(listed.Images) < 3 {
		t.Fatalf("helm tpe images (%v): %s", err, r.Stdout)
	}
	amd, arm := v1.Platform{OS: "linux", Architecture: "amd64"}, v1.Platform{OS: "linux", Architecture: "arm64"}
	shared := registrytest.Layer(1, 2<<20)
	for i, li := range listed.Images {
		if !strings.HasPrefix(li.Image, vendor.Host+"/") {
			t.Fatalf("image %s does not come from the vendor's registry %s", li.Image, vendor.Host)
		}
		img, err := registrytest.Image(amd, shared, registrytest.Layer(uint64(100+i), int64(64<<10*(i+1))))
		if err != nil {
			t.Fatal(err)
		}
		var push any = img
		if i == 0 {
			other, _ := registrytest.Image(arm, registrytest.Layer(99, 1<<20))
			push = registrytest.Index(registrytest.ForPlatform{Platform: amd, Image: img}, registrytest.ForPlatform{Platform: arm, Image: other})
		}
		if err := vendor.Push(li.Image, push, vUser, vPass); err != nil {
			t.Fatal(err)
		}
	}

	dir := t.TempDir()
	// The bundle is signed as it is built; the site checks it with the public key.
	pw := "COSIGN_PASSWORD=e2e-images-signing-pw"
	builder, other := filepath.Join(dir, "builder"), filepath.Join(dir, "other")
	f.mustHelmTPE(t, "", []string{pw}, "bundle", "keygen", "--output-prefix", builder)
	f.mustHelmTPE(t, "", []string{pw}, "bundle", "keygen", "--output-prefix", other)
	cache := filepath.Join(dir, "cache")
	file := filepath.Join(dir, "tpe-v7.3.1.tar.gz")
	create := func(out string) framework.Result {
		t.Helper()
		t0 := time.Now()
		r := f.mustHelmTPE(t, "", append(online, pw), "bundle", "create", "--from", "v7.2.2c", "--to", "v7.3.1", "-f", f.Values, "-f", fromVendor,
			"--images", "--cache-dir", cache, "--output-file", out, "--sign-key", builder+".key")
		t.Logf("bundle create --images (%s):\n%s\n%s", time.Since(t0).Round(time.Millisecond), r.Stdout, r.Stderr)
		return r
	}
	r = create(file)
	for _, w := range []string{fmt.Sprintf("Images: %d, ", len(listed.Images)), "to download", listed.Images[0].Image + ": "} {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("bundle create --images: want %q (the size before, progress per image) in:\n%s", w, r.Stderr)
		}
	}
	r = create(filepath.Join(dir, "again.tar.gz"))
	if !strings.Contains(r.Stderr, "0 B to download") {
		t.Errorf("a rerun downloads again what the cache has:\n%s", r.Stderr)
	}
	r = f.mustHelmTPE(t, "", offline, "bundle", "show", file, "-o", "json")
	var shown struct {
		Manifest struct{ ImageLayout bundle.Layout }
	}
	if err := json.Unmarshal([]byte(r.Stdout), &shown); err != nil || len(shown.Manifest.ImageLayout.Images) != len(listed.Images) {
		t.Fatalf("bundle show -o json (%v): %s", err, r.Stdout)
	}
	lay := shown.Manifest.ImageLayout
	if lay.Referenced-lay.Size < int64(len(listed.Images)-1)*(2<<20) || lay.Images[0].Digest == lay.Images[0].Source {
		t.Errorf("layout: want the shared layer stored once and the index reduced: %+v", lay)
	}
	noSecretsIn(t, file, append(f.Secrets.list(), vPass))

	// The site: no vendor registry, no chart repository, no configuration repository.
	vendor.Close()
	env.StopRepo(t)
	f.mustHelmTPE(t, "", offline, "bundle", "verify", file)
	f.mustHelmTPE(t, "", offline, "bundle", "verify", file, "--key", builder+".pub")
	// bundle sign rewrites an image bundle (streamed, its blobs as they are) with another signature.
	f.mustHelmTPE(t, "", []string{pw}, "bundle", "sign", filepath.Join(dir, "again.tar.gz"), "--key", other+".key")
	f.mustHelmTPE(t, "", offline, "bundle", "verify", filepath.Join(dir, "again.tar.gz"), "--key", other+".pub")
	damaged := filepath.Join(dir, "damaged.tar.gz")
	sd, _ := shared.Digest()
	if err := registrytest.Damage(file, damaged, bundle.BlobPath(sd.String())); err != nil {
		t.Fatal(err)
	}
	r = f.helmTPE(t, "", offline, "bundle", "verify", damaged)
	if r.Code == 0 || !strings.Contains(r.Stderr, listed.Images[0].Image) || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
		t.Errorf("verify of a bundle with a damaged layer: want one line naming its images: %s", r.String())
	}

	ca := writeFile(t, "site-ca.pem", string(site.CAPEM))
	mirror := site.Host + "/tpe"
	values := filepath.Join(dir, "mirror-values.yaml")
	pushKey := builder + ".pub"
	push := func(pass string) framework.Result {
		t.Helper()
		t0 := time.Now()
		r := env.HelmTPEStdin(t, env.OperatorKubeconfig, append([]string{"HELM_NAMESPACE=" + f.NS}, offline...), strings.NewReader(pass+"\n"),
			"bundle", "push", file, "--registry", mirror, "--ca-file", ca, "--username", sUser, "--password-stdin", "--cache-dir", filepath.Join(dir, "site-cache"),
			"-f", f.Values, "-f", fromVendor, "--output-file", values, "--key", pushKey)
		t.Logf("bundle push (exit %d, %s, %d blob uploads so far):\n%s\n%s", r.Code, time.Since(t0).Round(time.Millisecond), site.BlobUploads(), r.Stdout, r.Stderr)
		return r
	}
	pushKey = other + ".pub"
	r = push(sPass)
	if r.Code != 1 || !strings.Contains(r.Stderr, "another key") || site.BlobUploads() != 0 {
		t.Errorf("push --key of a bundle signed with another key: want exit 1 and nothing pushed: %s", r.String())
	}
	pushKey = builder + ".pub"
	r = push("not-the-password-e2e")
	if r.Code != 1 || !strings.Contains(lastLine(r.Stderr), "401") || strings.Contains(r.Stderr, "not-the-password-e2e") {
		t.Errorf("push with a wrong password: want exit 1 and one line with 401: %s", r.String())
	}
	site.FailAfterUploads(3)
	r = push(sPass)
	if r.Code != 1 || !strings.Contains(r.Stderr, "cannot be reached") || !strings.Contains(r.Stderr, "run the same command again") {
		t.Errorf("push into a registry that goes down: %s", r.String())
	}
	site.Down(false)
	site.FailAfterUploads(-1)
	if r = push(sPass); r.Code != 0 {
		t.Fatalf("push resumed: %s", r.String())
	}
	again := site.BlobUploads()
	if r = push(sPass); r.Code != 0 || site.BlobUploads() != again {
		t.Errorf("a second push uploaded %d blobs, want 0: %s", site.BlobUploads()-again, r.String())
	}
	mv, _ := os.ReadFile(values)
	t.Logf("mirror values:\n%s", mv)

	r = f.helmTPE(t, "", offline, "upgrade", "--bundle", file, "--key", builder+".pub", "-f", f.Values, "-f", fromVendor, "-f", values, "--yes", "--timeout", "4m", "--pum-interval", "200ms", "--pum-timeout", "2m")
	if r.Code != 0 {
		t.Fatalf("upgrade --bundle with the mirror values: %s", redact(r.String()))
	}
	f.wantRelease(t, charts731)
	podImagesFrom(t, f.NS, mirror)
	f.noLeaks(t)
}

// lastLine is the last line of an output (the error of a failed command).
func lastLine(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return l[len(l)-1]
}
