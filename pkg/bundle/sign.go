package bundle

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// SignatureFile is the signature of a signed bundle: one statement over the digests of
// bundle.json and SHA256SUMS, signed with the builder's key (package bundlesign makes and checks
// it). It is the last file of the bundle and SHA256SUMS does not list it, so that signing a
// bundle changes neither bundle.json nor SHA256SUMS; a bundle without it is unsigned.
const SignatureFile = "signature.sigstore.json"

// Signer returns the content of SignatureFile for a bundle's bundle.json and SHA256SUMS.
type Signer func(manifest, sums []byte) ([]byte, error)

// Signature returns the bundle's SignatureFile, or false when it is unsigned.
func (b *Bundle) Signature() ([]byte, bool) { return b.File(SignatureFile) }

// addSignature writes SignatureFile, signed by sign (nil: none).
func addSignature(tw *tar.Writer, sign Signer, manifest, sums []byte, mod time.Time, progress Progress) error {
	if sign == nil {
		return nil
	}
	sig, err := sign(manifest, sums)
	if err != nil {
		return err
	}
	if err := writeEntry(tw, SignatureFile, sig, mod); err != nil {
		return err
	}
	progress.say("  %-60s %s", SignatureFile, Size(int64(len(sig))))
	return nil
}

// SignFile signs the bundle at path: it reads and verifies it (Open), has sign sign its
// bundle.json and SHA256SUMS, and rewrites it with the signature as its last file, replacing a
// signature it had. The rewrite goes through a temporary file renamed over path (WriteFile):
// an interrupted or failed signing leaves the bundle as it was. Every other file is copied
// unchanged, bundle.json and SHA256SUMS included; the digest of the whole file changes (it is
// returned with the new size).
func SignFile(path string, sign Signer, progress Progress) (Written, error) {
	b, err := Open(path, nil)
	if err != nil {
		return Written{}, err
	}
	mj, _ := b.File(ManifestFile)
	sums, _ := b.File(SumsFile)
	var written Written
	err = WriteFile(path, func(w io.Writer) error {
		src, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("reading the bundle: %w", err)
		}
		defer src.Close()
		written, err = copySigned(w, src, b, func(tw *tar.Writer) error {
			return addSignature(tw, sign, mj, sums, b.Manifest.Created, progress)
		})
		return err
	})
	return written, err
}

// copySigned copies the bundle b read from src to w, entry by entry without holding one in
// memory, leaving out its signature, then calls sign to add the new one before the archive's end.
// src must be the file b was read from: its digest is checked at the end.
func copySigned(w io.Writer, src io.Reader, b *Bundle, sign func(*tar.Writer) error) (Written, error) {
	changed := &Error{Path: b.Path, Msg: "changed while it was being signed: sign it again"}
	hin := sha256.New()
	gin, err := gzip.NewReader(io.TeeReader(src, hin))
	if err != nil {
		return Written{}, changed
	}
	gin.Multistream(false)
	tr := tar.NewReader(gin)
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, h)}
	// The level Write chose: a bundle with images stores its (compressed) layers as they are.
	level := gzip.BestSpeed
	if b.Manifest.Layout != nil {
		level = gzip.NoCompression
	}
	gz, _ := gzip.NewWriterLevel(cw, level)
	tw := tar.NewWriter(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Written{}, changed
		}
		if hdr.Name == SignatureFile {
			continue
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return Written{}, fmt.Errorf("bundle: %s: %w", hdr.Name, err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return Written{}, copyError(hdr.Name, err, changed)
		}
	}
	// Read src to its end, so that its digest covers the whole file.
	if _, err := io.Copy(io.Discard, gin); err != nil {
		return Written{}, changed
	}
	if _, err := io.Copy(io.Discard, src); err != nil {
		return Written{}, changed
	}
	if "sha256:"+hex.EncodeToString(hin.Sum(nil)) != b.Digest {
		return Written{}, changed
	}
	if err := sign(tw); err != nil {
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

// copyError is a failed copy of an entry: the write's error (a full disk, a FileError) as it is,
// a read error as the source having changed.
func copyError(name string, err error, changed error) error {
	var fe *FileError
	if errors.As(err, &fe) {
		return err
	}
	if errors.Is(err, tar.ErrWriteTooLong) {
		return fmt.Errorf("bundle: %s: %w", name, err)
	}
	return changed
}
