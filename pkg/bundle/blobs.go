package bundle

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// The images a bundle carries are an OCI image layout under LayoutDir: oci-layout, index.json
// (one entry per image, its reference in the annotation org.opencontainers.image.ref.name) and
// blobs/sha256/<hex>, each blob once whatever the number of images and releases that use it.
// bundle.json lists the images (Manifest.Layout) and SHA256SUMS lists every blob.
const (
	LayoutDir   = "images"
	blobsPrefix = LayoutDir + "/blobs/sha256/"
	// RefAnnotation is the annotation of index.json that names an image's reference.
	RefAnnotation = "org.opencontainers.image.ref.name"
)

// Bounds of the images of a bundle: a blob above MaxBlob is refused when written or read, and
// MaxImageSize is the default bound of one image (all its blobs) that the builder applies.
const (
	MaxBlob      int64 = 64 << 30
	MaxImageSize int64 = 16 << 30
)

// smallBlob is the largest blob a read keeps in memory: manifests and image configs (JSON). A
// larger blob, or one that is not JSON (a layer), is streamed: hashed, and handed to
// ReadOptions.Blob or dropped.
const smallBlob = 4 << 20

// Layout lists the images of the bundle's OCI image layout.
type Layout struct {
	// Platforms are the platforms the images were reduced to (os/arch[/variant]).
	Platforms []string `json:"platforms"`
	Images    []Image  `json:"images"`
	// Size is the sum of the sizes of the layout's blobs, each counted once; Referenced the sum
	// over the images, a blob counted once per image that uses it (Referenced/Size is the
	// deduplication ratio).
	Size       int64 `json:"size"`
	Referenced int64 `json:"referenced"`
}

// Image is one image of the layout.
type Image struct {
	// Ref is the image as the charts render it; Digest the manifest (or index, for several
	// platforms) the bundle holds; Source the digest the source registry served for Ref, which
	// differs from Digest when a multi-platform index was reduced.
	Ref       string `json:"ref"`
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	Source    string `json:"source,omitempty"`
	// Size is the size of all its blobs.
	Size int64 `json:"size"`
}

// Blob is a blob of the image layout written from a stream (a layer): Digest is sha256:<hex>.
// Write checks that the stream has Size bytes and this digest.
type Blob struct {
	Digest string
	Size   int64
	Open   func() (io.ReadCloser, error)
}

// BlobPath is where the blob of digest (sha256:<hex>) is stored in a bundle.
func BlobPath(digest string) string { return blobsPrefix + strings.TrimPrefix(digest, "sha256:") }

// BlobError is a blob whose stream is not what its digest names (a damaged cache, a source that
// changed): the bundle is not written.
type BlobError struct {
	Digest string
	Err    error
}

// Error implements error.
func (e *BlobError) Error() string { return "image blob " + e.Digest + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *BlobError) Unwrap() error { return e.Err }

func validBlobDigest(d string) bool { return ValidDigest(d) }

func checkBlobs(blobs []Blob, seen map[string]bool) error {
	for _, b := range blobs {
		if !validBlobDigest(b.Digest) {
			return fmt.Errorf("bundle: invalid blob digest %q", b.Digest)
		}
		if b.Size < 0 || b.Size > MaxBlob {
			return &BlobError{Digest: b.Digest, Err: fmt.Errorf("%s is above the bound of a bundle's blob (%s)", Size(b.Size), Size(MaxBlob))}
		}
		p := BlobPath(b.Digest)
		if seen[p] {
			return fmt.Errorf("bundle: %s twice", p)
		}
		seen[p] = true
	}
	return nil
}

// writeBlob streams one blob into the archive, checking its size and digest on the way.
func writeBlob(tw *tar.Writer, b Blob, mod time.Time) error {
	hdr := &tar.Header{Name: BlobPath(b.Digest), Mode: 0o644, Size: b.Size, ModTime: mod.UTC(), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("bundle: %s: %w", hdr.Name, err)
	}
	rc, err := b.Open()
	if err != nil {
		return &BlobError{Digest: b.Digest, Err: err}
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(tw, io.TeeReader(io.LimitReader(rc, b.Size), h))
	if err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			return fe
		}
		return &BlobError{Digest: b.Digest, Err: err}
	}
	if n != b.Size {
		return &BlobError{Digest: b.Digest, Err: fmt.Errorf("%d bytes instead of %d", n, b.Size)}
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != b.Digest {
		return &BlobError{Digest: b.Digest, Err: fmt.Errorf("its content has digest %s", got)}
	}
	return nil
}

