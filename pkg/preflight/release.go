package preflight

import (
	"context"

	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/rbac"
)

// Target is the TPE release preflight checks against.
type Target struct {
	Release manifest.Release
	// Known is true when the matrix knows the release (and so its Kubernetes range).
	Known bool
	// Note says what the release name resolved to, when that is not plain (manifest.Resolution.Note).
	Note string
}

// ResolveTarget picks the release of req (manifest.ResolveRelease: a VERSIONS file, else the name,
// else a bundle's target, else the newest known release). A VERSIONS file whose charts match no
// known release is Known=false, named after the file. Errors are those of ResolveRelease, for the
// command to word with its flag names (manifest.InputError).
func ResolveTarget(m *manifest.Matrix, req manifest.Request) (Target, error) {
	req.Unnamed = true
	res, err := m.ResolveRelease(req)
	if err != nil {
		return Target{}, err
	}
	t := Target{Release: res.Release, Known: res.Known, Note: res.Note}
	if t.Release.Name == "" {
		t.Release.Name = "the release of " + req.File
	}
	return t, nil
}

// DetectProfile picks the default --profile: "all" when the subject may create PriorityClasses
// (a cluster administrator), else "operator".
func DetectProfile(ctx context.Context, r rbac.Reviewer) string {
	if ok, _, err := r.Allowed(ctx, rbac.Permission{Verb: "create", Group: "scheduling.k8s.io", Resource: "priorityclasses"}); err == nil && ok {
		return ProfileAll
	}
	return ProfileOperator
}
