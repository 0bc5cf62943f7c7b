package packaging

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/yaml"
)

// KrewAPIVersion and KrewKind are the only apiVersion and kind krew accepts.
const (
	KrewAPIVersion = "krew.googlecontainertools.github.com/v1alpha2"
	KrewKind       = "Plugin"
)

// KrewPlugin is a krew plugin manifest (the fields krew reads).
type KrewPlugin struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec KrewSpec `json:"spec"`
}

// KrewSpec is the spec of a krew plugin manifest.
type KrewSpec struct {
	Version          string         `json:"version"`
	Homepage         string         `json:"homepage,omitempty"`
	ShortDescription string         `json:"shortDescription"`
	Description      string         `json:"description,omitempty"`
	Caveats          string         `json:"caveats,omitempty"`
	Platforms        []KrewPlatform `json:"platforms"`
}

// KrewPlatform is one platform entry of a krew manifest.
type KrewPlatform struct {
	URI      string                `json:"uri"`
	Sha256   string                `json:"sha256"`
	Selector *metav1.LabelSelector `json:"selector"`
	Files    []KrewFileOperation   `json:"files"`
	Bin      string                `json:"bin"`
}

// KrewFileOperation copies files matching From (a path or glob in the archive) to To (in the
// installation directory).
type KrewFileOperation struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// OSArch is a GOOS/GOARCH pair.
type OSArch struct{ OS, Arch string }

func (p OSArch) String() string { return p.OS + "/" + p.Arch }

// KrewKnownPlatforms are the os/arch pairs krew's validate-krew-manifest matches selectors against.
var KrewKnownPlatforms = []OSArch{
	{"windows", "386"}, {"windows", "amd64"}, {"windows", "arm64"},
	{"linux", "386"}, {"linux", "amd64"}, {"linux", "arm"}, {"linux", "arm64"}, {"linux", "ppc64le"},
	{"darwin", "386"}, {"darwin", "amd64"}, {"darwin", "arm64"},
}

var (
	safePluginName = regexp.MustCompile(`^[\w-]+$`)
	validSHA256    = regexp.MustCompile(`^[a-f0-9]{64}$`)
	// Reserved device names of Windows: a plugin cannot be named after one.
	windowsReserved = []string{"CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6",
		"COM7", "COM8", "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9"}
)

// ParseKrewManifest decodes a (rendered) krew manifest strictly: unknown fields are errors.
func ParseKrewManifest(data []byte) (*KrewPlugin, error) {
	var p KrewPlugin
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return nil, fmt.Errorf("decode krew manifest: %w", err)
	}
	return &p, nil
}

// ValidateKrewManifest applies krew's validation to the manifest read from file (whose base name
// must be <plugin name>.yaml) and returns every problem found.
func ValidateKrewManifest(file string, p *KrewPlugin) []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	base := filepath.Base(file)
	if filepath.Ext(base) != ".yaml" {
		add("manifest file %q: the extension must be .yaml", base)
	}
	name := strings.TrimSuffix(base, filepath.Ext(base))
	if p.APIVersion != KrewAPIVersion {
		add("apiVersion is %q, krew supports only %q", p.APIVersion, KrewAPIVersion)
	}
	if p.Kind != KrewKind {
		add("kind is %q, krew supports only %q", p.Kind, KrewKind)
	}
	if !IsSafePluginName(name) {
		add("plugin name %q (from the file name) is not allowed: it must match %s and not be a reserved Windows name", name, safePluginName)
	}
	if p.Metadata.Name != name {
		add("metadata.name is %q but the file name says %q", p.Metadata.Name, name)
	}
	if p.Spec.ShortDescription == "" {
		add("spec.shortDescription is empty")
	}
	if strings.ContainsAny(p.Spec.ShortDescription, "\r\n") {
		add("spec.shortDescription has a line break")
	}
	if p.Spec.Version == "" {
		add("spec.version is empty")
	} else if !strings.HasPrefix(p.Spec.Version, "v") {
		add("spec.version %q must start with v", p.Spec.Version)
	} else if _, err := version.ParseSemantic(p.Spec.Version); err != nil {
		add("spec.version %q is not a semantic version: %w", p.Spec.Version, err)
	}
	if len(p.Spec.Platforms) == 0 {
		add("spec.platforms is empty")
	}
	for i, pl := range p.Spec.Platforms {
		for _, err := range validateKrewPlatform(pl) {
			add("spec.platforms[%d]: %w", i, err)
		}
		if pl.Selector != nil {
			if m := matchingPlatforms(pl.Selector); len(m) == 0 {
				add("spec.platforms[%d]: the selector matches no platform krew knows", i)
			}
		}
	}
	for _, env := range KrewKnownPlatforms {
		var idx []int
		for i, pl := range p.Spec.Platforms {
			if pl.Selector != nil && selectorMatches(pl.Selector, env) {
				idx = append(idx, i)
			}
		}
		if len(idx) > 1 {
			add("spec.platforms %v have overlapping selectors that all select %s", idx, env)
		}
	}
	return errs
}

// IsSafePluginName reports whether krew accepts name as a plugin name.
func IsSafePluginName(name string) bool {
	if !safePluginName.MatchString(name) {
		return false
	}
	for _, r := range windowsReserved {
		if strings.EqualFold(r, name) {
			return false
		}
	}
	return true
}

