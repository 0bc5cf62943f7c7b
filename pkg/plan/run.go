package plan

import (
	"context"
	"fmt"

	"helm.sh/helm/v3/pkg/action"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/thingpark-tools/kubectl-tpe/pkg/adminstep"
	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// Deps are what a plan reads besides the user's files; each is optional.
type Deps struct {
	// Helm reads the history of the four releases (nil only with Config.From: no cluster).
	Helm    *action.Configuration
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	// Server is the cluster's version (zero: the Kubernetes ranges are not judged).
	Server prereq.ServerVersion
	// Admin reads the vendor's manifests the CRD steps are judged against (nil: not verified).
	Admin adminstep.Source
	// Charts opens where the charts come from (the chart repository or a release bundle) once the
	// values are loaded: the installation ID may be in them. Load calls it when values files are
	// given (to check them against the target's charts) or with Config.NeedCharts; nil: never.
	Charts func(values.Values) (charts.Source, error)
}

// Config is what the user asked a plan of.
type Config struct {
	Namespace string
	Matrix    *manifest.Matrix
	// To is the target release (resolved once by the caller).
	To manifest.Release
	// From plans from this release without a cluster (StateOf): Deps.Helm, Kube and Dynamic are
	// not used, and the cluster-admin steps cannot be checked.
	From *manifest.Release
	// ValueFiles are the user's values files, checked against the target's charts.
	ValueFiles []string
	// ChartDir is a directory holding the target's charts to check the values against, instead of
	// Deps.Charts; it is read only when values files are given (Loaded.ChartDirUnused).
	ChartDir string
	// NeedCharts opens Deps.Charts even without values files: a run installs the charts, and a
	// release bundle is checked to hold every release of the path.
	NeedCharts bool
	// SkipBackup: the run takes no upgrade backup, so the backup configuration only warns.
	SkipBackup bool
}

// Loaded is what a plan reads before it is computed: the plan's Input (the values, what is
// installed, the charts), and what could not be read.
type Loaded struct {
	Input
	// ChartsErr says why Deps.Charts could not be opened: the values are not checked against
	// the charts (the caller decides whether that stops it).
	ChartsErr error
	// ChartDirUnused: Config.ChartDir was given without values files, so it was not read.
	ChartDirUnused bool
}

// ChartDirError is a chart directory (Config.ChartDir) that does not hold a chart of the target.
type ChartDirError struct {
	Dir     string
	Release string
	Err     error
}

func (e *ChartDirError) Error() string {
	return fmt.Sprintf("%v: give the directory of %s's four charts (helm pull them, or unpack a release bundle)", e.Err, e.Release)
}

func (e *ChartDirError) Unwrap() error { return e.Err }

// Load reads what a plan is computed from, once: the values files, what the namespace runs (the
// four Helm releases, or Config.From without a cluster), and the charts the values are checked
// against (Config.ChartDir, else Deps.Charts). Both `plan` and the install/upgrade use case
// start here.
func Load(ctx context.Context, d Deps, cfg Config) (*Loaded, error) {
	vals, err := values.LoadContext(ctx, cfg.ValueFiles)
	if err != nil {
		return nil, err
	}
	ld := &Loaded{Input: Input{Matrix: cfg.Matrix, To: cfg.To, Server: d.Server, Values: vals, ValueFiles: cfg.ValueFiles,
		SkipBackup: cfg.SkipBackup}}
	withValues := len(cfg.ValueFiles) > 0
	switch {
	case cfg.ChartDir != "" && !withValues:
		ld.ChartDirUnused = true
	case cfg.ChartDir != "":
		// Charts the user named and the plan cannot use are bad input, as for images: an error,
		// not a skipped check.
		dir := &charts.Dir{Path: cfg.ChartDir}
		for _, c := range cfg.To.Charts() {
			if _, err := dir.LoadChart(c.Chart, c.Version); err != nil {
				return nil, &ChartDirError{Dir: cfg.ChartDir, Release: cfg.To.Name, Err: err}
			}
		}
		ld.Charts = dir
	case d.Charts != nil && (withValues || cfg.NeedCharts):
		src, err := d.Charts(vals)
		if err != nil {
			ld.ChartsErr = err
		} else {
			ld.Charts = src
		}
	}
	if cfg.From != nil {
		ld.State = StateOf(cfg.Matrix, *cfg.From, cfg.Namespace)
		return ld, nil
	}
	if ld.State, err = LoadState(d.Helm, cfg.Namespace, cfg.Matrix); err != nil {
		return nil, err
	}
	ld.Kube, ld.Dynamic, ld.Admin = d.Kube, d.Dynamic, d.Admin
	return ld, nil
}

// Outcome is a plan and what the plan could not read.
type Outcome struct {
	Plan *Plan
	// Values are the values files as loaded (the caller hides their secrets from its output).
	Values values.Values
	// ChartsErr: the charts could not be opened, so the values were not checked against them.
	ChartsErr error
	// ChartDirUnused: Config.ChartDir was not read (no values files to check).
	ChartDirUnused bool
}

// Run is the plan use case: Load, then New. It changes nothing. Charts that cannot be opened
// without values files are an error (they were opened only to be checked: Config.NeedCharts);
// with values files, they leave the values unchecked (Outcome.ChartsErr).
func Run(ctx context.Context, d Deps, cfg Config) (*Outcome, error) {
	ld, err := Load(ctx, d, cfg)
	if err != nil {
		return nil, err
	}
	if ld.ChartsErr != nil && len(cfg.ValueFiles) == 0 {
		return nil, ld.ChartsErr
	}
	return &Outcome{Plan: New(ctx, ld.Input), Values: ld.Values, ChartsErr: ld.ChartsErr, ChartDirUnused: ld.ChartDirUnused}, nil
}
