package adminstep

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/catalog"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// Source reads the vendor's files of a release (paths of the configuration repository).
type Source interface {
	Read(ctx context.Context, rel manifest.Release, path string) ([]byte, error)
	// Describe names where the files come from, for messages.
	Describe() string
}

// ErrNoRef is returned for a release the configuration repository has no ref for.
var ErrNoRef = errors.New("the release has no ref in the configuration repository")

// Repo reads the configuration repository over HTTPS with the client of `releases --refresh`
// (pkg/catalog), at the release's ref.
type Repo struct{ Config catalog.Config }

// Read implements Source.
func (r Repo) Read(ctx context.Context, rel manifest.Release, path string) ([]byte, error) {
	ref := rel.ConfigRef()
	if ref == "" {
		return nil, fmt.Errorf("%s %s: %w", rel.Name, path, ErrNoRef)
	}
	data, _, err := catalog.FetchFile(ctx, r.Config, ref, path)
	return data, err
}

// Describe implements Source.
func (r Repo) Describe() string { return "the vendor's configuration repository" }

// Bundle reads the admin manifests of a release bundle.
type Bundle struct {
	B    *bundle.Bundle
	Path string
}

// Read implements Source.
func (b Bundle) Read(_ context.Context, rel manifest.Release, path string) ([]byte, error) {
	data, ok := b.B.File(bundle.AdminPath(rel.Name, path))
	if !ok {
		return nil, fmt.Errorf("%s of %s is not in the release bundle %s", path, rel.Name, b.Path)
	}
	return data, nil
}

// Describe implements Source.
func (b Bundle) Describe() string { return "the release bundle " + b.Path }

// Cached reads each file of src once (one command reads a manifest for the judgement, the
// apply and the verification).
func Cached(src Source) Source {
	if src == nil {
		return nil
	}
	if _, ok := src.(*cached); ok {
		return src
	}
	return &cached{src: src, files: map[string]result{}}
}

type result struct {
	data []byte
	err  error
}

type cached struct {
	src   Source
	mu    sync.Mutex // guards files
	files map[string]result
}

func (c *cached) Read(ctx context.Context, rel manifest.Release, path string) ([]byte, error) {
	key := rel.Name + "\x00" + rel.ConfigRef() + "\x00" + path
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.files[key]; ok {
		return r.data, r.err
	}
	data, err := c.src.Read(ctx, rel, path)
	if ctx.Err() == nil {
		c.files[key] = result{data, err}
	}
	return data, err
}

func (c *cached) Describe() string { return c.src.Describe() }
