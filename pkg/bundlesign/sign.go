package bundlesign

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
)

// What a signature is made of.
const (
	// MediaType is the Sigstore bundle format of the signature file.
	MediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// PayloadType is the DSSE payload type of the statement.
	PayloadType = "application/vnd.in-toto+json"
	// StatementType is the in-toto statement version.
	StatementType = "https://in-toto.io/Statement/v1"
	// PredicateType says what the statement states: this is the manifest of a release bundle
	// built by this plugin (its subjects are bundle.json and SHA256SUMS).
	PredicateType = "https://github.com/thingpark-tools/kubectl-tpe/release-bundle-manifest/v1"
)

// statement is the in-toto statement a bundle's signature covers.
type statement struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     predicate `json:"predicate"`
}

// Subject is a signed file of the bundle and its digest.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

type predicate struct {
	// Format is the bundle format (bundle.Format).
	Format string `json:"format"`
}

// subjects are the signed files of a bundle: bundle.json and SHA256SUMS, with their sha256.
func subjects(manifest, sums []byte) []Subject {
	return []Subject{subject(bundle.ManifestFile, manifest), subject(bundle.SumsFile, sums)}
}

func subject(name string, data []byte) Subject {
	sum := sha256.Sum256(data)
	return Subject{Name: name, Digest: map[string]string{"sha256": hex.EncodeToString(sum[:])}}
}

// Sign returns the signature file (bundle.SignatureFile) of a bundle whose bundle.json and
// SHA256SUMS are manifest and sums: the statement of their digests in a DSSE envelope signed
// with the key, in a Sigstore bundle that names the public key by its hint. It is a bundle.Signer.
func (s *Signer) Sign(manifest, sums []byte) ([]byte, error) {
	payload, err := json.Marshal(statement{Type: StatementType, Subject: subjects(manifest, sums),
		PredicateType: PredicateType, Predicate: predicate{Format: bundle.Format}})
	if err != nil {
		return nil, err
	}
	sig, err := s.sv.SignMessage(bytes.NewReader(dsse.PAE(PayloadType, payload)))
	if err != nil {
		return nil, fmt.Errorf("signing with the key file %s: %w", s.File, err)
	}
	sb := &protobundle.Bundle{
		MediaType: MediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: s.hint}},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: payload, PayloadType: PayloadType, Signatures: []*protodsse.Signature{{Sig: sig}},
		}},
	}
	out, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(sb)
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// SignFunc is s.Sign as a bundle.Signer, nil when s is nil (an unsigned bundle).
func (s *Signer) SignFunc() bundle.Signer {
	if s == nil {
		return nil
	}
	return s.Sign
}

// SignFile signs the bundle at path with s (bundle.SignFile): it is verified, then rewritten
// with the signature through a temporary file, a signature it had replaced. It returns the new
// digest and size of the file.
func SignFile(path string, s *Signer, progress bundle.Progress) (bundle.Written, error) {
	return bundle.SignFile(path, s.Sign, progress)
}
