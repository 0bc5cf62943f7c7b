// Package ociimages carries container images in a release bundle: it pulls the images the charts
// render from their registries into a cache directory (each blob once, multi-platform indexes
// reduced to the platforms asked for, bounded in size), hands them to the bundle's OCI image
// layout as streams, and pushes a bundle's images into a site's registry, checking afterwards
// that each can be pulled by digest. It streams every layer: memory holds manifests and configs,
// never a layer. It uses go-containerregistry and runs no external tool; it imports no Helm.
package ociimages

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
)

// DefaultPlatform is the platform images are reduced to when none is asked for.
const DefaultPlatform = "linux/amd64"

// Config is what Resolve pulls.
type Config struct {
	// Images are the references as the charts render them.
	Images []string
	// Platforms are os/arch[/variant]; empty: DefaultPlatform.
	Platforms []string
	// Keychain finds the credentials of each registry (nil: anonymous).
	Keychain authn.Keychain
	// Transport is the HTTP transport (nil: remote's default).
	Transport http.RoundTripper
	// CacheDir holds the blobs pulled, reused by the next run.
	CacheDir string
	// MaxImageSize bounds one image (all its blobs); 0: bundle.MaxImageSize.
	MaxImageSize int64
	// Jobs is the number of blobs fetched at once (0: 4).
	Jobs int
}

// Plan is the images resolved: what the bundle will hold, and what must be downloaded.
type Plan struct {
	Images []Resolved
	// Platforms are the platforms the images were reduced to.
	Platforms []string
	// Size is the size of the blobs, each once; Cached the part of it already in the cache;
	// Referenced the sum of the images' sizes (a shared blob counted once per image); Download
	// the layers to download (not in the cache: manifests and configs are read by Resolve).
	Size, Cached, Referenced, Download int64

	cfg   Config
	blobs map[string]blobRef // digest -> where to fetch it
	raw   map[string][]byte  // manifests, indexes and configs, by digest
}

// Resolved is one image resolved at its registry.
type Resolved struct {
	bundle.Image
	// Blobs are its blobs fetched as streams (layers), in order; Download the part of their size
	// not in the cache.
	Layers   []string
	Download int64
}

type blobRef struct {
	repo name.Repository
	size int64
}

// TooLargeError is an image above the bound of a bundle's image.
type TooLargeError struct {
	Image       string
	Size, Bound int64
}

// Error implements error.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("image %s is %s, above the bound of %s for one image of a bundle; it is not truncated", e.Image, bundle.Size(e.Size), bundle.Size(e.Bound))
}

// ImageError is an image that cannot be pulled (unknown to its registry, refused credentials,
// the registry unreachable): Image names it as the charts render it.
type ImageError struct {
	Image string
	Err   error
}

// Error implements error.
func (e *ImageError) Error() string { return "image " + e.Image + ": " + Reason(e.Err) }

// Unwrap returns the cause.
func (e *ImageError) Unwrap() error { return e.Err }

// Resolve reads the manifest of every image (no layer yet) and the sizes of what a bundle of them
// holds, refusing an image above the bound.
func Resolve(ctx context.Context, cfg Config) (*Plan, error) {
	plats, err := parsePlatforms(cfg.Platforms)
	if err != nil {
		return nil, err
	}
	if cfg.MaxImageSize <= 0 {
		cfg.MaxImageSize = bundle.MaxImageSize
	}
	p := &Plan{cfg: cfg, blobs: map[string]blobRef{}, raw: map[string][]byte{}}
	for _, pl := range plats {
		p.Platforms = append(p.Platforms, pl.String())
	}
	seen := map[string]bool{}
	for _, ref := range cfg.Images {
		if seen[ref] {
			continue
		}
		seen[ref] = true
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r, err := p.resolve(ctx, ref, plats)
		if err != nil {
			return nil, err
		}
		if r.Size > cfg.MaxImageSize {
			return nil, &TooLargeError{Image: ref, Size: r.Size, Bound: cfg.MaxImageSize}
		}
		p.Images = append(p.Images, *r)
		p.Referenced += r.Size
	}
	counted := map[string]bool{}
	for d := range p.raw {
		counted[d] = true
		p.Size += int64(len(p.raw[d]))
	}
	for d, b := range p.blobs {
		if counted[d] {
			continue
		}
		counted[d] = true
		p.Size += b.size
		if p.cachedBlob(d, b.size) {
			p.Cached += b.size
		}
	}
	// Download counts a layer for the first image that uses it, as Fetch downloads it.
	first := map[string]bool{}
	for i := range p.Images {
		for _, l := range p.Images[i].Layers {
			if !first[l] && !p.cachedBlob(l, p.blobs[l].size) {
				first[l] = true
				p.Images[i].Download += p.blobs[l].size
				p.Download += p.blobs[l].size
			}
		}
	}
	return p, nil
}

