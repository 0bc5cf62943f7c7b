// Package bundlesign signs and verifies release bundles with a key pair, offline.
//
// A signature covers the bundle's manifest: one in-toto statement whose subjects are the sha256
// digests of bundle.json and SHA256SUMS (so, through SHA256SUMS, every file of the bundle), in a
// DSSE envelope signed with the private key, kept in the bundle as a Sigstore bundle
// (bundle.SignatureFile, media type application/vnd.dev.sigstore.bundle.v0.3+json, the public key
// named by its hint, no certificate, no transparency log entry, no timestamp). Nothing is sent or
// fetched: the trusted material of a verification is the public key alone.
//
// The key pair is cosign's: an ECDSA P-256 private key in PKCS #8, encrypted with a password by
// go-securesystemslib's encrypted package (scrypt, NaCl secretbox) in a PEM block "ENCRYPTED
// SIGSTORE PRIVATE KEY" ("ENCRYPTED COSIGN PRIVATE KEY" is read too), and its public key as a
// PKIX "PUBLIC KEY" PEM: the files of `cosign generate-key-pair` work, and the files
// GenerateKeyPair writes are read by cosign. This package imports no Helm package.
package bundlesign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// PEM block types of cosign's key files.
const (
	SigstorePrivateKeyPEM = "ENCRYPTED SIGSTORE PRIVATE KEY"
	CosignPrivateKeyPEM   = "ENCRYPTED COSIGN PRIVATE KEY"
	PublicKeyPEM          = "PUBLIC KEY"
)

// KeyReason says why a key file cannot be used.
type KeyReason int

// Why a key file cannot be used.
const (
	// KeyUnreadable: the file cannot be read (missing, permissions).
	KeyUnreadable KeyReason = iota
	// KeyNotPrivate: not a private key of cosign's format (a public key given for signing, or
	// another format).
	KeyNotPrivate
	// KeyNotPublic: not a PEM public key (a private key given for verifying, or another format).
	KeyNotPublic
	// KeyWrongPassword: the password does not decrypt the private key.
	KeyWrongPassword
	// KeyUnsupported: a key of a kind this package does not sign with.
	KeyUnsupported
	// KeyExists: a key file to write exists already.
	KeyExists
	// KeyUnwritable: a key file cannot be written.
	KeyUnwritable
)

// KeyError is a key file that cannot be used. Its message names the file, never the key's
// content or the password.
type KeyError struct {
	File   string
	Reason KeyReason
	Err    error
}

// Error implements error.
func (e *KeyError) Error() string {
	msg := map[KeyReason]string{
		KeyNotPrivate:    "is not a private key of cosign's format (a PEM block " + SigstorePrivateKeyPEM + ")",
		KeyNotPublic:     "is not a public key (a PEM block " + PublicKeyPEM + ")",
		KeyWrongPassword: "cannot be decrypted with this password",
		KeyUnsupported:   "holds a kind of key this plugin does not sign with",
		KeyExists:        "exists already",
		KeyUnreadable:    "cannot be read",
		KeyUnwritable:    "cannot be written",
	}[e.Reason]
	if msg == "" {
		msg = "cannot be used"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return "key file " + e.File + " " + msg
}

// Unwrap returns the cause.
func (e *KeyError) Unwrap() error { return e.Err }

// PublicKey is a public key a bundle's signature is verified with.
type PublicKey struct {
	// File is the file it was read from.
	File     string
	key      crypto.PublicKey
	verifier signature.Verifier
	hint     string
}

// Hint is the key's hint as the Sigstore bundle names it: the base64 of the sha256 of its DER.
func (k *PublicKey) Hint() string { return k.hint }

// Signer is a private key that signs bundles.
type Signer struct {
	// File is the file it was read from.
	File string
	sv   signature.SignerVerifier
	hint string
}

// Hint is the hint of the key's public key (PublicKey.Hint).
func (s *Signer) Hint() string { return s.hint }

// LoadPublicKey reads a PEM public key (cosign.pub).
func LoadPublicKey(file string) (*PublicKey, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &KeyError{File: file, Reason: KeyUnreadable, Err: pathCause(err)}
	}
	if b, _ := pem.Decode(data); b == nil || b.Type != PublicKeyPEM {
		return nil, &KeyError{File: file, Reason: KeyNotPublic}
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(data)
	if err != nil {
		return nil, &KeyError{File: file, Reason: KeyNotPublic, Err: err}
	}
	return newPublicKey(file, pub)
}

func newPublicKey(file string, pub crypto.PublicKey) (*PublicKey, error) {
	v, err := signature.LoadDefaultVerifier(pub)
	if err != nil {
		return nil, &KeyError{File: file, Reason: KeyUnsupported, Err: err}
	}
	hint, err := keyHint(pub)
	if err != nil {
		return nil, &KeyError{File: file, Reason: KeyUnsupported, Err: err}
	}
	return &PublicKey{File: file, key: pub, verifier: v, hint: hint}, nil
}

// Password returns the password of a private key file; it is asked only once the file is known
// to be an encrypted private key.
type Password func() ([]byte, error)

// StaticPassword is a Password that is pw.
func StaticPassword(pw []byte) Password { return func() ([]byte, error) { return pw, nil } }

// LoadSigner reads a private key of cosign's format from file and decrypts it with the password,
// the steps of cosign's LoadPrivateKey: the PEM block, go-securesystemslib's encrypted.Decrypt,
// a PKCS #8 key, sigstore's default signer of its kind (ECDSA P-256 with SHA-256 for cosign's
// keys). An empty password is a password (cosign's keys may have one). An error of password is
// returned as it is.
func LoadSigner(file string, password Password) (*Signer, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &KeyError{File: file, Reason: KeyUnreadable, Err: pathCause(err)}
	}
	b, _ := pem.Decode(data)
	if b == nil || (b.Type != SigstorePrivateKeyPEM && b.Type != CosignPrivateKeyPEM) {
		return nil, &KeyError{File: file, Reason: KeyNotPrivate}
	}
	pw, err := password()
	if err != nil {
		return nil, err
	}
	if pw == nil {
		pw = []byte{}
	}
	der, err := encrypted.Decrypt(b.Bytes, pw)
	if err != nil {
		return nil, &KeyError{File: file, Reason: KeyWrongPassword}
	}
	pk, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, &KeyError{File: file, Reason: KeyNotPrivate, Err: errors.New("its decrypted content is not a PKCS #8 key")}
	}
	sv, err := signature.LoadDefaultSignerVerifier(pk)
	if err != nil {
		return nil, &KeyError{File: file, Reason: KeyUnsupported, Err: err}
	}
	pub, err := sv.PublicKey()
	if err != nil {
		return nil, &KeyError{File: file, Reason: KeyUnsupported, Err: err}
	}
	hint, err := keyHint(pub)
	if err != nil {
		return nil, &KeyError{File: file, Reason: KeyUnsupported, Err: err}
	}
	return &Signer{File: file, sv: sv, hint: hint}, nil
}

