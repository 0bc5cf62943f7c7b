package ociimages

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
)

// CacheSink returns the bundle.ReadOptions.Blob that extracts a bundle's layers into the cache
// directory (each checked against its digest; one already there is kept), so that a push reads
// them from files, and a push run again after an interruption finds them there.
func CacheSink(cacheDir string) func(digest string, size int64, r io.Reader) error {
	return func(d string, size int64, r io.Reader) error {
		err := storeBlob(cacheDir, d, size, r)
		if err != nil && !errors.As(err, new(*CacheError)) {
			// A damaged blob: not kept; the bundle's read names the image.
			return nil
		}
		return err
	}
}

// PushConfig is where Push pushes a bundle's images.
type PushConfig struct {
	// CacheDir holds the bundle's layers (extracted by CacheSink while the bundle was read).
	CacheDir string
	// Target returns the reference in the site's registry of an image of the bundle.
	Target func(ref string) (string, error)
	// Auth is the login to the site's registry; nil: Keychain (nil: anonymous).
	Auth      authn.Authenticator
	Keychain  authn.Keychain
	Transport http.RoundTripper
	// Jobs is the number of blobs pushed at once (0: 4).
	Jobs int
}

// Pushed is one image pushed.
type Pushed struct {
	Image  string `json:"image"`
	Mirror string `json:"mirror"`
	Digest string `json:"digest"`
	// Pullable is true once it was pulled back by digest (manifest and every blob found).
	Pullable bool `json:"pullable"`
}

// NoImagesError is a bundle that carries no images.
type NoImagesError struct{ Bundle string }

// Error implements error.
func (e *NoImagesError) Error() string { return "the bundle " + e.Bundle + " carries no images" }

// Push pushes the images of b into the site's registry, keeping every digest (a blob or manifest
// the registry has is not sent again: an interrupted push run again resumes), then checks that
// each can be pulled from it by digest. progress may be nil.
func Push(ctx context.Context, b *bundle.Bundle, cfg PushConfig, progress func(Progress)) ([]Pushed, error) {
	lay := b.Manifest.Layout
	if lay == nil || len(lay.Images) == 0 {
		return nil, &NoImagesError{Bundle: b.Path}
	}
	opts := []remote.Option{remote.WithContext(ctx)}
	switch {
	case cfg.Auth != nil:
		opts = append(opts, remote.WithAuth(cfg.Auth))
	case cfg.Keychain != nil:
		opts = append(opts, remote.WithAuthFromKeychain(cfg.Keychain))
	}
	if cfg.Transport != nil {
		opts = append(opts, remote.WithTransport(cfg.Transport))
	}
	if cfg.Jobs > 0 {
		opts = append(opts, remote.WithJobs(cfg.Jobs))
	}
	src := &source{b: b, dir: filepath.Join(cfg.CacheDir, "blobs", "sha256")}
	var out []Pushed
	for _, img := range lay.Images {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		target, err := cfg.Target(img.Ref)
		if err != nil {
			return out, &ImageError{Image: img.Ref, Err: err}
		}
		dst, err := name.ParseReference(target)
		if err != nil {
			return out, &ImageError{Image: img.Ref, Err: err}
		}
		if err := pushOne(src, img, dst, opts, progress); err != nil {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			return out, &ImageError{Image: img.Ref, Err: err}
		}
		out = append(out, Pushed{Image: img.Ref, Mirror: target, Digest: img.Digest})
	}
	for i, p := range out {
		if err := pullable(p, opts); err != nil {
			return out, &NotPullableError{Image: p.Mirror + "@" + p.Digest, Err: err}
		}
		out[i].Pullable = true
	}
	return out, nil
}

// NotPullableError is an image pushed that cannot be pulled back by digest.
type NotPullableError struct {
	Image string
	Err   error
}

// Error implements error.
func (e *NotPullableError) Error() string {
	return "image " + e.Image + " cannot be pulled from the registry after the push: " + Reason(e.Err)
}

// Unwrap returns the cause.
func (e *NotPullableError) Unwrap() error { return e.Err }

func pushOne(src *source, img bundle.Image, dst name.Reference, opts []remote.Option, progress func(Progress)) error {
	updates := make(chan v1.Update, 64)
	done := make(chan struct{})
	var sent int64
	go func() {
		defer close(done)
		for u := range updates {
			if progress != nil && u.Error == nil {
				sent = u.Complete
				progress(Progress{Image: img.Ref, Done: u.Complete, Total: u.Total})
			}
		}
	}()
	opts = append(append([]remote.Option{}, opts...), remote.WithProgress(updates))
	var err error
	if types.MediaType(img.MediaType).IsIndex() {
		var idx v1.ImageIndex
		if idx, err = src.index(img.Digest); err == nil {
			err = remote.WriteIndex(dst, idx, opts...)
		}
	} else {
		var im v1.Image
		if im, err = src.image(img.Digest); err == nil {
			err = remote.Write(dst, im, opts...)
		}
	}
	<-done // remote closes updates when its write ends, with or without an error
	if progress != nil && err == nil {
		progress(Progress{Image: img.Ref, Done: sent, Total: img.Size, Finished: true, Present: sent == 0})
	}
	return err
}

