package packaging

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// KrewInstall does with a local archive what `kubectl krew install --manifest=M --archive=A`
// does: it checks the archive's sha256 against the platform entry, unpacks it into a staging
// directory, applies the platform's files operations (default: everything to the installation
// directory), checks that bin is inside the installation directory and links
// <root>/bin/kubectl-<name> (with dashes of name turned into underscores) to it.
// root plays KREW_ROOT; the installation directory is <root>/store/<name>/<version>.
// It returns the path of the link, which is what a user's PATH would find.
func KrewInstall(root, name, version, archive string, pl KrewPlatform, windows bool) (string, error) {
	sum, err := fileSHA256(archive)
	if err != nil {
		return "", err
	}
	if sum != pl.Sha256 {
		return "", fmt.Errorf("archive %s has sha256 %s, the manifest says %s", archive, sum, pl.Sha256)
	}
	staging, err := os.MkdirTemp("", "krew-staging-")
	if err != nil {
		return "", fmt.Errorf("create staging directory: %w", err)
	}
	defer func() { _ = os.RemoveAll(staging) }()
	if err := Extract(archive, staging); err != nil {
		return "", err
	}
	installDir := filepath.Join(root, "store", name, version)
	if err := os.MkdirAll(installDir, 0o755); err != nil {
		return "", fmt.Errorf("create installation directory: %w", err)
	}
	files := pl.Files
	if files == nil {
		files = []KrewFileOperation{{From: "*", To: "."}}
	}
	for _, op := range files {
		if err := applyFileOperation(staging, installDir, op); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(installDir, filepath.FromSlash(pl.Bin))
	if !isSubPath(installDir, bin) {
		return "", fmt.Errorf("bin %q is outside the installation directory", pl.Bin)
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("bin %q was not installed from the archive: %w", pl.Bin, err)
	}
	binDir := filepath.Join(root, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", fmt.Errorf("create bin directory: %w", err)
	}
	link := filepath.Join(binDir, "kubectl-"+strings.ReplaceAll(name, "-", "_"))
	if windows {
		link += ".exe"
	}
	_ = os.Remove(link)
	if err := os.Symlink(bin, link); err != nil {
		return "", fmt.Errorf("link %s: %w", link, err)
	}
	return link, nil
}

// applyFileOperation moves From (a file, or a glob whose matches keep their base names) to To,
// relative to the staging and installation directories; neither side may leave its directory.
func applyFileOperation(fromDir, toDir string, op KrewFileOperation) error {
	if op.To != filepath.Clean(op.To) {
		return fmt.Errorf("files: to %q is not a clean path", op.To)
	}
	type move struct{ from, to string }
	var moves []move
	direct := filepath.Join(fromDir, filepath.FromSlash(op.From))
	if _, err := os.Stat(direct); err == nil {
		to := op.To
		if to == "." {
			to = filepath.Base(direct)
		}
		moves = append(moves, move{direct, filepath.Join(toDir, filepath.FromSlash(to))})
	} else {
		matches, err := filepath.Glob(direct)
		if err != nil {
			return fmt.Errorf("files: from %q: %w", op.From, err)
		}
		if len(matches) == 0 {
			return fmt.Errorf("files: no file of the archive matches from %q", op.From)
		}
		for _, m := range matches {
			moves = append(moves, move{m, filepath.Join(toDir, filepath.FromSlash(op.To), filepath.Base(m))})
		}
	}
	for _, m := range moves {
		if !isSubPath(fromDir, m.from) || !isSubPath(toDir, m.to) {
			return fmt.Errorf("files: %q -> %q leaves the archive or the installation directory", op.From, op.To)
		}
		if err := os.MkdirAll(filepath.Dir(m.to), 0o755); err != nil {
			return fmt.Errorf("files: %w", err)
		}
		if err := os.Rename(m.from, m.to); err != nil {
			return fmt.Errorf("files: move %s: %w", m.from, err)
		}
	}
	return nil
}

func isSubPath(base, p string) bool {
	rel, err := filepath.Rel(base, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func fileSHA256(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("open archive: %w", err)
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read archive %s: %w", file, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Extract unpacks a .tar.gz or .zip archive into dir, refusing entries that would land outside it.
func Extract(archive, dir string) error {
	switch {
	case strings.HasSuffix(archive, ".tar.gz"), strings.HasSuffix(archive, ".tgz"):
		return extractTarGz(archive, dir)
	case strings.HasSuffix(archive, ".zip"):
		return extractZip(archive, dir)
	default:
		return fmt.Errorf("archive %s: only .tar.gz and .zip are supported", archive)
	}
}

func safeJoin(dir, name string) (string, error) {
	p := filepath.Join(dir, filepath.FromSlash(name))
	if !isSubPath(dir, p) {
		return "", fmt.Errorf("archive entry %q leaves the extraction directory", name)
	}
	return p, nil
}

func writeFile(p string, mode os.FileMode, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func extractTarGz(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return fmt.Errorf("open archive: %w", err)
	}
	defer func() { _ = f.Close() }()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("archive %s: %w", archive, err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("archive %s: %w", archive, err)
		}
		p, err := safeJoin(dir, h.Name)
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := writeFile(p, os.FileMode(h.Mode)&0o777, tr); err != nil {
				return fmt.Errorf("archive %s: %s: %w", archive, h.Name, err)
			}
		default:
			return fmt.Errorf("archive %s: entry %s has unsupported type %c", archive, h.Name, h.Typeflag)
		}
	}
}

func extractZip(archive, dir string) error {
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return fmt.Errorf("archive %s: %w", archive, err)
	}
	defer func() { _ = zr.Close() }()
	for _, zf := range zr.File {
		p, err := safeJoin(dir, zf.Name)
		if err != nil {
			return err
		}
		if zf.FileInfo().IsDir() {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("archive %s: %s: %w", archive, zf.Name, err)
		}
		err = writeFile(p, zf.Mode()&0o777, rc)
		_ = rc.Close()
		if err != nil {
			return fmt.Errorf("archive %s: %s: %w", archive, zf.Name, err)
		}
	}
	return nil
}
