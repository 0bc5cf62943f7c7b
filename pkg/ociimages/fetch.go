package ociimages

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
)

// The download of a plan's layers into the cache directory (each checked against its digest,
// one already there kept), with the progress of each image in bytes.

// Progress is where the download of one image stands.
type Progress struct {
	Image       string
	Done, Total int64
	// Finished is the last report of the image; Present says that nothing had to be moved (the
	// cache, or the registry pushed to, had all of it).
	Finished, Present bool
}

// Fetch downloads into the cache the layers it lacks, image after image, reporting the bytes
// of each (progress may be nil).
func (p *Plan) Fetch(ctx context.Context, progress func(Progress)) error {
	if err := os.MkdirAll(p.blobDir(), 0o755); err != nil {
		return &CacheError{Dir: p.cfg.CacheDir, Err: err}
	}
	jobs := p.cfg.Jobs
	if jobs <= 0 {
		jobs = 4
	}
	done := map[string]bool{}
	for _, img := range p.Images {
		var mu sync.Mutex // guards cur and reports
		cur := int64(0)
		report := func(n int64) {
			if progress == nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			cur += n
			progress(Progress{Image: img.Ref, Done: cur, Total: img.Download})
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(jobs)
		for _, d := range img.Layers {
			if done[d] || p.cachedBlob(d, p.blobs[d].size) {
				continue
			}
			done[d] = true
			br := p.blobs[d]
			g.Go(func() error { return p.fetch(gctx, br, d, report) })
		}
		if err := g.Wait(); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &ImageError{Image: img.Ref, Err: err}
		}
		if progress != nil {
			mu.Lock()
			progress(Progress{Image: img.Ref, Done: cur, Total: img.Download, Finished: true, Present: img.Download == 0})
			mu.Unlock()
		}
	}
	return nil
}

// fetch streams one layer into the cache through a temporary file renamed once its digest is
// checked.
func (p *Plan) fetch(ctx context.Context, br blobRef, d string, add func(int64)) error {
	l, err := remote.Layer(br.repo.Digest(d), p.options(ctx)...)
	if err != nil {
		return err
	}
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	return p.store(d, br.size, &countingReader{r: rc, add: add})
}

// store writes a blob into the cache, checking its size and digest; an existing blob of the
// right size is kept.
func (p *Plan) store(d string, size int64, r io.Reader) error {
	return storeBlob(p.cfg.CacheDir, d, size, r)
}

func storeBlob(cacheDir, d string, size int64, r io.Reader) error {
	dir := filepath.Join(cacheDir, "blobs", "sha256")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &CacheError{Dir: cacheDir, Err: err}
	}
	final := filepath.Join(dir, strings.TrimPrefix(d, "sha256:"))
	if st, err := os.Stat(final); err == nil && st.Size() == size {
		return nil
	}
	tmp, err := os.CreateTemp(dir, ".part-*")
	if err != nil {
		return &CacheError{Dir: cacheDir, Err: err}
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, size+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return &CacheError{Dir: cacheDir, Err: pe.Err}
	}
	if err != nil {
		return err
	}
	if n != size || "sha256:"+hex.EncodeToString(h.Sum(nil)) != d {
		return fmt.Errorf("blob %s: the content received does not match its digest and size", d)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return &CacheError{Dir: cacheDir, Err: err}
	}
	return nil
}

// CacheError is the cache directory that cannot be written (a full disk, no permission).
type CacheError struct {
	Dir string
	Err error
}

// Error implements error.
func (e *CacheError) Error() string { return "the image cache " + e.Dir + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *CacheError) Unwrap() error { return e.Err }

func (p *Plan) blobDir() string { return filepath.Join(p.cfg.CacheDir, "blobs", "sha256") }

func (p *Plan) cachedBlob(d string, size int64) bool {
	st, err := os.Stat(filepath.Join(p.blobDir(), strings.TrimPrefix(d, "sha256:")))
	return err == nil && st.Size() == size
}

type countingReader struct {
	r       io.Reader
	add     func(int64)
	pending int64
}

// Read counts the bytes, reported by steps of 1 MiB.
func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.pending += int64(n)
	if c.pending >= 1<<20 || (err != nil && c.pending > 0) {
		c.add(c.pending)
		c.pending = 0
	}
	return n, err
}
