package manifest

import (
	"path/filepath"
)

// ReadRelease parses a VERSIONS file (path names it in errors) and names its release:
//   - name, when the caller has one (an argument or a flag);
//   - else the directory holding the file, when it is named like a tag (a checkout of the
//     vendor's repository per release, e.g. releases/v7.3.1/VERSIONS);
//   - else the newest known release with the same four charts (v7.3.0 and v7.3.1 share theirs).
//
// When none applies the release keeps an empty Name: it is a custom release the matrix does not
// know. A name the matrix knows brings its date and Kubernetes range. A name that is not a
// release tag is an error from ParseTag, for the caller to put after the flag that gave it; an
// error in the file is a *ParseError.
func (m *Matrix) ReadRelease(path string, data []byte, name string) (Release, error) {
	r, err := ParseVersions(path, data)
	if err != nil {
		return Release{}, err
	}
	if name == "" {
		if tag, err := ParseTag(filepath.Base(filepath.Dir(path))); err == nil {
			name = tag.String()
		}
	}
	if name == "" {
		installed := map[string]ChartRef{}
		for _, c := range r.Charts() {
			installed[c.ReleaseName] = c
		}
		if ms := m.Match(installed); len(ms) > 0 {
			name = ms[0].Name
		}
	}
	if name == "" {
		return r, nil
	}
	tag, err := ParseTag(name)
	if err != nil {
		return Release{}, err
	}
	r.Name = tag.String()
	if known, ok := m.Get(r.Name); ok {
		r.Kubernetes, r.Date, r.Tagged = known.Kubernetes, known.Date, known.Tagged
	}
	return r, nil
}