// pullable reads the manifest back by digest and checks that the registry has every blob.
func pullable(p Pushed, opts []remote.Option) error {
	ref, err := name.ParseReference(p.Mirror)
	if err != nil {
		return err
	}
	repo := ref.Context()
	desc, err := remote.Get(repo.Digest(p.Digest), opts...)
	if err != nil {
		return err
	}
	var manifests [][]byte
	if desc.MediaType.IsIndex() {
		idx, err := v1.ParseIndexManifest(strings.NewReader(string(desc.Manifest)))
		if err != nil {
			return err
		}
		for _, m := range idx.Manifests {
			d, err := remote.Get(repo.Digest(m.Digest.String()), opts...)
			if err != nil {
				return err
			}
			manifests = append(manifests, d.Manifest)
		}
	} else {
		manifests = append(manifests, desc.Manifest)
	}
	for _, raw := range manifests {
		m, err := v1.ParseManifest(strings.NewReader(string(raw)))
		if err != nil {
			return err
		}
		for _, d := range append([]v1.Descriptor{m.Config}, m.Layers...) {
			l, err := remote.Layer(repo.Digest(d.Digest.String()), opts...)
			if err != nil {
				return err
			}
			ok, err := l.(interface{ Exists() (bool, error) }).Exists()
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("blob %s is missing", d.Digest)
			}
		}
	}
	return nil
}

// source serves the images of a bundle: manifests and configs from the bundle (in memory),
// layers from the cache files.
type source struct {
	b   *bundle.Bundle
	dir string
}

func (s *source) blob(d string) ([]byte, error) {
	data, ok := s.b.File(bundle.BlobPath(d))
	if !ok {
		return nil, fmt.Errorf("the bundle lacks the blob %s", d)
	}
	return data, nil
}

func (s *source) image(d string) (v1.Image, error) {
	raw, err := s.blob(d)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(strings.NewReader(string(raw)))
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&core{src: s, raw: raw, m: m})
}

func (s *source) index(d string) (v1.ImageIndex, error) {
	raw, err := s.blob(d)
	if err != nil {
		return nil, err
	}
	im, err := v1.ParseIndexManifest(strings.NewReader(string(raw)))
	if err != nil {
		return nil, err
	}
	return &index{src: s, raw: raw, m: im}, nil
}

// core is an image of the bundle as go-containerregistry's partial package builds it.
type core struct {
	src *source
	raw []byte
	m   *v1.Manifest
}

func (c *core) RawConfigFile() ([]byte, error) { return c.src.blob(c.m.Config.Digest.String()) }
func (c *core) MediaType() (types.MediaType, error) {
	if c.m.MediaType != "" {
		return c.m.MediaType, nil
	}
	return types.OCIManifestSchema1, nil
}
func (c *core) RawManifest() ([]byte, error) { return c.raw, nil }
func (c *core) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == c.m.Config.Digest {
		return &layer{src: c.src, desc: c.m.Config}, nil
	}
	for _, l := range c.m.Layers {
		if l.Digest == h {
			return &layer{src: c.src, desc: l}, nil
		}
	}
	return nil, fmt.Errorf("the image has no blob %s", h)
}

// layer is a blob of an image of the bundle: in the bundle when small, else in the cache.
type layer struct {
	src  *source
	desc v1.Descriptor
}

func (l *layer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *layer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *layer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *layer) Compressed() (io.ReadCloser, error) {
	if data, ok := l.src.b.File(bundle.BlobPath(l.desc.Digest.String())); ok {
		return io.NopCloser(strings.NewReader(string(data))), nil
	}
	return os.Open(filepath.Join(l.src.dir, l.desc.Digest.Hex))
}

// index is a multi-platform index of the bundle.
type index struct {
	src *source
	raw []byte
	m   *v1.IndexManifest
}

func (i *index) MediaType() (types.MediaType, error) { return i.m.MediaType, nil }
func (i *index) Digest() (v1.Hash, error)            { return v1.NewHash(digestOf(i.raw)) }
func (i *index) Size() (int64, error)                { return int64(len(i.raw)), nil }
func (i *index) IndexManifest() (*v1.IndexManifest, error) {
	var m v1.IndexManifest
	err := json.Unmarshal(i.raw, &m)
	return &m, err
}
func (i *index) RawManifest() ([]byte, error)                { return i.raw, nil }
func (i *index) Image(h v1.Hash) (v1.Image, error)           { return i.src.image(h.String()) }
func (i *index) ImageIndex(h v1.Hash) (v1.ImageIndex, error) { return i.src.index(h.String()) }

// Transport builds the HTTP transport to a registry: the CA file's certificates added to the
// system's (caPEM nil: the system's alone), or no verification at all when insecure (a lab).
func Transport(caPEM []byte, insecure bool) (http.RoundTripper, error) {
	t := remote.DefaultTransport.(*http.Transport).Clone()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(caPEM) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("no PEM certificate in the CA file")
		}
		cfg.RootCAs = pool
	}
	cfg.InsecureSkipVerify = insecure //nolint:gosec // asked for, for a lab registry
	t.TLSClientConfig = cfg
	return t, nil
}
