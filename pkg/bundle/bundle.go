// Package bundle is the release bundle: one .tar.gz that carries into a site without internet
// access everything an install or upgrade to a TPE release needs, built on a machine that reaches
// the vendor. It holds the four charts of every release on the path, the release manifests
// (VERSIONS), the vendor's image list of each release (container-manifest.txt) where published, the
// images the charts render with the operator's values, the cluster-admin manifests the hops name,
// bundle.json (what, when, from where) and SHA256SUMS (every other file, `sha256sum -c` format).
//
// This package writes, reads and verifies the file; it imports no Helm package, so kubectl-tpe can
// read a bundle too. It never holds the installation ID: Write refuses content that contains one
// of the secrets it is given.
package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// Format is the format version written in bundle.json.
const Format = "helm-tpe/bundle/v1"

// Names of the two files every bundle has.
const (
	ManifestFile = "bundle.json"
	SumsFile     = "SHA256SUMS"
)

// Limits of a bundle read: no entry above maxEntry, no more than maxEntries entries.
const (
	maxEntry   = 512 << 20
	maxEntries = 10000
)

// Manifest is bundle.json.
type Manifest struct {
	Format    string    `json:"format"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"createdBy"`
	// Host is the machine it was built on.
	Host string `json:"host,omitempty"`
	// ChartRepository and ConfigRepository are where the charts and the vendor's files were read
	// (URLs without credentials).
	ChartRepository  string `json:"chartRepository"`
	ConfigRepository string `json:"configRepository,omitempty"`
	// From is the release the path starts from ("" for a fresh install); To the target.
	From string `json:"from,omitempty"`
	To   string `json:"to"`
	// Releases are the releases the bundle can install, in path order (each hop's target).
	Releases []Release `json:"releases"`
	// Admin is the cluster-admin material of the hops.
	Admin []AdminFile `json:"admin,omitempty"`
	// Missing is what the bundle could not include, and why.
	Missing []Missing `json:"missing,omitempty"`
}

// Release is one release of the bundle.
type Release struct {
	Release manifest.Release `json:"release"`
	// Versions is the path of its VERSIONS file in the bundle.
	Versions string `json:"versions"`
	// Charts are its four charts.
	Charts []Chart `json:"charts"`
	// VendorImages is the path of the vendor's container-manifest.txt ("" when not published).
	VendorImages string `json:"vendorImages,omitempty"`
	// Images are the images the charts render with the values the bundle was built with.
	Images []string `json:"images"`
	// Samples are the vendor's customization samples of the target release (values files to
	// start from), as paths in the bundle.
	Samples []string `json:"samples,omitempty"`
}

// Chart is one packed chart of the bundle.
type Chart struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	File    string `json:"file"`
	Size    int64  `json:"size"`
}

// AdminFile is a manifest of the vendor's configuration repository that a cluster-admin step of
// a hop applies (CRDs, RBAC).
type AdminFile struct {
	// Hop is the release the hop goes to; Step the admin step's id.
	Hop  string `json:"hop"`
	Step string `json:"step"`
	// Source is its path in the vendor's configuration repository; File its path in the bundle.
	Source string `json:"source"`
	File   string `json:"file"`
}

// Missing is something the bundle does not hold.
type Missing struct {
	What   string `json:"what"`
	Reason string `json:"reason"`
}

// ChartPath is where a chart is stored in a bundle.
func ChartPath(name, version string) string { return "charts/" + name + "-" + version + ".tgz" }

// ReleasePath is where a file of a release is stored in a bundle.
func ReleasePath(release, file string) string { return "releases/" + release + "/" + file }

// AdminPath is where a cluster-admin manifest of the hop into release is stored.
func AdminPath(release, source string) string { return "admin/" + release + "/" + path.Base(source) }

// Release returns the release named name (a tag or an alias), or false.
func (m *Manifest) Release(name string) (Release, bool) {
	for _, r := range m.Releases {
		if r.Release.Name == name || sameTag(r.Release.Name, name) {
			return r, true
		}
		for _, a := range r.Release.Aliases {
			if a == name {
				return r, true
			}
		}
	}
	return Release{}, false
}

func sameTag(a, b string) bool {
	ta, err1 := manifest.ParseTag(a)
	tb, err2 := manifest.ParseTag(b)
	return err1 == nil && err2 == nil && ta == tb
}

