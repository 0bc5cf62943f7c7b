package upgrade

import (
	"context"

	helmrelease "helm.sh/helm/v3/pkg/release"

	"github.com/thingpark-tools/kubectl-tpe/pkg/diff"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
)

// ChartDiff is what a server-side dry run of one chart would change.
type ChartDiff struct {
	Hop         int         `json:"hop"`
	ReleaseName string      `json:"releaseName"`
	Chart       string      `json:"chart"`
	Version     string      `json:"version"`
	Action      plan.Action `json:"action"`
	Added       int         `json:"added"`
	Removed     int         `json:"removed"`
	Changed     int         `json:"changed"`
	// Objects are the objects that differ (their names masked like the diff).
	Objects []diff.Change `json:"objects"`
	Diff    string        `json:"diff"`
}

// dryRun renders every chart of every hop against the cluster (Helm's server-side dry run:
// lookups read, nothing is written) and diffs each manifest with the one it would replace.
func (r *runner) dryRun(ctx context.Context, p *plan.Plan) ([]ChartDiff, error) {
	out := []ChartDiff{}
	prev := map[string]string{}
	for _, n := range manifest.ReleaseNames {
		if last, err := r.lastRelease(n); err != nil {
			return nil, err
		} else if installed(last) {
			prev[n] = last.Manifest
		}
	}
	red := r.red
	for _, h := range p.Hops {
		for _, c := range h.Charts {
			if c.Action == plan.ActionUnchanged {
				continue
			}
			r.logf("dry run: rendering %s %s %s (hop %d)", c.ReleaseName, c.Chart, c.Version, h.N)
			ch, err := r.repo.LoadChart(c.Chart, c.Version)
			if err != nil {
				return nil, err
			}
			rel, err := r.apply(ctx, c.ReleaseName, ch, true)
			if err != nil {
				return nil, red.Error(err)
			}
			d := diff.Manifests(prev[c.ReleaseName], rel.Manifest, diff.Options{Redactor: red, ShowSecrets: r.cfg.ShowSecrets})
			out = append(out, ChartDiff{Hop: h.N, ReleaseName: c.ReleaseName, Chart: c.Chart, Version: c.Version, Action: c.Action,
				Added: d.Added, Removed: d.Removed, Changed: d.Changed, Objects: d.Objects, Diff: d.Text})
			prev[c.ReleaseName] = rel.Manifest
		}
	}
	return out, nil
}

// installed reports whether a release revision is installed (not uninstalled).
func installed(rel *helmrelease.Release) bool {
	return rel != nil && rel.Info != nil && rel.Info.Status != helmrelease.StatusUninstalled
}
