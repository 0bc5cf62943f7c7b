package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// File is one file of a bundle.
type File struct {
	Path string
	Data []byte
}

// Progress receives one line per step of a write or a read (nil: none).
type Progress func(format string, a ...any)

func (p Progress) say(format string, a ...any) {
	if p != nil {
		p(format, a...)
	}
}

// Write writes a bundle to w: bundle.json, the files, then SHA256SUMS. A file whose content
// holds one of secrets (the installation ID, the values' secrets) is refused: the bundle travels.
// It returns the bundle's digest (sha256 of the whole file) and size.
func Write(w io.Writer, m *Manifest, files []File, secrets []string, progress Progress) (Written, error) {
	return WriteBlobs(w, m, files, nil, secrets, progress, nil)
}

// WriteSigned is Write, and with sign set it adds, after SHA256SUMS, the signature of bundle.json
// and SHA256SUMS (SignatureFile, which SHA256SUMS does not list).
func WriteSigned(w io.Writer, m *Manifest, files []File, secrets []string, progress Progress, sign Signer) (Written, error) {
	return WriteBlobs(w, m, files, nil, secrets, progress, sign)
}

// WriteBlobs is Write with the blobs of the bundle's image layout, written from their streams
// after the files (blobs.go), and with sign set the signature (WriteSigned).
func WriteBlobs(w io.Writer, m *Manifest, files []File, blobs []Blob, secrets []string, progress Progress, sign Signer) (Written, error) {
	m.Format = Format
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Written{}, err
	}
	all := append([]File{{Path: ManifestFile, Data: append(mj, '\n')}}, files...)
	seen := map[string]bool{}
	for _, f := range all {
		if err := checkPath(f.Path); err != nil {
			return Written{}, err
		}
		if f.Path == SignatureFile {
			return Written{}, fmt.Errorf("bundle: %s is the signature's name, not a file of the content", f.Path)
		}
		if seen[f.Path] {
			return Written{}, fmt.Errorf("bundle: %s twice", f.Path)
		}
		seen[f.Path] = true
		for _, s := range secrets {
			if len(s) >= 4 && bytes.Contains(f.Data, []byte(s)) {
				return Written{}, fmt.Errorf("refusing to write the bundle: %s contains a secret of your values (the installation ID or a credential); a bundle is carried around and must hold none", f.Path)
			}
		}
	}
	if err := checkBlobs(blobs, seen); err != nil {
		return Written{}, err
	}
	h := sha256.New()
	// Charts are gzip archives already: the fastest level costs little size. Image layers are
	// compressed too, and outweigh the rest: a bundle with images stores them as they are.
	level := gzip.BestSpeed
	if len(blobs) > 0 {
		level = gzip.NoCompression
	}
	cw := &countWriter{w: io.MultiWriter(w, h)}
	gz, _ := gzip.NewWriterLevel(cw, level)
	tw := tar.NewWriter(gz)
	var sums strings.Builder
	for _, f := range all {
		if err := writeEntry(tw, f.Path, f.Data, m.Created); err != nil {
			return Written{}, err
		}
		sum := sha256.Sum256(f.Data)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), f.Path)
		progress.say("  %-60s %s", f.Path, Size(int64(len(f.Data))))
	}
	for _, b := range blobs {
		if err := writeBlob(tw, b, m.Created); err != nil {
			return Written{}, err
		}
		fmt.Fprintf(&sums, "%s  %s\n", strings.TrimPrefix(b.Digest, "sha256:"), BlobPath(b.Digest))
	}
	if err := writeEntry(tw, SumsFile, []byte(sums.String()), m.Created); err != nil {
		return Written{}, err
	}
	if err := addSignature(tw, sign, all[0].Data, []byte(sums.String()), m.Created, progress); err != nil {
		return Written{}, err
	}
	if err := tw.Close(); err != nil {
		return Written{}, err
	}
	if err := gz.Close(); err != nil {
		return Written{}, err
	}
	return Written{Digest: "sha256:" + hex.EncodeToString(h.Sum(nil)), Size: cw.n}, nil
}

// ValidDigest reports whether d is a digest as Write returns it: "sha256:" and 64 hex digits.
func ValidDigest(d string) bool {
	h, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(h) != 64 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil
}

// Written is what Write wrote: the digest (sha256:...) and the size of the whole file.
type Written struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

func writeEntry(tw *tar.Writer, name string, data []byte, mod time.Time) error {
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: mod.UTC(), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("bundle: %s: %w", name, err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("bundle: %s: %w", name, err)
	}
	return nil
}

// checkPath refuses a path that would leave the bundle's directory when extracted.
func checkPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p || strings.HasPrefix(p, "../") || p == ".." || strings.Contains(p, "\\") {
		return fmt.Errorf("bundle: invalid file name %q", p)
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
