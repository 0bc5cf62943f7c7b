package adminstep

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/client-go/kubernetes"

	"github.com/thingpark-tools/kubectl-tpe/pkg/helmstore"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// ErrUnknownInstalled is returned when the namespace's Helm releases match no release of the
// matrix: the installed release must be given.
var ErrUnknownInstalled = errors.New("the TPE charts installed in the namespace match no known release")

// Installed reads the TPE release installed in namespace from Helm's release Secrets (one list,
// no Helm library): nil for a namespace without TPE.
func Installed(ctx context.Context, c kubernetes.Interface, namespace string, m *manifest.Matrix) (*manifest.Release, error) {
	rels, err := helmstore.List(ctx, c, namespace)
	if err != nil {
		return nil, fmt.Errorf("reading the Helm releases of namespace %s: %w", namespace, err)
	}
	installed := map[string]manifest.ChartRef{}
	for _, r := range rels {
		installed[r.Name] = manifest.ChartRef{Chart: r.Chart, Version: r.ChartVersion}
	}
	tpe := false
	for _, n := range manifest.ReleaseNames {
		if _, ok := installed[n]; ok {
			tpe = true
		}
	}
	if !tpe {
		return nil, nil
	}
	match := m.Match(installed)
	if len(match) == 0 {
		return nil, ErrUnknownInstalled
	}
	return &match[0], nil
}
