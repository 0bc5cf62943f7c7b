package packaging

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"
)

// HelmPlugin is a Helm plugin.yaml in the legacy format (platformCommand/platformHooks), the format
// Helm 3 and Helm 4 both install.
type HelmPlugin struct {
	Name            string                           `json:"name"`
	Version         string                           `json:"version"`
	Usage           string                           `json:"usage"`
	Description     string                           `json:"description"`
	IgnoreFlags     bool                             `json:"ignoreFlags,omitempty"`
	PlatformCommand []HelmPlatformCommand            `json:"platformCommand"`
	PlatformHooks   map[string][]HelmPlatformCommand `json:"platformHooks"`
}

// HelmPlatformCommand is a command of plugin.yaml, selected by os/arch (empty matches any).
type HelmPlatformCommand struct {
	OS      string   `json:"os,omitempty"`
	Arch    string   `json:"arch,omitempty"`
	Command string   `json:"command"`
	Args    []string `json:"args,omitempty"`
}

var (
	helmPluginName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	semverPattern  = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
)

// LoadHelmPlugin reads and decodes plugin.yaml strictly: a field neither Helm 3 nor this type knows
// is an error (Helm 4 would read an apiVersion field as the new format).
func LoadHelmPlugin(file string) (*HelmPlugin, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read helm plugin manifest: %w", err)
	}
	var p HelmPlugin
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return nil, fmt.Errorf("decode %s: %w", file, err)
	}
	return &p, nil
}

// Validate applies the rules of Helm's legacy plugin metadata (name, semver version, known hook
// events, non-empty commands).
func (p *HelmPlugin) Validate() []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !helmPluginName.MatchString(p.Name) {
		add("name %q: only a-z, A-Z, 0-9, _ and - are allowed", p.Name)
	}
	if !semverPattern.MatchString(p.Version) {
		add("version %q is not semver", p.Version)
	}
	if len(p.PlatformCommand) == 0 {
		add("platformCommand is empty")
	}
	check := func(what string, cmds []HelmPlatformCommand) {
		for i, c := range cmds {
			if c.Command == "" {
				add("%s[%d].command is empty", what, i)
			}
		}
		if _, ok := Command(cmds, "linux", "amd64"); len(cmds) > 0 && !ok {
			add("%s has no entry for linux (nor a fallback without os/arch)", what)
		}
	}
	check("platformCommand", p.PlatformCommand)
	for ev, cmds := range p.PlatformHooks {
		switch ev {
		case "install", "update", "delete":
		default:
			add("platformHooks.%s: Helm knows only install, update and delete", ev)
		}
		check("platformHooks."+ev, cmds)
	}
	return errs
}

// Command returns the command (with args) of plugin.yaml for goos/goarch, as Helm selects it: an
// exact os/arch match, else the first entry of that os without arch, else the first entry without
// os and arch.
func Command(cmds []HelmPlatformCommand, goos, goarch string) (HelmPlatformCommand, bool) {
	var osOnly, fallback *HelmPlatformCommand
	for i := range cmds {
		c := &cmds[i]
		switch {
		case strings.EqualFold(c.OS, goos) && strings.EqualFold(c.Arch, goarch):
			return *c, true
		case strings.EqualFold(c.OS, goos) && c.Arch == "" && osOnly == nil:
			osOnly = c
		case c.OS == "" && c.Arch == "" && fallback == nil:
			fallback = c
		}
	}
	if osOnly != nil {
		return *osOnly, true
	}
	if fallback != nil {
		return *fallback, true
	}
	return HelmPlatformCommand{}, false
}

// PluginDirPaths returns the paths (relative to the plugin directory) that a command refers to
// through ${HELM_PLUGIN_DIR} or $HELM_PLUGIN_DIR.
func PluginDirPaths(c HelmPlatformCommand) []string {
	var out []string
	for _, s := range append([]string{c.Command}, c.Args...) {
		for _, prefix := range []string{"${HELM_PLUGIN_DIR}/", "$HELM_PLUGIN_DIR/"} {
			if rest, ok := strings.CutPrefix(s, prefix); ok {
				out = append(out, rest)
			}
		}
	}
	return out
}
