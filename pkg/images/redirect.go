package images

import (
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
)

// proposal is a values key to set and the images (of one chart) it is meant to redirect.
type proposal struct {
	chart  string
	path   []string
	value  string
	images map[string]bool
}

func (p *proposal) key() string { return strings.Join(p.path, ".") }

// leaf is a string of a values tree with its path; maps records the maps.
type leaf struct {
	path  []string
	value string
}

type node struct {
	path []string
	m    map[string]any
}

// flatten lists the strings and the maps of a values tree (lists are not entered: one of their
// items cannot be set by a values key).
func flatten(v map[string]any, path []string, leaves *[]leaf, maps *[]node) {
	*maps = append(*maps, node{path: path, m: v})
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "global" && len(path) > 0 {
			continue // coalescing copies the globals into every subchart: set them once, at the top
		}
		p := append(append([]string(nil), path...), k)
		switch t := v[k].(type) {
		case string:
			*leaves = append(*leaves, leaf{path: p, value: t})
		case map[string]any:
			flatten(t, p, leaves, maps)
		case chartutil.Values:
			flatten(t, p, leaves, maps)
		}
	}
}

// propose finds, in the chart's default values coalesced with the user's, the keys that compose
// each image of the chart, and the value that makes the image come from mirror. For an image, the
// first rule that finds a key wins: a string equal to the whole image; maps whose registry is the
// image's host (those whose repository fits the image's path first); maps whose repository is the
// image's name; strings equal to the image's host (a global registry setting, which redirects
// every image of that host).
func propose(chartName string, ch *chart.Chart, user map[string]any, imgs []string, mirror string) ([]*proposal, error) {
	// As a render does: the subcharts under their aliases, the disabled ones left out.
	if err := chartutil.ProcessDependenciesWithMerge(ch, copyTree(user)); err != nil {
		return nil, err
	}
	vals, err := chartutil.CoalesceValues(ch, copyTree(user))
	if err != nil {
		return nil, err
	}
	var leaves []leaf
	var maps []node
	flatten(vals, nil, &leaves, &maps)
	byKey := map[string]*proposal{}
	var out []*proposal
	add := func(image string, path []string, value string) {
		k := strings.Join(path, ".")
		p, ok := byKey[k]
		if !ok {
			p = &proposal{chart: chartName, path: path, value: value, images: map[string]bool{}}
			byKey[k] = p
			out = append(out, p)
		}
		if p.value == value {
			p.images[image] = true
		}
	}
	sub := func(path []string, k string) []string { return append(append([]string(nil), path...), k) }
	for _, image := range imgs {
		r := parseRef(image)
		found := false
		for _, l := range leaves {
			if l.value == image {
				add(image, l.path, r.in(mirror))
				found = true
			}
		}
		if found {
			continue
		}
		var fit, hosts []node
		for _, n := range maps {
			if reg, _ := n.m["registry"].(string); reg != "" && sameHost(reg, r.host) {
				hosts = append(hosts, n)
				repo, _ := n.m["repository"].(string)
				name, _ := n.m["name"].(string)
				if repo != "" && (repo == r.path || repo+"/"+name == r.path) {
					fit = append(fit, n)
				}
			}
		}
		if len(fit) > 0 {
			hosts = fit
		}
		for _, n := range hosts {
			add(image, sub(n.path, "registry"), mirror)
		}
		if len(hosts) > 0 {
			continue
		}
		for _, n := range maps {
			repo, _ := n.m["repository"].(string)
			if repo == "" {
				continue
			}
			if repo == r.path || repo == r.name() || (r.host == "docker.io" && repo == "docker.io/"+r.path) {
				add(image, sub(n.path, "repository"), mirror+"/"+r.path)
				found = true
			}
		}
		if found {
			continue
		}
		for _, l := range leaves {
			if l.value != "" && sameHost(l.value, r.host) {
				add(image, l.path, mirror)
			}
		}
	}
	return out, nil
}

// setPath sets a string at a path of a values tree, creating the maps on the way.
func setPath(v map[string]any, path []string, value string) {
	for _, k := range path[:len(path)-1] {
		m, ok := v[k].(map[string]any)
		if !ok {
			m = map[string]any{}
			v[k] = m
		}
		v = m
	}
	v[path[len(path)-1]] = value
}

// getPath reads a string at a path of a values tree.
func getPath(v map[string]any, path []string) (string, bool) {
	for _, k := range path[:len(path)-1] {
		m, ok := v[k].(map[string]any)
		if !ok {
			return "", false
		}
		v = m
	}
	s, ok := v[path[len(path)-1]].(string)
	return s, ok
}

// copyTree copies the maps of a values tree.
func copyTree(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		switch t := x.(type) {
		case map[string]any:
			x = copyTree(t)
		case chartutil.Values:
			x = copyTree(t)
		}
		out[k] = x
	}
	return out
}