// ReadOptions are the options of ReadWith.
type ReadOptions struct {
	Progress Progress
	// Blob receives each streamed blob of the image layout (a layer) as it is read; the digest
	// is checked after Blob returns, so Blob must check it too before it keeps the content
	// (Blob may return without reading all of r). nil drops them once hashed.
	Blob func(digest string, size int64, r io.Reader) error
}

// streamed is a blob that a read hashed without keeping it.
type streamed struct {
	sum  string
	size int64
}

// isBlob reports whether name is a blob of the image layout.
func isBlob(name string) bool {
	h, ok := strings.CutPrefix(name, blobsPrefix)
	return ok && len(h) == 64 && ValidDigest("sha256:"+h)
}

// readBlob reads a blob entry: kept in memory when it is small JSON (a manifest, a config),
// else streamed to opt.Blob and hashed. It returns the content kept (nil when streamed) and the
// sha256 of the entry.
func readBlob(name string, size int64, r io.Reader, opt ReadOptions) ([]byte, string, error) {
	br := newPeeker(r)
	first, _ := br.Peek(1)
	if size <= smallBlob && len(first) == 1 && first[0] == '{' {
		data, err := io.ReadAll(br)
		if err != nil {
			return nil, "", err
		}
		sum := sha256.Sum256(data)
		return data, hex.EncodeToString(sum[:]), nil
	}
	h := sha256.New()
	tr := io.TeeReader(br, h)
	if opt.Blob != nil {
		if err := opt.Blob("sha256:"+strings.TrimPrefix(name, blobsPrefix), size, tr); err != nil {
			return nil, "", err
		}
	}
	if _, err := io.Copy(io.Discard, tr); err != nil {
		return nil, "", err
	}
	return nil, hex.EncodeToString(h.Sum(nil)), nil
}

// ociDescriptor, ociManifest: the fields of OCI and Docker manifests and indexes a verify needs.
type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type ociManifest struct {
	MediaType string          `json:"mediaType"`
	Config    *ociDescriptor  `json:"config,omitempty"`
	Layers    []ociDescriptor `json:"layers,omitempty"`
	Manifests []ociDescriptor `json:"manifests,omitempty"`
}

// ImageBlobs returns, for each image of the layout, the digests of the blobs it is made of (its
// manifests or index, configs and layers), from the blobs the read kept.
func (b *Bundle) ImageBlobs() map[string][]string {
	out := map[string][]string{}
	if b.Manifest.Layout == nil {
		return out
	}
	for _, img := range b.Manifest.Layout.Images {
		var all []string
		var walk func(d string, depth int)
		walk = func(d string, depth int) {
			all = append(all, d)
			data, ok := b.files[BlobPath(d)]
			if !ok || depth > 2 {
				return
			}
			var m ociManifest
			if json.Unmarshal(data, &m) != nil {
				return
			}
			for _, c := range m.Manifests {
				walk(c.Digest, depth+1)
			}
			if m.Config != nil {
				all = append(all, m.Config.Digest)
			}
			for _, l := range m.Layers {
				all = append(all, l.Digest)
			}
		}
		walk(img.Digest, 0)
		out[img.Ref] = all
	}
	return out
}

// checkLayout checks that every blob of every image of bundle.json's layout is in the bundle,
// and names the images of a damaged blob (damaged: blob paths whose content does not match their
// digest).
func (b *Bundle) checkLayout(damaged []string, bad func(string, ...any) error) error {
	if b.Manifest.Layout == nil {
		if len(damaged) > 0 {
			return bad("image blob %s does not match its digest: the bundle was damaged", damaged[0])
		}
		return nil
	}
	const recopy = "copy it again from the machine it was built on"
	users := b.ImageBlobs()
	refs := make([]string, 0, len(users))
	for r := range users {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	if len(damaged) > 0 {
		// The first damaged blob names its images: one line.
		d := "sha256:" + strings.TrimPrefix(damaged[0], blobsPrefix)
		var imgs []string
		for _, r := range refs {
			for _, x := range users[r] {
				if x == d {
					imgs = append(imgs, r)
					break
				}
			}
		}
		if len(imgs) == 0 {
			imgs = []string{"no image"}
		}
		return bad("image %s is damaged: its blob %s does not match its digest: %s", strings.Join(imgs, ", "), d, recopy)
	}
	for _, r := range refs {
		for _, d := range users[r] {
			if !b.hasBlob(d) {
				return bad("image %s lacks its blob %s: it was modified or truncated: %s", r, d, recopy)
			}
		}
	}
	return nil
}

func (b *Bundle) hasBlob(d string) bool {
	p := BlobPath(d)
	if _, ok := b.files[p]; ok {
		return true
	}
	_, ok := b.streamed[p]
	return ok
}

func newPeeker(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, 64<<10) }