func validateKrewPlatform(p KrewPlatform) []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	switch {
	case p.URI == "":
		add("uri is empty")
	case !strings.HasPrefix(p.URI, "https://"):
		add("uri %q is not an https URL", p.URI)
	}
	switch {
	case p.Sha256 == "":
		add("sha256 is empty")
	case !validSHA256.MatchString(p.Sha256):
		add("sha256 %q is not 64 lowercase hex digits", p.Sha256)
	}
	if p.Bin == "" {
		add("bin is empty")
	}
	if p.Files != nil && len(p.Files) == 0 {
		add("files is empty: leave it out or list files")
	}
	for j, op := range p.Files {
		if op.From == "" {
			add("files[%d].from is empty", j)
		}
		if op.To == "" {
			add("files[%d].to is empty", j)
		} else if op.To != filepath.Clean(op.To) {
			add("files[%d].to %q is not a clean path (%q)", j, op.To, filepath.Clean(op.To))
		}
	}
	sel := p.Selector
	switch {
	case sel == nil:
		add("selector is missing")
	case sel.MatchLabels == nil && len(sel.MatchExpressions) == 0:
		add("selector is empty")
	default:
		if sel.MatchLabels != nil && len(sel.MatchLabels) == 0 {
			add("selector.matchLabels is given but empty")
		}
		if sel.MatchExpressions != nil && len(sel.MatchExpressions) == 0 {
			add("selector.matchExpressions is given but empty")
		}
		for k := range sel.MatchLabels {
			if k != "os" && k != "arch" {
				add("selector key %q is not supported (only os and arch)", k)
			}
		}
		for _, e := range sel.MatchExpressions {
			if e.Key != "os" && e.Key != "arch" {
				add("selector key %q is not supported (only os and arch)", e.Key)
			}
		}
		if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
			add("selector is invalid: %w", err)
		}
	}
	return errs
}

func selectorMatches(sel *metav1.LabelSelector, env OSArch) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(labels.Set{"os": env.OS, "arch": env.Arch})
}

func matchingPlatforms(sel *metav1.LabelSelector) []OSArch {
	var out []OSArch
	for _, env := range KrewKnownPlatforms {
		if selectorMatches(sel, env) {
			out = append(out, env)
		}
	}
	return out
}

// PlatformFor returns the platform entry of p that selects env, or an error when none does.
func (p *KrewPlugin) PlatformFor(env OSArch) (KrewPlatform, error) {
	for _, pl := range p.Spec.Platforms {
		if pl.Selector != nil && selectorMatches(pl.Selector, env) {
			return pl, nil
		}
	}
	return KrewPlatform{}, fmt.Errorf("krew manifest %s has no platform for %s", p.Metadata.Name, env)
}

// Covered returns, for each pair in want, whether a platform entry of p selects it.
func (p *KrewPlugin) Covered(want []OSArch) map[OSArch]bool {
	out := map[OSArch]bool{}
	for _, env := range want {
		_, err := p.PlatformFor(env)
		out[env] = err == nil
	}
	return out
}

// RenderKrewTemplate renders a krew-release-bot template (krew/tpe.yaml): {{ .TagName }} becomes
// tag, and {{addURIAndSha "URL-template" .TagName}} becomes the uri and sha256 lines, the sha256
// being sha(base name of the rendered URL). It fails when sha fails for an archive.
func RenderKrewTemplate(tmpl []byte, tag string, sha func(archive string) (string, error)) ([]byte, error) {
	data := map[string]string{"TagName": tag}
	funcs := template.FuncMap{
		"addURIAndSha": func(urlTmpl, tagName string) (string, error) {
			t, err := template.New("uri").Parse(urlTmpl)
			if err != nil {
				return "", fmt.Errorf("parse uri template %q: %w", urlTmpl, err)
			}
			var b bytes.Buffer
			if err := t.Execute(&b, map[string]string{"TagName": tagName}); err != nil {
				return "", fmt.Errorf("render uri template %q: %w", urlTmpl, err)
			}
			uri := b.String()
			sum, err := sha(path.Base(uri))
			if err != nil {
				return "", err
			}
			// Same layout as krew-release-bot: the sha256 line sits under the uri, indented for a
			// platform entry of spec.platforms.
			return fmt.Sprintf("uri: %s\n    sha256: %s", uri, sum), nil
		},
	}
	t, err := template.New("krew").Funcs(funcs).Option("missingkey=error").Parse(string(tmpl))
	if err != nil {
		return nil, fmt.Errorf("parse krew template: %w", err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, data); err != nil {
		return nil, fmt.Errorf("render krew template: %w", err)
	}
	return out.Bytes(), nil
}

// ErrNoChecksum is returned (wrapped) when an archive is not listed in checksums.txt.
var ErrNoChecksum = errors.New("archive not listed in checksums.txt")

// ParseChecksums reads a goreleaser checksums.txt ("<sha256>  <file>" lines) into file → sha256.
func ParseChecksums(data []byte) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || !validSHA256.MatchString(f[0]) {
			return nil, fmt.Errorf("checksums.txt line %d: want \"<sha256>  <file>\", got %q", i+1, line)
		}
		out[f[1]] = f[0]
	}
	return out, nil
}

// ChecksumLookup returns a sha function for RenderKrewTemplate backed by a checksums map.
func ChecksumLookup(sums map[string]string) func(string) (string, error) {
	return func(archive string) (string, error) {
		s, ok := sums[archive]
		if !ok {
			return "", fmt.Errorf("%s: %w", archive, ErrNoChecksum)
		}
		return s, nil
	}
}
