package charts

import (
	"fmt"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
)

// Render renders a chart without a cluster, as `helm template` does: a client-only dry run with
// Helm's default Kubernetes version and API versions, CRDs of crds/ left out, hooks included
// after the manifest. vals are not modified.
func Render(ch *chart.Chart, releaseName, namespace string, vals map[string]any) (string, error) {
	cfg := &action.Configuration{Log: func(string, ...any) {}}
	in := action.NewInstall(cfg)
	in.DryRun, in.ClientOnly, in.Replace, in.IncludeCRDs = true, true, true, false
	in.ReleaseName, in.Namespace = releaseName, namespace
	rel, err := in.Run(ch, copyMap(vals))
	if err != nil {
		return "", fmt.Errorf("rendering chart %s %s as release %s: %w", ch.Name(), ch.Metadata.Version, releaseName, err)
	}
	var b strings.Builder
	b.WriteString(rel.Manifest)
	for _, h := range rel.Hooks {
		fmt.Fprintf(&b, "\n---\n# Source: %s\n%s\n", h.Path, h.Manifest)
	}
	return b.String(), nil
}

// copyMap copies the maps of a values tree (Helm's coalescing writes into the maps it is given).
func copyMap(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		if m, ok := x.(map[string]any); ok {
			x = copyMap(m)
		}
		out[k] = x
	}
	return out
}
