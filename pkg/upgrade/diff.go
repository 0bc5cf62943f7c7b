package upgrade

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"sigs.k8s.io/yaml"
)

// ManifestDiff is the difference between two rendered manifests, object by object.
type ManifestDiff struct {
	Added, Removed, Changed int
	// Text is a unified diff per changed object; Secret data is never shown.
	Text string
}

type object struct {
	key  string
	text string
}

// splitManifest cuts a Helm manifest into objects keyed by "Kind namespace/name".
func splitManifest(m string) map[string]object {
	out := map[string]object{}
	for _, doc := range strings.Split("\n"+m, "\n---") {
		doc = strings.Trim(doc, "\n")
		body := stripComments(doc)
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
		if meta.Kind == "Secret" {
			body = redactSecret(body)
		}
		out[key] = object{key: key, text: body}
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

// redactSecret replaces the values of data/stringData with their size, as helm-diff does.
func redactSecret(body string) string {
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(body), &obj); err != nil {
		return "# Secret (content hidden)"
	}
	for _, k := range []string{"data", "stringData"} {
		if m, ok := obj[k].(map[string]any); ok {
			for key, v := range m {
				m[key] = fmt.Sprintf("REDACTED # (%d bytes)", len(fmt.Sprint(v)))
			}
		}
	}
	b, err := yaml.Marshal(obj)
	if err != nil {
		return "# Secret (content hidden)"
	}
	return string(b)
}

// DiffManifests compares two manifests object by object.
func DiffManifests(oldM, newM string) ManifestDiff {
	a, b := splitManifest(oldM), splitManifest(newM)
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
	var d ManifestDiff
	var sb strings.Builder
	for _, k := range sorted {
		oa, inA := a[k]
		ob, inB := b[k]
		switch {
		case inA && !inB:
			d.Removed++
		case !inA && inB:
			d.Added++
		case oa.text == ob.text:
			continue
		default:
			d.Changed++
		}
		ud := difflib.UnifiedDiff{A: difflib.SplitLines(ensureNL(oa.text)), B: difflib.SplitLines(ensureNL(ob.text)),
			FromFile: k + " (installed)", ToFile: k + " (new)", Context: 2}
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

func ensureNL(s string) string {
	if s == "" || strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}
