package bundlesign

import (
	"bytes"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/thingpark-tools/kubectl-tpe/internal/bundletest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

const password = "correct horse battery staple"

// keys writes a key pair named name in dir and returns the signer and the public key.
func keys(t *testing.T, dir, name string) (*Signer, *PublicKey) {
	t.Helper()
	kf, err := WriteKeyPair(filepath.Join(dir, name), []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadSigner(kf.Private, StaticPassword([]byte(password)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadPublicKey(kf.Public)
	if err != nil {
		t.Fatal(err)
	}
	if s.Hint() != p.Hint() || kf.Hint != p.Hint() {
		t.Fatalf("hints differ: signer %s, public %s, written %s", s.Hint(), p.Hint(), kf.Hint)
	}
	return s, p
}

// sample is a small bundle's content: one release, its four charts.
func sample(t *testing.T) (*bundle.Manifest, []bundle.File) {
	t.Helper()
	rel, ok := manifest.MustLoad().Get("v7.3.1")
	if !ok {
		t.Fatal("no v7.3.1 in the matrix")
	}
	br := bundle.Release{Release: rel, Versions: bundle.ReleasePath(rel.Name, "VERSIONS")}
	files := []bundle.File{{Path: br.Versions, Data: []byte(manifest.FormatVersions(rel))}}
	for _, c := range rel.Charts() {
		p := bundle.ChartPath(c.Chart, c.Version)
		br.Charts = append(br.Charts, bundle.Chart{Name: c.Chart, Version: c.Version, File: p, Size: 5})
		files = append(files, bundle.File{Path: p, Data: []byte("chart " + c.Chart)})
	}
	return &bundle.Manifest{Created: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), CreatedBy: "test",
		ChartRepository: "https://charts.example", To: rel.Name, Releases: []bundle.Release{br}}, files
}

// writeBundle writes the sample bundle to dir/name, signed by s (nil: unsigned).
func writeBundle(t *testing.T, dir, name string, s *Signer) string {
	t.Helper()
	m, files := sample(t)
	p := filepath.Join(dir, name)
	var sign bundle.Signer
	if s != nil {
		sign = s.Sign
	}
	err := bundle.WriteFile(p, func(w io.Writer) error {
		_, err := bundle.WriteSigned(w, m, files, nil, nil, sign)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// entries reads the files of a bundle file in order.
func entries(t *testing.T, p string) ([]string, map[string][]byte) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return bundletest.Files(t, data)
}

// rewrite writes the bundle p again with change applied to every file's content and, when
// resum is set, SHA256SUMS computed again (bundletest.Resum).
func rewrite(t *testing.T, p string, resum bool, change func(name string, data []byte) []byte) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, bundletest.Resum(t, data, resum, change), 0o644); err != nil {
		t.Fatal(err)
	}
}

func reason(t *testing.T, err error) Reason {
	t.Helper()
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a *VerifyError", err)
	}
	return ve.Reason
}

func TestSignVerifyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, pub := keys(t, dir, "builder")
	signed := writeBundle(t, dir, "signed.tar.gz", s)
	unsigned := writeBundle(t, dir, "unsigned.tar.gz", nil)

	b, sig, err := Open(signed, pub, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sig.KeyFile != pub.File || len(sig.Subjects) != 2 || sig.Subjects[0].Name != bundle.ManifestFile || sig.Subjects[1].Name != bundle.SumsFile {
		t.Errorf("signed = %+v", sig)
	}
	// Signing changes neither bundle.json nor SHA256SUMS, and the signature is the last file.
	so, sd := entries(t, signed)
	uo, ud := entries(t, unsigned)
	if len(so) != len(uo)+1 || so[len(so)-1] != bundle.SignatureFile {
		t.Fatalf("signed files %v, unsigned %v: want the same and %s last", so, uo, bundle.SignatureFile)
	}
	for _, n := range uo {
		if !bytes.Equal(sd[n], ud[n]) {
			t.Errorf("%s differs between the signed and the unsigned bundle", n)
		}
	}
	// The signature file is a Sigstore bundle v0.3 naming the key by its hint, with a DSSE
	// envelope of an in-toto statement and no transparency log entry.
	var sb protobundle.Bundle
	if err := protojson.Unmarshal(sd[bundle.SignatureFile], &sb); err != nil {
		t.Fatal(err)
	}
	if sb.GetMediaType() != MediaType || sb.GetVerificationMaterial().GetPublicKey().GetHint() != pub.Hint() ||
		len(sb.GetVerificationMaterial().GetTlogEntries()) != 0 || sb.GetDsseEnvelope().GetPayloadType() != PayloadType {
		t.Errorf("signature file = %s", sd[bundle.SignatureFile])
	}
	if f := b.Files(); f[len(f)-1].Path != bundle.SignatureFile {
		t.Errorf("files = %v", f)
	}

	// bundle sign: an unsigned bundle signed afterwards verifies, its files unchanged.
	w, err := SignFile(unsigned, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	b2, _, err := Open(unsigned, pub, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b2.Digest != w.Digest || b2.Size != w.Size {
		t.Errorf("SignFile says %s %d, the file is %s %d", w.Digest, w.Size, b2.Digest, b2.Size)
	}
	ro, rd := entries(t, unsigned)
	if strings.Join(ro, ",") != strings.Join(so, ",") {
		t.Errorf("signed afterwards: %v, want %v", ro, so)
	}
	for _, n := range uo {
		if !bytes.Equal(rd[n], ud[n]) {
			t.Errorf("%s changed when the bundle was signed", n)
		}
	}
	if fi, _ := os.Stat(unsigned); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v after signing", fi.Mode())
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".tpe-bundle-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// Signing again with another key replaces the signature: one signature, the new key's.
	other, otherPub := keys(t, dir, "other")
	if _, err := SignFile(unsigned, other, nil); err != nil {
		t.Fatal(err)
	}
	if o, _ := entries(t, unsigned); len(o) != len(so) {
		t.Errorf("re-signed: %v", o)
	}
	if _, _, err := Open(unsigned, otherPub, nil); err != nil {
		t.Error(err)
	}
	if _, _, err := Open(unsigned, pub, nil); reason(t, err) != OtherKey {
		t.Errorf("old key after re-signing: %v", err)
	}
}

func TestVerifyRefuses(t *testing.T) {
	dir := t.TempDir()
	s, pub := keys(t, dir, "builder")
	_, otherPub := keys(t, dir, "other")

	t.Run("unsigned", func(t *testing.T) {
		p := writeBundle(t, dir, "unsigned.tar.gz", nil)
		_, _, err := Open(p, pub, nil)
		if reason(t, err) != Unsigned || !strings.Contains(err.Error(), p) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("another key", func(t *testing.T) {
		p := writeBundle(t, dir, "other.tar.gz", s)
		_, _, err := Open(p, otherPub, nil)
		if reason(t, err) != OtherKey || !strings.Contains(err.Error(), otherPub.File) || !strings.Contains(err.Error(), p) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("chart swapped and SHA256SUMS re-summed", func(t *testing.T) {
		p := writeBundle(t, dir, "swapped.tar.gz", s)
		rewrite(t, p, true, func(n string, d []byte) []byte {
			if strings.HasPrefix(n, "charts/") {
				return []byte("a chart of someone else")
			}
			return d
		})
		// Accepted on its checksums alone ...
		b, err := bundle.Open(p, nil)
		if err != nil {
			t.Fatalf("without a key the re-summed bundle is accepted; err = %v", err)
		}
		// ... refused with the key.
		_, err = Verify(b, pub)
		var ve *VerifyError
		if reason(t, err) != Changed || !errors.As(err, &ve) || ve.File != bundle.SumsFile {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("bundle.json changed and re-summed", func(t *testing.T) {
		p := writeBundle(t, dir, "manifest.tar.gz", s)
		rewrite(t, p, true, func(n string, d []byte) []byte {
			if n == bundle.ManifestFile {
				return bytes.Replace(d, []byte(`"createdBy": "test"`), []byte(`"createdBy": "mallory"`), 1)
			}
			return d
		})
		_, _, err := Open(p, pub, nil)
		var ve *VerifyError
		if reason(t, err) != Changed || !errors.As(err, &ve) || ve.File != bundle.ManifestFile {
			t.Errorf("err = %v", err)
		}
	})
	tamper := func(name string, change func(sb map[string]any)) string {
		p := writeBundle(t, dir, name, s)
		rewrite(t, p, false, func(n string, d []byte) []byte {
			if n != bundle.SignatureFile {
				return d
			}
			var sb map[string]any
			if err := json.Unmarshal(d, &sb); err != nil {
				t.Fatal(err)
			}
			change(sb)
			out, _ := json.Marshal(sb)
			return out
		})
		return p
	}
	env := func(sb map[string]any) map[string]any { return sb["dsseEnvelope"].(map[string]any) }
	t.Run("signature bytes changed", func(t *testing.T) {
		p := tamper("sig.tar.gz", func(sb map[string]any) {
			sigs := env(sb)["signatures"].([]any)
			sig := sigs[0].(map[string]any)
			raw, err := base64.StdEncoding.DecodeString(sig["sig"].(string))
			if err != nil {
				t.Fatal(err)
			}
			raw[len(raw)-3] ^= 1
			sig["sig"] = base64.StdEncoding.EncodeToString(raw)
		})
		if _, _, err := Open(p, pub, nil); reason(t, err) != BadSignature {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("statement changed", func(t *testing.T) {
		// A statement naming the digests of another SHA256SUMS, under the original signature.
		p := tamper("payload.tar.gz", func(sb map[string]any) {
			e := env(sb)
			var st statement
			raw, err := base64.StdEncoding.DecodeString(e["payload"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &st); err != nil {
				t.Fatal(err)
			}
			st.Subject[1].Digest["sha256"] = strings.Repeat("0", 64)
			out, _ := json.Marshal(st)
			e["payload"] = base64.StdEncoding.EncodeToString(out)
		})
		if _, _, err := Open(p, pub, nil); reason(t, err) != BadSignature {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("hint of another key", func(t *testing.T) {
		p := tamper("hint.tar.gz", func(sb map[string]any) {
			sb["verificationMaterial"].(map[string]any)["publicKey"] = map[string]any{"hint": otherPub.Hint()}
		})
		if _, _, err := Open(p, pub, nil); reason(t, err) != OtherKey {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("not a signature", func(t *testing.T) {
		p := writeBundle(t, dir, "garbage.tar.gz", s)
		rewrite(t, p, false, func(n string, d []byte) []byte {
			if n == bundle.SignatureFile {
				return []byte("not json")
			}
			return d
		})
		_, _, err := Open(p, pub, nil)
		if reason(t, err) != Malformed || !strings.Contains(err.Error(), bundle.SignatureFile) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestKeys(t *testing.T) {
	dir := t.TempDir()
	kf, err := WriteKeyPair(filepath.Join(dir, "k"), []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(kf.Private); fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := WriteKeyPair(filepath.Join(dir, "k"), []byte(password)); !isKeyErr(err, KeyExists, kf.Private) {
		t.Errorf("second WriteKeyPair: %v, want the key file exists", err)
	}
	_, err = LoadSigner(kf.Private, StaticPassword([]byte("wrong")))
	if !isKeyErr(err, KeyWrongPassword, kf.Private) {
		t.Errorf("wrong password: %v", err)
	}
	if strings.Contains(fmt.Sprint(err), password) {
		t.Errorf("the error shows the password: %v", err)
	}
	if _, err := LoadSigner(kf.Public, StaticPassword([]byte(password))); !isKeyErr(err, KeyNotPrivate, kf.Public) {
		t.Errorf("public key given to sign: %v", err)
	}
	if _, err := LoadPublicKey(kf.Private); !isKeyErr(err, KeyNotPublic, kf.Private) {
		t.Errorf("private key given to verify: %v", err)
	}
	if _, err := LoadPublicKey(filepath.Join(dir, "none.pub")); !isKeyErr(err, KeyUnreadable, filepath.Join(dir, "none.pub")) {
		t.Errorf("missing key: %v", err)
	}
	priv, _ := os.ReadFile(kf.Private)
	if _, err := LoadSigner(kf.Private, StaticPassword([]byte(password))); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fmt.Sprint(&KeyError{File: kf.Private, Reason: KeyNotPrivate}), string(priv[40:80])) {
		t.Error("a key error shows the key")
	}
}

func isKeyErr(err error, r KeyReason, file string) bool {
	var ke *KeyError
	return errors.As(err, &ke) && ke.Reason == r && ke.File == file && strings.Contains(err.Error(), file)
}

// cosignLoadPrivateKey is cosign v2's pkg/cosign.LoadPrivateKey, step by step with the same
// library calls (cosign itself is not a dependency: its module would upgrade others of ours).
func cosignLoadPrivateKey(key, pass []byte) (signature.SignerVerifier, error) {
	p, _ := pem.Decode(key)
	if p == nil {
		return nil, errors.New("invalid pem block")
	}
	if p.Type != "ENCRYPTED COSIGN PRIVATE KEY" && p.Type != "ENCRYPTED SIGSTORE PRIVATE KEY" {
		return nil, fmt.Errorf("unsupported pem type: %s", p.Type)
	}
	x509Encoded, err := encrypted.Decrypt(p.Bytes, pass)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	pk, err := x509.ParsePKCS8PrivateKey(x509Encoded)
	if err != nil {
		return nil, fmt.Errorf("parsing private key: %w", err)
	}
	return signature.LoadDefaultSignerVerifier(pk)
}

// cosignGenerateKeyPair is cosign v2's GenerateKeyPair (marshalKeyPair) with pemType, step by
// step.
func cosignGenerateKeyPair(t *testing.T, pemType string, pass []byte) (priv, pub []byte) {
	t.Helper()
	privPEM, pubPEM, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), cryptoutils.SkipPassword)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := cryptoutils.UnmarshalPEMToPrivateKey(privPEM, cryptoutils.SkipPassword)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(pk)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := encrypted.Encrypt(der, pass)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: enc}), pubPEM
}

func TestCosignKeys(t *testing.T) {
	dir := t.TempDir()
	// Our key pair, read as cosign reads it: the signer cosign gets signs what our public key
	// verifies, and sigstore's own PEM reader reads it too.
	kf, err := WriteKeyPair(filepath.Join(dir, "ours"), []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := os.ReadFile(kf.Private)
	if b, _ := pem.Decode(priv); b == nil || b.Type != SigstorePrivateKeyPEM {
		t.Fatalf("private key PEM type: %v", b)
	}
	sv, err := cosignLoadPrivateKey(priv, []byte(password))
	if err != nil {
		t.Fatalf("cosign's LoadPrivateKey steps refuse our key: %v", err)
	}
	msg := []byte("a blob")
	sig, err := sv.SignMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublicKey(kf.Public)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.verifier.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)); err != nil {
		t.Errorf("a signature made with cosign's load of our key does not verify with our public key: %v", err)
	}
	if _, err := cryptoutils.UnmarshalPEMToPrivateKey(priv, cryptoutils.StaticPasswordFunc([]byte(password))); err != nil {
		t.Errorf("sigstore's cryptoutils refuses our key: %v", err)
	}
	if _, err := cosignLoadPrivateKey(priv, []byte("wrong")); err == nil {
		t.Error("cosign's steps accept a wrong password")
	}

	// cosign's key pairs, current and legacy PEM type, with and without a password, sign bundles
	// that verify with their public key.
	for _, c := range []struct{ pemType, pass string }{
		{SigstorePrivateKeyPEM, password}, {CosignPrivateKeyPEM, password}, {SigstorePrivateKeyPEM, ""},
	} {
		privPEM, pubPEM := cosignGenerateKeyPair(t, c.pemType, []byte(c.pass))
		name := strings.ReplaceAll(c.pemType, " ", "-") + fmt.Sprint(len(c.pass))
		kp, pp := filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
		if err := os.WriteFile(kp, privPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pp, pubPEM, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := LoadSigner(kp, StaticPassword([]byte(c.pass)))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		k, err := LoadPublicKey(pp)
		if err != nil {
			t.Fatal(err)
		}
		p := writeBundle(t, dir, name+".tar.gz", s)
		if _, _, err := Open(p, k, nil); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
