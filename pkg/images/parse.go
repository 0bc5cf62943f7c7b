package images

import (
	"fmt"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/releaseutil"
	"sigs.k8s.io/yaml"
)

// FromManifest returns every string value of a key named "image" anywhere in the objects of a
// rendered multi-document manifest (containers, initContainers, and custom resources such as a
// Strimzi Kafka's spec.kafka.image), as the vendor derives its image list, with the objects
// ("Kind/name") that hold each. Empty documents are skipped; an "image" that is not a string
// (a map of registry/repository/tag in some custom resources) is walked into, not listed.
func FromManifest(manifest string) (map[string][]string, error) {
	found := map[string]map[string]bool{}
	for key, doc := range releaseutil.SplitManifests(manifest) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var obj any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return nil, fmt.Errorf("reading the rendered manifest (document %s): %w", strings.TrimPrefix(key, "manifest-"), err)
		}
		if obj == nil {
			continue
		}
		name := objectName(obj)
		walk(obj, func(image string) {
			if found[image] == nil {
				found[image] = map[string]bool{}
			}
			if name != "" {
				found[image][name] = true
			}
		})
	}
	out := make(map[string][]string, len(found))
	for image, objs := range found {
		out[image] = sortedKeys(objs)
	}
	return out, nil
}

// objectName is "Kind/name" of a Kubernetes object, "" when it has neither.
func objectName(obj any) string {
	m, ok := obj.(map[string]any)
	if !ok {
		return ""
	}
	kind, _ := m["kind"].(string)
	var name string
	if md, ok := m["metadata"].(map[string]any); ok {
		name, _ = md["name"].(string)
	}
	if kind == "" && name == "" {
		return ""
	}
	return kind + "/" + name
}

func walk(v any, visit func(string)) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if s, ok := x.(string); ok && k == "image" {
				if s = strings.TrimSpace(s); s != "" {
					visit(s)
				}
				continue
			}
			walk(x, visit)
		}
	case []any:
		for _, x := range t {
			walk(x, visit)
		}
	}
}

// ParseContainerManifest reads the vendor's container-manifest.txt: one image a line. CRLF line
// ends, blank lines, "#" comments, a leading "Images:" line and YAML list dashes are tolerated.
// The result is sorted and without duplicates.
func ParseContainerManifest(data []byte) []string {
	seen := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if i := strings.Index(line, "#"); i == 0 || (i > 0 && line[i-1] == ' ') {
			line = strings.TrimSpace(line[:i])
		}
		line = strings.TrimSpace(strings.TrimPrefix(line, "- "))
		line = strings.Trim(line, `"'`)
		if line == "" || strings.EqualFold(line, "images:") {
			continue
		}
		seen[line] = true
	}
	return sortedKeys(seen)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ref is an image reference split as a registry mirror needs it.
type ref struct {
	host   string // registry host, docker.io for Docker Hub short names
	path   string // repository path without the host, as written ("nginx", "percona/x")
	suffix string // ":tag", "@digest" or both, as written
}

func parseRef(image string) ref {
	name, suffix := image, ""
	if i := strings.Index(name, "@"); i >= 0 {
		name, suffix = name[:i], name[i:]
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name, suffix = name[:i], name[i:]+suffix
	}
	r := ref{host: "docker.io", path: name, suffix: suffix}
	if first, rest, ok := strings.Cut(name, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		r.host, r.path = first, rest
	}
	return r
}

// name is the image without its tag or digest, host included.
func (r ref) name() string { return r.host + "/" + r.path }

// in is the image under a mirror: mirror + "/" + path without the original host + tag/digest.
func (r ref) in(mirror string) string { return mirror + "/" + r.path + r.suffix }

// dockerHub reports whether a registry value names Docker Hub.
func dockerHub(s string) bool {
	switch s {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return true
	}
	return false
}

// sameHost reports whether a registry value names host.
func sameHost(s, host string) bool {
	s = strings.TrimSuffix(s, "/")
	return s == host || (host == "docker.io" && dockerHub(s))
}
