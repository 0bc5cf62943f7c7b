// Package adminstep judges and does the cluster-admin steps of a hop (manifest.AdminSteps): the
// operators' CRDs (compared with the vendor's CRD manifest of each version: served versions,
// storage version and a digest of each version's schema), the namespaced Percona RBAC, and the
// PriorityClasses and StorageClasses the values name. The manifests come from the vendor's
// configuration repository at the release's ref or from a release bundle (Source). pkg/plan uses
// the judgement; `kubectl tpe prereqs apply --to` the apply engine. It imports no Helm package.
package adminstep

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// HintAnnotation is the annotation controller-gen sets on the CRDs it generates: a hint of the
// operator's build, never the proof of a version (several versions share one).
const HintAnnotation = "controller-gen.kubebuilder.io/version"

// CRD is what identifies the version of a CRD: its served versions, its storage version and a
// digest of each version's openAPIV3Schema (canonical JSON, SHA-256).
type CRD struct {
	Name    string            `json:"name"`
	Served  []string          `json:"served"`
	Storage string            `json:"storage"`
	Schemas map[string]string `json:"schemas"`
	// Hint is the controller-gen annotation ("" when absent).
	Hint string `json:"hint,omitempty"`
	// Established is the live CRD's condition (always false for a manifest).
	Established bool `json:"established,omitempty"`
}

// Same reports whether c and o are the same version of the CRD (the hint and the conditions do
// not count).
func (c CRD) Same(o CRD) bool {
	if c.Name != o.Name || c.Storage != o.Storage || !slices.Equal(c.Served, o.Served) || len(c.Schemas) != len(o.Schemas) {
		return false
	}
	for k, v := range c.Schemas {
		if o.Schemas[k] != v {
			return false
		}
	}
	return true
}

// FromCRD computes the identity of a typed CRD.
func FromCRD(crd *apiextensionsv1.CustomResourceDefinition) (CRD, error) {
	c := CRD{Name: crd.Name, Schemas: map[string]string{}, Hint: crd.Annotations[HintAnnotation]}
	for _, v := range crd.Spec.Versions {
		if v.Served {
			c.Served = append(c.Served, v.Name)
		}
		if v.Storage {
			c.Storage = v.Name
		}
		var schema any
		if v.Schema != nil {
			schema = v.Schema.OpenAPIV3Schema
		}
		// encoding/json writes struct fields in a fixed order and map keys sorted: canonical.
		b, err := json.Marshal(schema)
		if err != nil {
			return c, fmt.Errorf("CRD %s version %s: %w", crd.Name, v.Name, err)
		}
		sum := sha256.Sum256(b)
		c.Schemas[v.Name] = hex.EncodeToString(sum[:])
	}
	sort.Strings(c.Served)
	for _, cond := range crd.Status.Conditions {
		if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
			c.Established = true
		}
	}
	return c, nil
}

// FromUnstructured computes the identity of a CRD read with a dynamic client.
func FromUnstructured(obj map[string]any) (CRD, error) {
	var crd apiextensionsv1.CustomResourceDefinition
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &crd); err != nil {
		return CRD{}, fmt.Errorf("reading a CRD: %w", err)
	}
	return FromCRD(&crd)
}

// Doc is one document of a multi-document manifest.
type Doc struct {
	Kind, Name string
	// Object is the document as a map (server-side apply sends it as JSON).
	Object map[string]any
}

// SplitYAML cuts a multi-document YAML manifest into its documents (empty ones are skipped).
func SplitYAML(name string, data []byte) ([]Doc, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []Doc
	for {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		var obj map[string]any
		if err := yaml.Unmarshal(raw, &obj); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(obj) == 0 {
			continue
		}
		kind, _ := obj["kind"].(string)
		md, _ := obj["metadata"].(map[string]any)
		n, _ := md["name"].(string)
		if kind == "" || n == "" {
			return nil, fmt.Errorf("%s: a document has no kind or metadata.name", name)
		}
		out = append(out, Doc{Kind: kind, Name: n, Object: obj})
	}
}

// ParseCRDs reads the CRDs of a vendor CRD manifest (multi-document YAML).
func ParseCRDs(name string, data []byte) ([]CRD, error) {
	docs, err := SplitYAML(name, data)
	if err != nil {
		return nil, err
	}
	var out []CRD
	for _, d := range docs {
		if d.Kind != "CustomResourceDefinition" {
			continue
		}
		c, err := FromUnstructured(d.Object)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no CustomResourceDefinition in the manifest", name)
	}
	return out, nil
}
