// Package diff compares two rendered Helm manifests object by object, as `helm tpe upgrade
// --dry-run` shows them: a unified diff per changed object, with the secrets of the values masked
// by a redact.Redactor (the same stable tag on both sides, so a changed secret shows as a changed
// line) and the data of Secret objects never shown: each key says whether it was added, removed,
// changed or unchanged, and its size. ShowSecrets turns both off. It links no Helm.
package diff

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"sigs.k8s.io/yaml"

	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
)

// Options say how to show the objects.
type Options struct {
	// Redactor masks the secrets of the values in every object, header and line (nil: none).
	Redactor *redact.Redactor
	// ShowSecrets shows Secret data and the values' secrets as rendered (--show-secrets).
	ShowSecrets bool
	// Context is the number of unchanged lines around a change (2 when 0).
	Context int
}

// Change is one object that differs.
type Change struct {
	// Object is "Kind namespace/name" ("Kind name" without a namespace).
	Object string `json:"object"`
	// Action is added, removed or changed.
	Action string `json:"action"`
}

// Result is the difference between two manifests.
type Result struct {
	Added, Removed, Changed int
	Objects                 []Change
	// Text is a unified diff per changed object.
	Text string
}

// Actions of a Change, and states of a Secret key.
const (
	Added     = "added"
	Removed   = "removed"
	Changed   = "changed"
	Unchanged = "unchanged"
)

type object struct {
	kind string
	body string
}

// split cuts a Helm manifest into objects keyed by "Kind namespace/name".
func split(m string) map[string]object {
	out := map[string]object{}
	for _, doc := range strings.Split("\n"+m, "\n---") {
		body := stripComments(strings.Trim(doc, "\n"))
		if strings.TrimSpace(body) == "" {
			continue
		}
		var meta struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		_ = yaml.Unmarshal([]byte(body), &meta)
		key := fmt.Sprintf("%s %s", meta.Kind, meta.Metadata.Name)
		if meta.Metadata.Namespace != "" {
			key = fmt.Sprintf("%s %s/%s", meta.Kind, meta.Metadata.Namespace, meta.Metadata.Name)
		}
		out[key] = object{kind: meta.Kind, body: body}
	}
	return out
}

func stripComments(doc string) string {
	var keep []string
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "# Source:") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// Manifests compares two manifests object by object (old is "" for a fresh install).
func Manifests(oldM, newM string, o Options) Result {
	a, b := split(oldM), split(newM)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	ctx := o.Context
	if ctx == 0 {
		ctx = 2
	}
	red := o.Redactor
	if o.ShowSecrets {
		red = nil
	}
	d := Result{Objects: []Change{}}
	var sb strings.Builder
	for _, k := range sorted {
		oa, inA := a[k]
		ob, inB := b[k]
		ta, tb := oa.body, ob.body
		if !o.ShowSecrets && (oa.kind == "Secret" || ob.kind == "Secret") {
			ta, tb = HideSecretData(ta, tb)
		}
		ta, tb = red.String(ta), red.String(tb)
		action := Changed
		switch {
		case inA && !inB:
			action = Removed
			d.Removed++
		case !inA && inB:
			action = Added
			d.Added++
		case ta == tb:
			continue
		default:
			d.Changed++
		}
		name := red.String(k)
		d.Objects = append(d.Objects, Change{Object: name, Action: action})
		ud := difflib.UnifiedDiff{A: difflib.SplitLines(ensureNL(ta)), B: difflib.SplitLines(ensureNL(tb)),
			FromFile: name + " (installed)", ToFile: name + " (new)", Context: ctx}
		if !inA {
			ud.A = nil
		}
		if !inB {
			ud.B = nil
		}
		text, _ := difflib.GetUnifiedDiffString(ud)
		sb.WriteString(text)
	}
	d.Text = sb.String()
	return d
}

// HideSecretData returns the two versions of a Secret object ("" when absent) with the value of
// every data and stringData key replaced by whether it was added, removed, changed or unchanged
// between them, and its size: "REDACTED # changed (24 bytes, was 20)". data is compared decoded,
// so moving a key between data and stringData is no change. A Secret that does not parse is
// shown as a comment line only; annotations that could repeat the data
// (kubectl.kubernetes.io/last-applied-configuration) are hidden too.
func HideSecretData(oldBody, newBody string) (string, string) {
	oa, okA := parseSecret(oldBody)
	ob, okB := parseSecret(newBody)
	va, vb := secretValues(oa), secretValues(ob)
	render := func(obj map[string]any, ok bool, body string, mine, other map[string]string, isNew bool) string {
		if body == "" {
			return ""
		}
		if !ok {
			return "# Secret (content hidden: it does not parse)"
		}
		for _, field := range []string{"data", "stringData"} {
			m, _ := obj[field].(map[string]any)
			for key := range m {
				m[key] = marker(key, mine, other, isNew)
			}
		}
		if md, _ := obj["metadata"].(map[string]any); md != nil {
			if an, _ := md["annotations"].(map[string]any); an != nil {
				if _, has := an["kubectl.kubernetes.io/last-applied-configuration"]; has {
					an["kubectl.kubernetes.io/last-applied-configuration"] = "REDACTED"
				}
			}
		}
		out, err := yaml.Marshal(obj)
		if err != nil {
			return "# Secret (content hidden)"
		}
		return string(out)
	}
	return render(oa, okA, oldBody, va, vb, false), render(ob, okB, newBody, vb, va, true)
}

func marker(key string, mine, other map[string]string, isNew bool) string {
	v := mine[key]
	w, inOther := other[key]
	switch {
	case !inOther && isNew:
		return fmt.Sprintf("REDACTED # %s (%d bytes)", Added, len(v))
	case !inOther:
		return fmt.Sprintf("REDACTED # %s (%d bytes)", Removed, len(v))
	case v == w:
		return fmt.Sprintf("REDACTED # %s (%d bytes)", Unchanged, len(v))
	case isNew:
		return fmt.Sprintf("REDACTED # %s (%d bytes, was %d)", Changed, len(v), len(w))
	default:
		return fmt.Sprintf("REDACTED # %s (%d bytes, now %d)", Changed, len(v), len(w))
	}
}

func parseSecret(body string) (map[string]any, bool) {
	if body == "" {
		return nil, false
	}
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(body), &obj); err != nil || obj == nil {
		return nil, false
	}
	return obj, true
}

// secretValues returns the decoded data overlaid with stringData, as the API server stores it.
func secretValues(obj map[string]any) map[string]string {
	out := map[string]string{}
	if m, ok := obj["data"].(map[string]any); ok {
		for k, v := range m {
			s := str(v)
			if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s)); err == nil {
				s = string(b)
			}
			out[k] = s
		}
	}
	if m, ok := obj["stringData"].(map[string]any); ok {
		for k, v := range m {
			out[k] = str(v)
		}
	}
	return out
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func ensureNL(s string) string {
	if s == "" || strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}
