package bundle

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSign is a Signer that records what it signed.
func fakeSign(got *[2][]byte) Signer {
	return func(manifest, sums []byte) ([]byte, error) {
		got[0], got[1] = manifest, sums
		return []byte("signature of " + string(sums[:8])), nil
	}
}

func TestWriteSignedAndSignFile(t *testing.T) {
	m, files := sample(t)
	var signed [2][]byte
	var buf bytes.Buffer
	w, err := WriteSigned(&buf, m, files, nil, nil, fakeSign(&signed))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Read("s.tar.gz", bytes.NewReader(buf.Bytes()), nil)
	if err != nil {
		t.Fatalf("a signed bundle does not read: %v", err)
	}
	if b.Digest != w.Digest {
		t.Errorf("digest %s, Write said %s", b.Digest, w.Digest)
	}
	mj, _ := b.File(ManifestFile)
	sums, _ := b.File(SumsFile)
	if !bytes.Equal(signed[0], mj) || !bytes.Equal(signed[1], sums) {
		t.Error("the signer was not given the bundle's bundle.json and SHA256SUMS")
	}
	if sig, ok := b.Signature(); !ok || !strings.HasPrefix(string(sig), "signature of ") || strings.Contains(string(sums), SignatureFile) {
		t.Errorf("signature %q %v; SHA256SUMS:\n%s", sig, ok, sums)
	}
	// Only the signature may be missing from SHA256SUMS.
	if _, err := Read("x", bytes.NewReader(rewrite(t, buf.Bytes(), func(_ string, d []byte) []byte { return d },
		File{Path: "charts/evil.tgz", Data: []byte("x")})), nil); err == nil || !strings.Contains(err.Error(), "does not list") {
		t.Errorf("an extra file next to a signature: %v", err)
	}
	// No content file may take the signature's name.
	if _, err := Write(io.Discard, m, append(files, File{Path: SignatureFile, Data: []byte("{}")}), nil, nil); err == nil {
		t.Error("Write accepts a content file named as the signature")
	}
	// A signer's error is Write's.
	boom := errors.New("boom")
	if _, err := WriteSigned(io.Discard, m, files, nil, nil, func(_, _ []byte) ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("signer error: %v", err)
	}

	// SignFile: an unsigned bundle gets the signature, its files unchanged; signing again
	// replaces it.
	dir := t.TempDir()
	p := filepath.Join(dir, "u.tar.gz")
	unsigned, _ := write(t, m, files)
	if err := os.WriteFile(p, unsigned, 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		w, err := SignFile(p, fakeSign(&signed), nil)
		if err != nil {
			t.Fatal(err)
		}
		b2, err := Open(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		if b2.Digest != w.Digest {
			t.Errorf("SignFile says %s, the file is %s", w.Digest, b2.Digest)
		}
		fs := b2.Files()
		if len(fs) != len(b.Files()) || fs[len(fs)-1].Path != SignatureFile {
			t.Errorf("signing %d: files %v", i+1, fs)
		}
		for _, e := range b.Files() {
			x, _ := b.File(e.Path)
			y, _ := b2.File(e.Path)
			if !bytes.Equal(x, y) {
				t.Errorf("signing %d changed %s", i+1, e.Path)
			}
		}
	}
	// A damaged bundle is not signed, and stays as it was.
	bad := append([]byte(nil), unsigned...)
	bad[len(bad)/2] ^= 0x20
	if err := os.WriteFile(p, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	var be *Error
	if _, err := SignFile(p, fakeSign(&signed), nil); !errors.As(err, &be) {
		t.Errorf("SignFile of a damaged bundle: %v", err)
	}
	if now, _ := os.ReadFile(p); !bytes.Equal(now, bad) {
		t.Error("SignFile changed a bundle it refused")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".tpe-bundle-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
