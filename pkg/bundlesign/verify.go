package bundlesign

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
)

// Reason says why a bundle's signature is refused.
type Reason int

// Why a bundle's signature is refused.
const (
	// Unsigned: the bundle has no signature file.
	Unsigned Reason = iota
	// OtherKey: it is signed, with another key than the one given (its hint names another key).
	OtherKey
	// BadSignature: the signature does not verify with the key although it names it: the
	// signature file was modified.
	BadSignature
	// Changed: the signature verifies, but bundle.json or SHA256SUMS is not the one signed: the
	// bundle was changed after signing (a file replaced and SHA256SUMS rewritten).
	Changed
	// Malformed: the signature file is not a signature of this package.
	Malformed
)

// VerifyError is a bundle whose signature does not prove that the key's holder made it. Its
// message names the bundle, the key file and what is wrong.
type VerifyError struct {
	// Path is the bundle; KeyFile the public key.
	Path    string
	KeyFile string
	Reason  Reason
	// File is the signed file that differs (Changed); Detail more about a Malformed signature.
	File   string
	Detail string
}

// Error implements error.
func (e *VerifyError) Error() string {
	p := "bundle " + e.Path
	switch e.Reason {
	case Unsigned:
		return p + " is not signed (it has no " + bundle.SignatureFile + ")"
	case OtherKey:
		return p + " is signed with another key than " + e.KeyFile
	case BadSignature:
		return p + ": its signature does not verify with " + e.KeyFile + ": " + bundle.SignatureFile + " was modified"
	case Changed:
		return p + ": its " + e.File + " is not the one signed with " + e.KeyFile + ": the bundle was changed after it was signed (a file replaced and " + bundle.SumsFile + " rewritten)"
	}
	return p + ": its " + bundle.SignatureFile + " is not a signature of a release bundle (" + e.Detail + ")"
}

// Signed is a verified signature.
type Signed struct {
	// KeyFile is the public key it verifies with; Hint the key's hint.
	KeyFile string `json:"keyFile"`
	Hint    string `json:"keyHint"`
	// Subjects are the signed files (bundle.json, SHA256SUMS) and their digests.
	Subjects []Subject `json:"subjects"`
}

// Verify checks that the bundle b (read and verified against its SHA256SUMS by bundle.Read) is
// signed with key and that its bundle.json and SHA256SUMS are the ones signed: then every file it
// holds is the one its signer listed. It checks what sigstore-go's verifier checks of a Sigstore
// bundle signed with a key, with the public key as the only trusted material and no
// transparency log or timestamp required: the media type, the DSSE envelope's signature over its
// pre-authentication encoding, the in-toto statement and its subjects' digests. A failure is a
// *VerifyError.
func Verify(b *bundle.Bundle, key *PublicKey) (*Signed, error) {
	fail := func(r Reason, detail string) error {
		return &VerifyError{Path: b.Path, KeyFile: key.File, Reason: r, Detail: detail}
	}
	raw, ok := b.Signature()
	if !ok {
		return nil, fail(Unsigned, "")
	}
	var sb protobundle.Bundle
	if err := (protojson.UnmarshalOptions{}).Unmarshal(raw, &sb); err != nil {
		return nil, fail(Malformed, "it does not parse as a Sigstore bundle")
	}
	if sb.GetMediaType() != MediaType {
		return nil, fail(Malformed, fmt.Sprintf("media type %q, want %q", sb.GetMediaType(), MediaType))
	}
	env := sb.GetDsseEnvelope()
	if env == nil || len(env.GetSignatures()) == 0 {
		return nil, fail(Malformed, "it holds no signed envelope")
	}
	pk := sb.GetVerificationMaterial().GetPublicKey()
	if pk == nil {
		return nil, fail(Malformed, "it names no public key: a key-pair signature names its key by a hint")
	}
	if pk.GetHint() != "" && pk.GetHint() != key.hint {
		return nil, fail(OtherKey, "")
	}
	pae := dsse.PAE(env.GetPayloadType(), env.GetPayload())
	verified := false
	for _, s := range env.GetSignatures() {
		if key.verifier.VerifySignature(bytes.NewReader(s.GetSig()), bytes.NewReader(pae)) == nil {
			verified = true
			break
		}
	}
	if !verified {
		if pk.GetHint() == "" {
			return nil, fail(OtherKey, "")
		}
		return nil, fail(BadSignature, "")
	}
	if env.GetPayloadType() != PayloadType {
		return nil, fail(Malformed, fmt.Sprintf("payload type %q, want %q", env.GetPayloadType(), PayloadType))
	}
	var st statement
	if err := json.Unmarshal(env.GetPayload(), &st); err != nil {
		return nil, fail(Malformed, "its statement does not parse")
	}
	if st.Type != StatementType || st.PredicateType != PredicateType {
		return nil, fail(Malformed, fmt.Sprintf("a statement of type %q about %q, not a release bundle's manifest", st.Type, st.PredicateType))
	}
	mj, _ := b.File(bundle.ManifestFile)
	sums, _ := b.File(bundle.SumsFile)
	want := subjects(mj, sums)
	if len(st.Subject) != len(want) {
		return nil, fail(Malformed, fmt.Sprintf("%d signed files, want %s and %s", len(st.Subject), bundle.ManifestFile, bundle.SumsFile))
	}
	for i, w := range want {
		got := st.Subject[i]
		if got.Name != w.Name {
			return nil, fail(Malformed, fmt.Sprintf("it signs %q, want %s", got.Name, w.Name))
		}
		if got.Digest["sha256"] != w.Digest["sha256"] {
			return nil, &VerifyError{Path: b.Path, KeyFile: key.File, Reason: Changed, File: w.Name}
		}
	}
	return &Signed{KeyFile: key.File, Hint: key.hint, Subjects: want}, nil
}

// Open reads and verifies the bundle at path (bundle.Open), then its signature with key
// (Verify): what a command that takes a bundle and a public key calls before it uses the bundle.
func Open(path string, key *PublicKey, progress bundle.Progress) (*bundle.Bundle, *Signed, error) {
	b, err := bundle.Open(path, progress)
	if err != nil {
		return nil, nil, err
	}
	s, err := Verify(b, key)
	if err != nil {
		return nil, nil, err
	}
	return b, s, nil
}
