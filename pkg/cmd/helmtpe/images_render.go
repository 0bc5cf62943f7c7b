package helmtpe

import (
	"context"

	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// renderImages lists the images a release's charts render with the values (bundle create).
var renderImages func(ctx context.Context, rel manifest.Release, src charts.Source, vals map[string]any) ([]string, error)
