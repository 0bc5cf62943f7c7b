package helmtpe

import (
	"context"

	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/images"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// renderImages lists the images a release's charts render with the values (bundle create): the
// list of `helm tpe images`, rendered in the namespace of the vendor's documents (the namespace
// does not choose images).
func renderImages(ctx context.Context, rel manifest.Release, src charts.Source, vals map[string]any) ([]string, error) {
	rep, err := images.List(ctx, images.Config{Release: rel, Charts: src, Values: vals, Namespace: manifest.DefaultNamespace})
	if err != nil {
		return nil, err
	}
	return rep.Names(), nil
}
