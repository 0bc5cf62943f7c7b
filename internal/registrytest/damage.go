package registrytest

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
)

// Damage copies the .tar.gz archive from into to, flipping one byte in the middle of the entry
// named entry (a blob of a bundle's image layout, as a disk or a copy would damage it), streamed.
func Damage(from, to, entry string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	gz, err := gzip.NewReader(in)
	if err != nil {
		return err
	}
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	defer out.Close()
	gw := gzip.NewWriter(out)
	tr, tw := tar.NewReader(gz), tar.NewWriter(gw)
	found := false
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if h.Name != entry || h.Size == 0 {
			if _, err := io.Copy(tw, tr); err != nil {
				return err
			}
			continue
		}
		found = true
		if _, err := io.CopyN(tw, tr, h.Size/2); err != nil {
			return err
		}
		var b [1]byte
		if _, err := io.ReadFull(tr, b[:]); err != nil {
			return err
		}
		b[0] ^= 0xff
		if _, err := tw.Write(b[:]); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("%s has no entry %s", from, entry)
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gw.Close(); err != nil {
		return err
	}
	return out.Close()
}
