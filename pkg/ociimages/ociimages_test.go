package ociimages_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/thingpark-tools/kubectl-tpe/internal/registrytest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/ociimages"
)

const (
	vendorUser, vendorPass = "vendor", "vendor-secret-pw"
	siteUser, sitePass     = "site", "site-secret-pw"
)

// basic is a keychain with one login for every registry.
type basic struct{ user, pass string }

func (b basic) Resolve(authn.Resource) (authn.Authenticator, error) {
	return &authn.Basic{Username: b.user, Password: b.pass}, nil
}

// fixture is a vendor registry serving three images: two sharing a layer, and a two-platform
// index.
type fixture struct {
	vendor *registrytest.Registry
	refs   []string
	shared string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	vendor, err := registrytest.Start(registrytest.Options{User: vendorUser, Password: vendorPass})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(vendor.Close)
	amd := v1.Platform{OS: "linux", Architecture: "amd64"}
	arm := v1.Platform{OS: "linux", Architecture: "arm64"}
	shared := registrytest.Layer(1, 300<<10)
	a, _ := registrytest.Image(amd, shared, registrytest.Layer(2, 200<<10))
	b, _ := registrytest.Image(amd, shared, registrytest.Layer(3, 5<<20))
	ca, _ := registrytest.Image(amd, registrytest.Layer(4, 100<<10))
	cr, _ := registrytest.Image(arm, registrytest.Layer(5, 100<<10))
	f := &fixture{vendor: vendor, refs: []string{
		vendor.Host + "/tpe/app-a:1.0", vendor.Host + "/tpe/app-b:2.0", vendor.Host + "/library/multi:3.0"}}
	d, _ := shared.Digest()
	f.shared = d.String()
	for i, img := range []any{a, b, registrytest.Index(registrytest.ForPlatform{Platform: amd, Image: ca}, registrytest.ForPlatform{Platform: arm, Image: cr})} {
		if err := vendor.Push(f.refs[i], img, vendorUser, vendorPass); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// create pulls the images and writes a bundle holding them; it returns the bundle's path.
func (f *fixture) create(t *testing.T, cache string) (string, *ociimages.Plan) {
	t.Helper()
	plan, err := ociimages.Resolve(t.Context(), ociimages.Config{Images: f.refs, Keychain: basic{vendorUser, vendorPass}, CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]ociimages.Progress{}
	if err := plan.Fetch(t.Context(), func(p ociimages.Progress) { last[p.Image] = p }); err != nil {
		t.Fatal(err)
	}
	for _, img := range plan.Images {
		if p := last[img.Ref]; img.Download > 0 && (!p.Finished || p.Done != img.Download) {
			t.Errorf("progress of %s: %+v, want %d bytes finished", img.Ref, p, img.Download)
		}
	}
	files, blobs, lay, err := plan.Layout()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "b.tar.gz")
	m := &bundle.Manifest{Created: time.Unix(0, 0), To: "v1", Layout: lay}
	err = bundle.WriteFile(file, func(w io.Writer) error {
		_, err := bundle.WriteBlobs(w, m, files, blobs, nil, nil, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return file, plan
}

func TestResolveReducesAndDedups(t *testing.T) {
	f := newFixture(t)
	cache := t.TempDir()
	_, plan := f.create(t, cache)
	if len(plan.Images) != 3 {
		t.Fatalf("%d images, want 3", len(plan.Images))
	}
	multi := plan.Images[2]
	if strings.Contains(multi.MediaType, "index") || multi.Digest == multi.Source {
		t.Errorf("the index was not reduced to linux/amd64: %+v", multi.Image)
	}
	if plan.Referenced <= plan.Size {
		t.Errorf("referenced %d <= stored %d: the shared layer is counted once per image, stored once", plan.Referenced, plan.Size)
	}
	// A rerun downloads nothing: the cache has every layer.
	plan2, err := ociimages.Resolve(t.Context(), ociimages.Config{Images: f.refs, Keychain: basic{vendorUser, vendorPass}, CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range plan2.Images {
		if img.Download != 0 {
			t.Errorf("%s: %d bytes to download again, want 0 (cached)", img.Ref, img.Download)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name   string
		cfg    ociimages.Config
		want   string
		secret string
	}{
		{"wrong password", ociimages.Config{Images: f.refs[:1], Keychain: basic{vendorUser, "wrong-pw-123"}}, "401 Unauthorized", "wrong-pw-123"},
		{"unknown tag", ociimages.Config{Images: []string{f.vendor.Host + "/tpe/app-a:9.9"}, Keychain: basic{vendorUser, vendorPass}}, "unknown to the registry", vendorPass},
		{"too large", ociimages.Config{Images: f.refs[1:2], Keychain: basic{vendorUser, vendorPass}, MaxImageSize: 1 << 20}, "above the bound of 1.0 MiB", vendorPass},
		{"bad platform", ociimages.Config{Images: f.refs, Platforms: []string{"amd64"}}, "not os/arch", ""},
		{"no such platform", ociimages.Config{Images: f.refs[2:], Keychain: basic{vendorUser, vendorPass}, Platforms: []string{"windows/amd64"}}, "no image for windows/amd64", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.CacheDir = t.TempDir()
			_, err := ociimages.Resolve(t.Context(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") || (tc.secret != "" && strings.Contains(err.Error(), tc.secret)) {
				t.Errorf("error is not one clean line: %q", err)
			}
		})
	}
	var tl *ociimages.TooLargeError
	_, err := ociimages.Resolve(t.Context(), ociimages.Config{Images: f.refs[1:2], Keychain: basic{vendorUser, vendorPass}, MaxImageSize: 1 << 20, CacheDir: t.TempDir()})
	if !errors.As(err, &tl) || tl.Size <= 5<<20 {
		t.Errorf("error %v, want a TooLargeError with the image's whole size", err)
	}
}

func mirrorOf(host string) func(string) (string, error) {
	return func(ref string) (string, error) {
		_, rest, _ := strings.Cut(ref, "/")
		return host + "/mirror/" + rest, nil
	}
}

func push(t *testing.T, file string, site *registrytest.Registry, user, pass string) ([]ociimages.Pushed, error) {
	t.Helper()
	cache := t.TempDir()
	b, err := bundle.OpenWith(file, bundle.ReadOptions{Blob: ociimages.CacheSink(cache)})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := ociimages.Transport(site.CAPEM, false)
	if err != nil {
		t.Fatal(err)
	}
	return ociimages.Push(t.Context(), b, ociimages.PushConfig{CacheDir: cache, Target: mirrorOf(site.Host),
		Auth: &authn.Basic{Username: user, Password: pass}, Transport: tr}, nil)
}

func TestPushToSiteRegistry(t *testing.T) {
	f := newFixture(t)
	file, plan := f.create(t, t.TempDir())
	f.vendor.Close() // the site has no route to the vendor
	site, err := registrytest.Start(registrytest.Options{User: siteUser, Password: sitePass, TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(site.Close)

	// 401: one line, no password.
	_, err = push(t, file, site, siteUser, "not-the-pw-42")
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "not-the-pw-42") {
		t.Fatalf("push with a wrong password: %v", err)
	}
	// 403: an account that may only pull; one line, no password, nothing uploaded.
	site.ReadOnly(true)
	_, err = push(t, file, site, siteUser, sitePass)
	if err == nil || !strings.Contains(err.Error(), "403 Forbidden") || strings.Contains(err.Error(), sitePass) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("push with an account that may only pull: %v", err)
	}
	if n := site.BlobUploads(); n != 0 {
		t.Fatalf("a denied push uploaded %d blobs", n)
	}
	site.ReadOnly(false)
	// The registry goes down after two blob uploads: the push fails; run again, it resumes.
	site.FailAfterUploads(2)
	if _, err := push(t, file, site, siteUser, sitePass); err == nil || !strings.Contains(err.Error(), "cannot be reached") {
		t.Fatalf("push into a registry gone down: %v", err)
	}
	site.Down(false)
	site.FailAfterUploads(-1)
	before := site.BlobUploads()
	pushed, err := push(t, file, site, siteUser, sitePass)
	if err != nil {
		t.Fatal(err)
	}
	resumed := site.BlobUploads() - before
	if resumed <= 0 || before < 2 {
		t.Errorf("uploads before the failure %d, after %d", before, resumed)
	}
	for i, p := range pushed {
		if !p.Pullable || p.Digest != plan.Images[i].Digest || !strings.HasPrefix(p.Mirror, site.Host+"/mirror/") {
			t.Errorf("pushed %+v, want it pullable by the digest %s from the mirror", p, plan.Images[i].Digest)
		}
	}
	// Total uploads: every distinct blob once per repository, no more.
	again := site.BlobUploads()
	if _, err := push(t, file, site, siteUser, sitePass); err != nil {
		t.Fatal(err)
	}
	if n := site.BlobUploads() - again; n != 0 {
		t.Errorf("a second push uploaded %d blobs, want 0", n)
	}
}

// TestDamagedBlobNamesImage changes one byte of the shared layer inside a bundle: the read
// names both images that use it.
func TestDamagedBlobNamesImage(t *testing.T) {
	f := newFixture(t)
	file, _ := f.create(t, t.TempDir())
	damaged := filepath.Join(t.TempDir(), "damaged.tar.gz")
	if err := registrytest.Damage(file, damaged, bundle.BlobPath(f.shared)); err != nil {
		t.Fatal(err)
	}
	_, err := bundle.Open(damaged, nil)
	if err == nil || !strings.Contains(err.Error(), f.refs[0]) || !strings.Contains(err.Error(), f.refs[1]) || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged shared layer: %v; want the two images named", err)
	}
	// The push's extraction keeps no damaged blob.
	cache := t.TempDir()
	if _, err := bundle.OpenWith(damaged, bundle.ReadOptions{Blob: ociimages.CacheSink(cache)}); err == nil {
		t.Fatal("a damaged bundle was read")
	}
	if _, err := os.Stat(filepath.Join(cache, "blobs", "sha256", strings.TrimPrefix(f.shared, "sha256:"))); err == nil {
		t.Error("the damaged blob was kept in the cache")
	}
}

func TestKeychainReadsRegistryConfig(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	// Helm's registry configuration: a Docker config file.
	auth := "dmVuZG9yOnZlbmRvci1zZWNyZXQtcHc=" // vendor:vendor-secret-pw
	if err := os.WriteFile(cfg, []byte(`{"auths":{"`+f.vendor.Host+`":{"auth":"`+auth+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no Docker login
	_, err := ociimages.Resolve(context.Background(), ociimages.Config{Images: f.refs[:1], Keychain: ociimages.Keychain(cfg), CacheDir: t.TempDir()})
	if err != nil {
		t.Fatalf("with the registry config: %v", err)
	}
	_, err = ociimages.Resolve(context.Background(), ociimages.Config{Images: f.refs[:1], Keychain: ociimages.Keychain(filepath.Join(dir, "none.json")), CacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("without credentials: %v, want a 401", err)
	}
}

// TestFullCache is a cache directory that cannot be written (a full disk, a file in its place):
// one CacheError naming it, nothing kept.
func TestFullCache(t *testing.T) {
	f := newFixture(t)
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	plan, err := ociimages.Resolve(t.Context(), ociimages.Config{Images: f.refs[:1], Keychain: basic{vendorUser, vendorPass}, CacheDir: notDir})
	if err != nil {
		t.Fatal(err)
	}
	err = plan.Fetch(t.Context(), nil)
	var ce *ociimages.CacheError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), notDir) {
		t.Fatalf("fetch into a file: %v, want a CacheError naming it", err)
	}
}
