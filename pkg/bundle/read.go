package bundle

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Limits of a bundle read: no entry above maxEntry, no more than maxEntries entries.
const (
	maxEntry   = 512 << 20
	maxEntries = 10000
)

// Bundle is a bundle read and verified.
type Bundle struct {
	// Path is the file it was read from; Digest its sha256; Size its size in bytes.
	Path     string
	Digest   string
	Size     int64
	Manifest Manifest
	files    map[string][]byte
	order    []string
	// streamed are the blobs of the image layout hashed without being kept.
	streamed map[string]streamed
}

// Error is a bundle that cannot be used: corrupt, truncated, tampered with or incomplete. Its
// message names the file and what to do.
type Error struct {
	Path string
	Msg  string
}

// Error implements error.
func (e *Error) Error() string { return "bundle " + e.Path + ": " + e.Msg }

// Open reads the bundle at p and verifies it (Read).
func Open(p string, progress Progress) (*Bundle, error) {
	return OpenWith(p, ReadOptions{Progress: progress})
}

// OpenWith reads the bundle at p and verifies it (ReadWith).
func OpenWith(p string, opt ReadOptions) (*Bundle, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("reading the bundle: %w", err)
	}
	defer f.Close()
	return ReadWith(p, f, opt)
}

// Read reads a bundle from r and verifies it: a valid gzip and tar stream to its end, safe file
// names, SHA256SUMS matching every file and listing all of them, bundle.json of this format whose
// charts and files are all there. name names the bundle in errors.
func Read(name string, r io.Reader, progress Progress) (*Bundle, error) {
	return ReadWith(name, r, ReadOptions{Progress: progress})
}

// ReadWith is Read with options: the blobs of the image layout are streamed (never held in
// memory but for manifests and configs), their digests checked, and handed to opt.Blob.
func ReadWith(name string, r io.Reader, opt ReadOptions) (*Bundle, error) {
	progress := opt.Progress
	bad := func(format string, a ...any) error {
		return &Error{Path: name, Msg: fmt.Sprintf(format, a...)}
	}
	const recopy = "copy it again from the machine it was built on and compare its digest with the one printed there"
	h := sha256.New()
	cr := &countReader{r: io.TeeReader(r, h)}
	// gzip reads through br (a ByteReader, so it buffers nothing of its own): what is left in br
	// after the one gzip member is data appended to the bundle.
	br := bufio.NewReader(cr)
	gz, err := gzip.NewReader(br)
	if err != nil {
		return nil, bad("not a bundle, or truncated (%v): %s", err, recopy)
	}
	gz.Multistream(false)
	tr := tar.NewReader(gz)
	b := &Bundle{Path: name, files: map[string][]byte{}, streamed: map[string]streamed{}}
	var damaged []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, bad("corrupt or truncated (%v): %s", err, recopy)
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, bad("holds %s, which is not a regular file: a bundle holds only files", hdr.Name)
		}
		if err := checkPath(hdr.Name); err != nil {
			return nil, bad("holds an unsafe file name %q", hdr.Name)
		}
		if _, dup := b.files[hdr.Name]; dup {
			return nil, bad("holds %s twice: it was modified", hdr.Name)
		}
		if _, dup := b.streamed[hdr.Name]; dup {
			return nil, bad("holds %s twice: it was modified", hdr.Name)
		}
		if isBlob(hdr.Name) && hdr.Size <= MaxBlob && len(b.order) < maxEntries {
			data, sum, err := readBlob(hdr.Name, hdr.Size, tr, opt)
			if err != nil {
				return nil, bad("corrupt or truncated in %s (%v): %s", hdr.Name, err, recopy)
			}
			if sum != strings.TrimPrefix(hdr.Name, blobsPrefix) {
				damaged = append(damaged, hdr.Name)
			}
			if data != nil {
				b.files[hdr.Name] = data
			} else {
				b.streamed[hdr.Name] = streamed{sum: sum, size: hdr.Size}
			}
			b.order = append(b.order, hdr.Name)
			progress.say("  read %-55s %s", hdr.Name, Size(hdr.Size))
			continue
		}
		if hdr.Size > maxEntry || len(b.order) >= maxEntries {
			return nil, bad("%s is too large, or too many files: not a bundle of this plugin", hdr.Name)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, bad("corrupt or truncated in %s (%v): %s", hdr.Name, err, recopy)
		}
		b.files[hdr.Name] = data
		b.order = append(b.order, hdr.Name)
		progress.say("  read %-55s %s", hdr.Name, Size(int64(len(data))))
	}
	// Drain the gzip trailer so that its checksum is verified; after the tar's end there may only
	// be zero blocks.
	if n, err := io.Copy(nonZero{}, gz); err != nil {
		if errors.Is(err, errNonZero) {
			return nil, bad("holds data after the end of its archive: it was modified: %s", recopy)
		}
		return nil, bad("corrupt or truncated (%v): %s", err, recopy)
	} else if n > maxEntry {
		return nil, bad("holds too much padding after the end of its archive: not a bundle of this plugin")
	}
	if err := gz.Close(); err != nil {
		return nil, bad("corrupt (%v): %s", err, recopy)
	}
	// The bundle ends with its one gzip member: a second member or any byte appended after it is
	// not part of what was built (the digest printed by bundle create covers the file to its last
	// byte, and a second member would be read as more of the archive by other tools).
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, bad("cannot be read to its end (%v): %s", err, recopy)
		}
		return nil, bad("has data appended after its end: it was modified: %s", recopy)
	}
	b.Size, b.Digest = cr.n, "sha256:"+hex.EncodeToString(h.Sum(nil))

	sums, ok := b.files[SumsFile]
	if !ok {
		return nil, bad("has no %s: not a bundle of this plugin, or truncated: %s", SumsFile, recopy)
	}
	if len(damaged) > 0 {
		// Name the image before the checksum list does not (a blob's name is its digest).
		if err := json.Unmarshal(b.files[ManifestFile], &b.Manifest); err == nil {
			return nil, b.checkLayout(damaged, bad)
		}
		return nil, bad("image blob %s does not match its digest: the bundle was damaged: %s", damaged[0], recopy)
	}
	listed := map[string]bool{}
	for i, line := range strings.Split(strings.TrimRight(string(sums), "\n"), "\n") {
		sum, file, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 {
			return nil, bad("%s line %d is not `<sha256>  <file>`: it was modified", SumsFile, i+1)
		}
		var got string
		if data, ok := b.files[file]; ok {
			g := sha256.Sum256(data)
			got = hex.EncodeToString(g[:])
		} else if st, ok := b.streamed[file]; ok {
			got = st.sum
		} else {
			return nil, bad("lacks %s, which %s lists: it was modified or truncated: %s", file, SumsFile, recopy)
		}
		if got != sum {
			return nil, bad("%s does not match its checksum: the bundle was modified or damaged in transit: %s", file, recopy)
		}
		listed[file] = true
	}
	for _, f := range b.order {
		if f != SumsFile && f != SignatureFile && !listed[f] {
			return nil, bad("holds %s, which %s does not list: it was modified", f, SumsFile)
		}
	}
	mj, ok := b.files[ManifestFile]
	if !ok {
		return nil, bad("has no %s: not a bundle of this plugin", ManifestFile)
	}
	if err := json.Unmarshal(mj, &b.Manifest); err != nil {
		return nil, bad("%s does not parse (%v)", ManifestFile, err)
	}
	if b.Manifest.Format != Format {
		return nil, bad("format %q; this plugin reads %q: build the bundle with this plugin's version", b.Manifest.Format, Format)
	}
	for _, rel := range b.Manifest.Releases {
		need := append([]string{rel.Versions, rel.VendorImages}, rel.Samples...)
		for _, c := range rel.Charts {
			need = append(need, c.File)
		}
		for _, f := range need {
			if _, ok := b.files[f]; f != "" && !ok {
				return nil, bad("%s names %s, which it lacks", ManifestFile, f)
			}
		}
	}
	for _, a := range b.Manifest.Admin {
		if _, ok := b.files[a.File]; !ok {
			return nil, bad("%s names %s, which it lacks", ManifestFile, a.File)
		}
	}
	if err := b.checkLayout(nil, bad); err != nil {
		return nil, err
	}
	return b, nil
}