func (p *Plan) options(ctx context.Context) []remote.Option {
	opts := []remote.Option{remote.WithContext(ctx)}
	if p.cfg.Keychain != nil {
		opts = append(opts, remote.WithAuthFromKeychain(p.cfg.Keychain))
	}
	if p.cfg.Transport != nil {
		opts = append(opts, remote.WithTransport(p.cfg.Transport))
	}
	return opts
}

func (p *Plan) resolve(ctx context.Context, ref string, plats []v1.Platform) (*Resolved, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, &ImageError{Image: ref, Err: err}
	}
	opts := p.options(ctx)
	desc, err := remote.Get(r, opts...)
	if err != nil {
		return nil, &ImageError{Image: ref, Err: err}
	}
	res := &Resolved{Image: bundle.Image{Ref: ref, Source: desc.Digest.String()}}
	repo := r.Context()
	if !desc.MediaType.IsIndex() {
		if err := p.addImage(ctx, repo, desc.Manifest, res); err != nil {
			return nil, &ImageError{Image: ref, Err: err}
		}
		res.Digest, res.MediaType = desc.Digest.String(), string(desc.MediaType)
		return res, nil
	}
	idx, err := v1.ParseIndexManifest(strings.NewReader(string(desc.Manifest)))
	if err != nil {
		return nil, &ImageError{Image: ref, Err: err}
	}
	var kept []v1.Descriptor
	for _, m := range idx.Manifests {
		if m.Platform == nil || !m.MediaType.IsImage() {
			continue
		}
		for _, pl := range plats {
			if m.Platform.Satisfies(pl) {
				kept = append(kept, m)
				break
			}
		}
	}
	if len(kept) == 0 {
		return nil, &ImageError{Image: ref, Err: fmt.Errorf("its index has no image for %s", strings.Join(p.Platforms, ", "))}
	}
	for _, m := range kept {
		raw, err := fetchManifest(repo.Digest(m.Digest.String()), opts)
		if err != nil {
			return nil, &ImageError{Image: ref, Err: err}
		}
		if err := p.addImage(ctx, repo, raw, res); err != nil {
			return nil, &ImageError{Image: ref, Err: err}
		}
	}
	if len(kept) == 1 {
		// One platform: the image is that platform's manifest, which any runtime pulls as it is.
		res.Digest, res.MediaType = kept[0].Digest.String(), string(kept[0].MediaType)
		return res, nil
	}
	// Several: an index of them alone (its digest differs from the source's).
	raw, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: kept})
	if err != nil {
		return nil, err
	}
	d := digestOf(raw)
	p.raw[d] = raw
	res.Size += int64(len(raw))
	res.Digest, res.MediaType = d, string(types.OCIImageIndex)
	return res, nil
}

func fetchManifest(ref name.Digest, opts []remote.Option) ([]byte, error) {
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, err
	}
	return desc.Manifest, nil
}

