package packaging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"text/template"

	"sigs.k8s.io/yaml"
)

// GoReleaser is the part of .goreleaser.yaml the manifests depend on.
type GoReleaser struct {
	ProjectName string `json:"project_name"`
	Builds      []struct {
		ID     string   `json:"id"`
		Main   string   `json:"main"`
		Binary string   `json:"binary"`
		Goos   []string `json:"goos"`
		Goarch []string `json:"goarch"`
	} `json:"builds"`
	Archives []GoReleaserArchive `json:"archives"`
	Checksum struct {
		NameTemplate string `json:"name_template"`
		Algorithm    string `json:"algorithm"`
	} `json:"checksum"`
}

// GoReleaserArchive is one archives entry of .goreleaser.yaml.
type GoReleaserArchive struct {
	ID              string   `json:"id"`
	IDs             []string `json:"ids"`
	NameTemplate    string   `json:"name_template"`
	Formats         []string `json:"formats"`
	FormatOverrides []struct {
		Goos    string   `json:"goos"`
		Formats []string `json:"formats"`
	} `json:"format_overrides"`
	Files []json.RawMessage `json:"files"`
}

// Archive is an archive goreleaser produces for one binary and platform.
type Archive struct {
	ID       string // archives[].id
	Platform OSArch
	Name     string // file name, with extension
	Binary   string // path of the binary inside the archive (with .exe on windows)
	Files    []string
}

// LoadGoReleaser reads a .goreleaser.yaml.
func LoadGoReleaser(file string) (*GoReleaser, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read goreleaser config: %w", err)
	}
	var g GoReleaser
	if err := yaml.Unmarshal(data, &g); err != nil {
		return nil, fmt.Errorf("decode %s: %w", file, err)
	}
	return &g, nil
}

// ArchivesFor lists the archives a release with tag (for example v1.2.3) produces, rendering each
// name_template with goreleaser's Tag, Version, ProjectName, Os and Arch fields.
func (g *GoReleaser) ArchivesFor(tag string) ([]Archive, error) {
	var out []Archive
	for _, a := range g.Archives {
		tmpl, err := template.New(a.ID).Option("missingkey=error").Parse(a.NameTemplate)
		if err != nil {
			return nil, fmt.Errorf("archives %s: name_template: %w", a.ID, err)
		}
		var files []string
		for _, raw := range a.Files {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				files = append(files, s)
				continue
			}
			var f struct {
				Src, Dst string
			}
			if err := json.Unmarshal(raw, &f); err != nil {
				return nil, fmt.Errorf("archives %s: files: %w", a.ID, err)
			}
			dst := f.Dst
			if dst == "" {
				dst = f.Src
			}
			files = append(files, dst)
		}
		for _, b := range g.Builds {
			if !slices.Contains(a.IDs, b.ID) {
				continue
			}
			for _, goos := range b.Goos {
				for _, goarch := range b.Goarch {
					var name bytes.Buffer
					data := map[string]string{"Tag": tag, "Version": trimV(tag), "ProjectName": g.ProjectName, "Os": goos, "Arch": goarch}
					if err := tmpl.Execute(&name, data); err != nil {
						return nil, fmt.Errorf("archives %s: name_template: %w", a.ID, err)
					}
					bin := b.Binary
					if goos == "windows" {
						bin += ".exe"
					}
					out = append(out, Archive{ID: a.ID, Platform: OSArch{goos, goarch},
						Name: name.String() + "." + a.format(goos), Binary: bin, Files: files})
				}
			}
		}
	}
	return out, nil
}

// Build returns the build of the given id, or an error.
func (g *GoReleaser) Build(id string) (binary string, platforms []OSArch, err error) {
	for _, b := range g.Builds {
		if b.ID == id {
			for _, goos := range b.Goos {
				for _, goarch := range b.Goarch {
					platforms = append(platforms, OSArch{goos, goarch})
				}
			}
			return b.Binary, platforms, nil
		}
	}
	return "", nil, fmt.Errorf("goreleaser config has no build %q", id)
}

func (a GoReleaserArchive) format(goos string) string {
	for _, o := range a.FormatOverrides {
		if o.Goos == goos && len(o.Formats) > 0 {
			return o.Formats[0]
		}
	}
	if len(a.Formats) > 0 {
		return a.Formats[0]
	}
	return "tar.gz"
}

func trimV(tag string) string {
	if len(tag) > 1 && tag[0] == 'v' {
		return tag[1:]
	}
	return tag
}

// DistMetadata is the part of goreleaser's dist/metadata.json that names the release.
type DistMetadata struct {
	ProjectName string `json:"project_name"`
	Tag         string `json:"tag"`
	Version     string `json:"version"`
}

// DistArtifact is one entry of goreleaser's dist/artifacts.json.
type DistArtifact struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	Goos   string `json:"goos"`
	Goarch string `json:"goarch"`
	Type   string `json:"type"`
	Extra  struct {
		ID string `json:"ID"`
	} `json:"extra"`
}

// ReadDist reads metadata.json, artifacts.json and checksums.txt of a goreleaser dist directory
// and returns the metadata, the archives (type "Archive") and the checksums.
func ReadDist(dist string) (DistMetadata, []DistArtifact, map[string]string, error) {
	var md DistMetadata
	var arts []DistArtifact
	b, err := os.ReadFile(filepath.Join(dist, "metadata.json"))
	if err != nil {
		return md, nil, nil, fmt.Errorf("read goreleaser dist (run make dist): %w", err)
	}
	if err := json.Unmarshal(b, &md); err != nil {
		return md, nil, nil, fmt.Errorf("decode %s/metadata.json: %w", dist, err)
	}
	b, err = os.ReadFile(filepath.Join(dist, "artifacts.json"))
	if err != nil {
		return md, nil, nil, fmt.Errorf("read goreleaser dist: %w", err)
	}
	var all []DistArtifact
	if err := json.Unmarshal(b, &all); err != nil {
		return md, nil, nil, fmt.Errorf("decode %s/artifacts.json: %w", dist, err)
	}
	for _, a := range all {
		if a.Type == "Archive" {
			arts = append(arts, a)
		}
	}
	b, err = os.ReadFile(filepath.Join(dist, "checksums.txt"))
	if err != nil {
		return md, nil, nil, fmt.Errorf("read goreleaser dist: %w", err)
	}
	sums, err := ParseChecksums(b)
	if err != nil {
		return md, nil, nil, err
	}
	return md, arts, sums, nil
}