// File returns the content of a file of the bundle.
func (b *Bundle) File(p string) ([]byte, bool) {
	d, ok := b.files[p]
	return d, ok
}

// Files returns the files of the bundle in their order, with their sizes.
func (b *Bundle) Files() []Entry {
	out := make([]Entry, 0, len(b.order))
	for _, p := range b.order {
		if st, ok := b.streamed[p]; ok {
			out = append(out, Entry{Path: p, Size: st.size})
			continue
		}
		out = append(out, Entry{Path: p, Size: int64(len(b.files[p]))})
	}
	return out
}

// Entry is a file of a bundle and its size.
type Entry struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
}

// Chart returns the packed chart name at version.
func (b *Bundle) Chart(name, version string) ([]byte, error) {
	for _, r := range b.Manifest.Releases {
		for _, c := range r.Charts {
			if c.Name == name && c.Version == version {
				return b.files[c.File], nil
			}
		}
	}
	return nil, fmt.Errorf("bundle %s has no chart %s %s (it holds the releases %s): build a bundle whose path includes it",
		b.Path, name, version, strings.Join(b.ReleaseNames(), ", "))
}

// ReleaseNames names the bundle's releases in path order.
func (b *Bundle) ReleaseNames() []string { return b.Manifest.ReleaseNames() }

// countReader and countWriter count the bytes of the bundle file.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

var errNonZero = errors.New("non-zero data")

// nonZero is a writer that accepts only zero bytes (the tar's end-of-archive blocks).
type nonZero struct{}

func (nonZero) Write(p []byte) (int, error) {
	for i, c := range p {
		if c != 0 {
			return i, errNonZero
		}
	}
	return len(p), nil
}
