package preflight

import (
	"context"
	"errors"
	"fmt"

	"github.com/thingpark-tools/kubectl-tpe/pkg/input"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/rbac"
)

// Target is the TPE release preflight checks against.
type Target struct {
	Release manifest.Release
	// Known is true when the embedded matrix knows the release (and so its Kubernetes range).
	Known bool
	// How says how the release was chosen, for messages.
	How string
}

// ResolveTarget picks the release: --manifest (a VERSIONS file, matched against the matrix),
// else --tpe-version, else the newest tagged release. A malformed --tpe-version or an unreadable
// manifest is an error; a well-formed release the matrix does not know is Known=false (a warning).
func ResolveTarget(ctx context.Context, m *manifest.Matrix, version, manifestFile string) (Target, error) {
	switch {
	case manifestFile != "":
		data, err := input.ReadFile(ctx, input.Versions, manifestFile)
		var tooLarge *input.TooLargeError
		if errors.As(err, &tooLarge) {
			return Target{}, err
		}
		if err != nil {
			return Target{}, fmt.Errorf("reading --manifest %q: %w", manifestFile, err)
		}
		r, err := manifest.ParseVersions(manifestFile, data)
		if err != nil {
			return Target{}, fmt.Errorf("--manifest: %w", err)
		}
		installed := map[string]manifest.ChartRef{}
		for _, c := range r.Charts() {
			installed[c.ReleaseName] = c
		}
		if ms := m.Match(installed); len(ms) > 0 {
			// v7.3.0 and v7.3.1 share their charts: the newest has the widest range.
			return Target{Release: ms[0], Known: true, How: fmt.Sprintf("--manifest %s (charts of %s)", manifestFile, ms[0].Name)}, nil
		}
		r.Name = "the release of " + manifestFile
		return Target{Release: r, How: "--manifest " + manifestFile}, nil
	case version != "":
		tag, err := manifest.ParseTag(version)
		if err != nil {
			return Target{}, fmt.Errorf("--tpe-version: %w", err)
		}
		if r, ok := m.Get(tag.String()); ok {
			return Target{Release: r, Known: true, How: "--tpe-version " + version}, nil
		}
		return Target{Release: manifest.Release{Name: tag.String()}, How: "--tpe-version " + version}, nil
	}
	var latest manifest.Release
	for _, r := range m.Releases {
		if r.Tagged {
			latest = r
		}
	}
	return Target{Release: latest, Known: true, How: "the newest known release (set --tpe-version)"}, nil
}

// DetectProfile picks the default --profile: "all" when the subject may create PriorityClasses
// (a cluster administrator), else "operator".
func DetectProfile(ctx context.Context, r rbac.Reviewer) string {
	if ok, _, err := r.Allowed(ctx, rbac.Permission{Verb: "create", Group: "scheduling.k8s.io", Resource: "priorityclasses"}); err == nil && ok {
		return ProfileAll
	}
	return ProfileOperator
}