// Images returns every image of every release, sorted, once.
func (m *Manifest) Images() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range m.Releases {
		for _, i := range r.Images {
			if !seen[i] {
				seen[i] = true
				out = append(out, i)
			}
		}
	}
	sort.Strings(out)
	return out
}

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
	h := sha256.New()
	// Charts are gzip archives already: the fastest level costs little size.
	cw := &countWriter{w: io.MultiWriter(w, h)}
	gz, _ := gzip.NewWriterLevel(cw, gzip.BestSpeed)
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
	if err := writeEntry(tw, SumsFile, []byte(sums.String()), m.Created); err != nil {
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

// Bundle is a bundle read and verified.
type Bundle struct {
	// Path is the file it was read from; Digest its sha256; Size its size in bytes.
	Path     string
	Digest   string
	Size     int64
	Manifest Manifest
	files    map[string][]byte
	order    []string
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
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("reading the bundle: %w", err)
	}
	defer f.Close()
	return Read(p, f, progress)
}

// Read reads a bundle from r and verifies it: a valid gzip and tar stream to its end, safe file
// names, SHA256SUMS matching every file and listing all of them, bundle.json of this format whose
// charts and files are all there. name names the bundle in errors.
func Read(name string, r io.Reader, progress Progress) (*Bundle, error) {
	bad := func(format string, a ...any) error {
		return &Error{Path: name, Msg: fmt.Sprintf(format, a...)}
	}
	const recopy = "copy it again from the machine it was built on and compare its digest with the one printed there"
	h := sha256.New()
	cr := &countReader{r: io.TeeReader(r, h)}
	gz, err := gzip.NewReader(cr)
	if err != nil {
		return nil, bad("not a bundle, or truncated (%v): %s", err, recopy)
	}
	tr := tar.NewReader(gz)
	b := &Bundle{Path: name, files: map[string][]byte{}}
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
		if hdr.Size > maxEntry || len(b.order) >= maxEntries {
			return nil, bad("%s is too large, or too many files: not a bundle of this plugin", hdr.Name)
		}
		if _, dup := b.files[hdr.Name]; dup {
			return nil, bad("holds %s twice: it was modified", hdr.Name)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, bad("corrupt or truncated in %s (%v): %s", hdr.Name, err, recopy)
		}
		b.files[hdr.Name] = data
		b.order = append(b.order, hdr.Name)
		progress.say("  read %-55s %s", hdr.Name, Size(int64(len(data))))
	}
	// Drain the gzip trailer so that its checksum is verified.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return nil, bad("corrupt or truncated (%v): %s", err, recopy)
	}
	if err := gz.Close(); err != nil {
		return nil, bad("corrupt (%v): %s", err, recopy)
	}
	_, _ = io.Copy(io.Discard, cr)
	b.Size, b.Digest = cr.n, "sha256:"+hex.EncodeToString(h.Sum(nil))

	sums, ok := b.files[SumsFile]
	if !ok {
		return nil, bad("has no %s: not a bundle of this plugin, or truncated: %s", SumsFile, recopy)
	}
	listed := map[string]bool{}
	for i, line := range strings.Split(strings.TrimRight(string(sums), "\n"), "\n") {
		sum, file, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 {
			return nil, bad("%s line %d is not `<sha256>  <file>`: it was modified", SumsFile, i+1)
		}
		data, ok := b.files[file]
		if !ok {
			return nil, bad("lacks %s, which %s lists: it was modified or truncated: %s", file, SumsFile, recopy)
		}
		got := sha256.Sum256(data)
		if hex.EncodeToString(got[:]) != sum {
			return nil, bad("%s does not match its checksum: the bundle was modified or damaged in transit: %s", file, recopy)
		}
		listed[file] = true
	}
	for _, f := range b.order {
		if f != SumsFile && !listed[f] {
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

// ReleaseNames names the releases in path order.
func (m *Manifest) ReleaseNames() []string {
	var out []string
	for _, r := range m.Releases {
		out = append(out, r.Release.Name)
	}
	return out
}

// Lacks returns, for each release given, the charts of it the bundle does not hold ("chart
// version (release)"): what a path needs and the bundle cannot give.
func (b *Bundle) Lacks(releases ...manifest.Release) []string {
	have := map[string]bool{}
	for _, r := range b.Manifest.Releases {
		for _, c := range r.Charts {
			have[c.Name+" "+c.Version] = true
		}
	}
	var out []string
	for _, rel := range releases {
		for _, c := range rel.Charts() {
			if !have[c.Chart+" "+c.Version] {
				out = append(out, fmt.Sprintf("%s %s (%s)", c.Chart, c.Version, rel.Name))
			}
		}
	}
	return out
}

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

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Size formats a byte count as people read it (12.3 MiB).
func Size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// Request completes a release request with the bundle (file names it): the matrix learns the
// bundle's releases it does not know (a release the bundle's builder learned with a refresh), so
// that a site without access to the configuration repository can plan them, and the bundle's
// target is the default release.
func (m *Manifest) Request(req manifest.Request, file string) manifest.Request {
	for _, r := range m.Releases {
		req.Added = append(req.Added, r.Release)
	}
	req.AddedFrom = "bundle " + file
	req.Default = m.To
	return req
}