// GenerateKeyPair makes a key pair as `cosign generate-key-pair` does: an ECDSA P-256 key, its
// PKCS #8 DER encrypted with password (encrypted.Encrypt) in a PEM block "ENCRYPTED SIGSTORE
// PRIVATE KEY", and the PEM of its public key.
func GenerateKeyPair(password []byte) (private, public []byte, err error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, err
	}
	if password == nil {
		password = []byte{}
	}
	enc, err := encrypted.Encrypt(der, password)
	if err != nil {
		return nil, nil, err
	}
	public, err = cryptoutils.MarshalPublicKeyToPEM(priv.Public())
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: SigstorePrivateKeyPEM, Bytes: enc}), public, nil
}

// KeyFiles are the two files of a key pair written by WriteKeyPair.
type KeyFiles struct {
	Private string `json:"privateKey"`
	Public  string `json:"publicKey"`
	// Hint is the public key's hint (PublicKey.Hint), as signatures name it.
	Hint string `json:"hint"`
}

// WriteKeyPair generates a key pair (GenerateKeyPair) and writes it to prefix.key (mode 0600)
// and prefix.pub (0644), cosign's names. Neither file may exist: a key is never overwritten.
func WriteKeyPair(prefix string, password []byte) (KeyFiles, error) {
	out := KeyFiles{Private: prefix + ".key", Public: prefix + ".pub"}
	for _, f := range []string{out.Private, out.Public} {
		if _, err := os.Lstat(f); err == nil {
			return KeyFiles{}, &KeyError{File: f, Reason: KeyExists}
		}
	}
	priv, pub, err := GenerateKeyPair(password)
	if err != nil {
		return KeyFiles{}, err
	}
	if err := writeNew(out.Private, priv, 0o600); err != nil {
		return KeyFiles{}, err
	}
	if err := writeNew(out.Public, pub, 0o644); err != nil {
		os.Remove(out.Private)
		return KeyFiles{}, err
	}
	k, err := LoadPublicKey(out.Public)
	if err != nil {
		return KeyFiles{}, err
	}
	out.Hint = k.Hint()
	return out, nil
}

// writeNew writes a file that must not exist (O_EXCL), with mode perm from its creation on.
func writeNew(file string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return &KeyError{File: file, Reason: KeyExists}
		}
		return &KeyError{File: file, Reason: KeyUnwritable, Err: pathCause(err)}
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(file)
		return &KeyError{File: file, Reason: KeyUnwritable, Err: pathCause(err)}
	}
	return nil
}

// keyHint is the Sigstore hint of a public key: base64 of the sha256 of its PKIX DER.
func keyHint(pub crypto.PublicKey) (string, error) {
	der, err := cryptoutils.MarshalPublicKeyToDER(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

// pathCause drops the file name from an os error (the KeyError names the file).
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