// addImage records an image manifest, its config and layers.
func (p *Plan) addImage(ctx context.Context, repo name.Repository, raw []byte, res *Resolved) error {
	m, err := v1.ParseManifest(strings.NewReader(string(raw)))
	if err != nil {
		return err
	}
	md := digestOf(raw)
	p.raw[md] = raw
	res.Size += int64(len(raw))
	cd := m.Config.Digest.String()
	if _, ok := p.raw[cd]; !ok {
		cfg, err := fetchBlob(ctx, repo.Digest(cd), m.Config.Size, p.options(ctx))
		if err != nil {
			return fmt.Errorf("config %s: %w", cd, err)
		}
		p.raw[cd] = cfg
	}
	res.Size += m.Config.Size
	for _, l := range m.Layers {
		d := l.Digest.String()
		if _, ok := p.blobs[d]; !ok {
			p.blobs[d] = blobRef{repo: repo, size: l.Size}
		}
		res.Layers = append(res.Layers, d)
		res.Size += l.Size
	}
	return nil
}

// fetchBlob reads a small blob (a config) whole, checked against its digest.
func fetchBlob(_ context.Context, ref name.Digest, size int64, opts []remote.Option) ([]byte, error) {
	if size > 4<<20 {
		return nil, fmt.Errorf("an image config of %s is not one", bundle.Size(size))
	}
	l, err := remote.Layer(ref, opts...)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, size+1))
	if err != nil {
		return nil, err
	}
	if digestOf(data) != ref.DigestStr() {
		return nil, fmt.Errorf("its content does not match its digest")
	}
	return data, nil
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func parsePlatforms(ss []string) ([]v1.Platform, error) {
	if len(ss) == 0 {
		ss = []string{DefaultPlatform}
	}
	var out []v1.Platform
	for _, s := range ss {
		pl, err := v1.ParsePlatform(s)
		if err != nil || pl.OS == "" || pl.Architecture == "" {
			return nil, &PlatformError{Platform: s}
		}
		out = append(out, *pl)
	}
	return out, nil
}

// PlatformError is a platform that is not os/arch[/variant].
type PlatformError struct{ Platform string }

// Error implements error.
func (e *PlatformError) Error() string {
	return fmt.Sprintf("platform %q is not os/arch[/variant] (e.g. linux/amd64)", e.Platform)
}

// Layout returns what the bundle holds of the images: the files of the OCI image layout
// (oci-layout, index.json, manifests, indexes and configs), the layers as streams from the cache,
// and the list for bundle.json. Call it after Fetch.
func (p *Plan) Layout() ([]bundle.File, []bundle.Blob, *bundle.Layout, error) {
	lay := &bundle.Layout{Platforms: p.Platforms, Size: p.Size, Referenced: p.Referenced}
	var idx v1.IndexManifest
	idx.SchemaVersion, idx.MediaType = 2, types.OCIImageIndex
	for _, img := range p.Images {
		lay.Images = append(lay.Images, img.Image)
		h, err := v1.NewHash(img.Digest)
		if err != nil {
			return nil, nil, nil, err
		}
		idx.Manifests = append(idx.Manifests, v1.Descriptor{MediaType: types.MediaType(img.MediaType), Digest: h,
			Size: int64(len(p.raw[img.Digest])), Annotations: map[string]string{bundle.RefAnnotation: img.Ref}})
	}
	ij, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return nil, nil, nil, err
	}
	files := []bundle.File{
		{Path: bundle.LayoutDir + "/oci-layout", Data: []byte(`{"imageLayoutVersion":"1.0.0"}` + "\n")},
		{Path: bundle.LayoutDir + "/index.json", Data: ij},
	}
	for _, d := range sortedKeys(p.raw) {
		files = append(files, bundle.File{Path: bundle.BlobPath(d), Data: p.raw[d]})
	}
	var blobs []bundle.Blob
	for _, d := range sortedKeys(p.blobs) {
		if _, ok := p.raw[d]; ok {
			continue // a layer that is also a config of another image: already a file
		}
		path := filepath.Join(p.blobDir(), strings.TrimPrefix(d, "sha256:"))
		blobs = append(blobs, bundle.Blob{Digest: d, Size: p.blobs[d].size, Open: func() (io.ReadCloser, error) { return os.Open(path) }})
	}
	return files, blobs, lay, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
