package kubectltpe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/thingpark-tools/kubectl-tpe/pkg/adminstep"
	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/catalog"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/kube"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
	"github.com/thingpark-tools/kubectl-tpe/pkg/rbac"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// afterVersion, when set, runs after each CRD version `prereqs apply --to` applied; an error
// stops the run there. Only the e2e tests' build sets it (e2ehook.go, build tag e2e).
var afterVersion func(step, version string) error

// stepsFlags are the flags of `prereqs apply` that select the cluster-admin steps of a path. To
// is the --to of the command (shared with --hosting, where it picks the hosting's objects), set
// when --to was given.
type stepsFlags struct {
	To         string
	From       string
	Bundle     string
	ValueFiles []string
}

func (s *stepsFlags) add(fl *pflag.FlagSet) {
	fl.StringVar(&s.From, "from", "", "the installed `RELEASE` (default: read from the Helm releases of the namespace)")
	fl.StringVar(&s.Bundle, "bundle", "", "release bundle `FILE` (helm tpe bundle create) holding the vendor's admin manifests: nothing is downloaded")
	fl.StringArrayVarP(&s.ValueFiles, "values", "f", nil, "values files naming the PriorityClasses and StorageClasses to create (repeatable)")
}

// stepsMode reports whether the command applies the steps of a path (--to without --hosting).
func (o *PrereqsOptions) stepsMode() bool { return o.Steps.To != "" && o.Config.Hosting == "" }

// RunSteps applies the cluster-admin steps of the path from the installed release to --to.
func (o *PrereqsOptions) RunSteps(ctx context.Context, clients *kube.Clients) error {
	var src adminstep.Source = adminstep.Repo{Config: catalog.ConfigFromEnv()}
	req := manifest.Request{Name: o.Steps.To}
	if o.Steps.Bundle != "" {
		b, err := bundle.Open(o.Steps.Bundle, nil)
		if err != nil {
			return fmt.Errorf("--bundle: %w", err)
		}
		req = b.Manifest.Request(req, o.Steps.Bundle)
		src = adminstep.Bundle{B: b, Path: o.Steps.Bundle}
	}
	res0, err := manifest.MustLoad().ResolveRelease(req)
	if err != nil {
		return manifest.InputError(err, "--to", "")
	}
	m, to := res0.Matrix, res0.Release
	if res0.Note != "" {
		fmt.Fprintf(o.ErrOut, "Note: %s\n", res0.Note)
	}
	ns := clients.TPENamespace()
	var from *manifest.Release
	if o.Steps.From != "" {
		r, err := m.ResolveRelease(manifest.Request{Name: o.Steps.From})
		if err != nil {
			return manifest.InputError(err, "--from", "")
		}
		from = &r.Release
	} else if from, err = adminstep.Installed(ctx, clients.Kube, ns, m); errors.Is(err, adminstep.ErrUnknownInstalled) {
		return fmt.Errorf("%w in namespace %s: give the installed release with --from", err, ns)
	} else if err != nil {
		return err
	}
	path, err := m.Path(from, to)
	if err != nil {
		return fmt.Errorf("--to %s: %w", to.Name, err)
	}
	vals, err := values.LoadContext(ctx, o.Steps.ValueFiles)
	if err != nil {
		return err
	}
	cfg := adminstep.Config{Path: path, Namespace: ns, Source: adminstep.Cached(src), Values: vals, DryRun: o.DryRun, Force: o.ForceConflicts}
	cfg.AfterVersion = afterVersion
	deps := adminstep.Deps{Kube: clients.Kube, Dynamic: clients.Dynamic}
	if o.DryRun != prereq.DryRunClient {
		// Built without a request: a run with nothing to do makes no review either.
		deps.Reviewer = rbac.SelfReviewer{Client: clients.Kube}
	}
	fmt.Fprintf(o.ErrOut, "Cluster-admin steps of %s (namespace %s), manifests from %s\n", hopNames(path), ns, src.Describe())
	res, err := adminstep.Apply(ctx, deps, cfg)
	if res != nil {
		if werr := o.writeSteps(o.Out, res); werr != nil {
			return werr
		}
	}
	var pe *adminstep.PermissionError
	switch {
	case errors.As(err, &pe):
		return fmt.Errorf("%w; run prereqs apply --to as a cluster administrator", err)
	case err != nil:
		return err
	case res.Conflict:
		return cli.Failed(errors.New("a field owned by another field manager stopped the run (above): review the change with --dry-run=server, then re-run with --force-conflicts to take it over"))
	case res.Failed():
		return cli.Silent
	}
	return nil
}

func hopNames(path []manifest.Hop) string {
	if len(path) == 0 {
		return "no hop (already installed)"
	}
	names := []string{"∅"}
	if path[0].From != nil {
		names[0] = path[0].From.Name
	}
	for _, h := range path {
		names = append(names, h.To.Name)
	}
	return strings.Join(names, " → ")
}

func (o *PrereqsOptions) writeSteps(w io.Writer, res *adminstep.Result) error {
	if !o.format.IsTable() {
		return cli.WriteData(w, o.format, res)
	}
	w, done := cli.Fit(w, o.format)
	defer done()
	for _, s := range res.Steps {
		fmt.Fprintf(w, "%s %s: %s\n", s.Hop, s.ID, s.Description)
		fmt.Fprintf(w, "  before: %s\n", s.Before)
		if s.Note != "" {
			fmt.Fprintf(w, "  %s\n", s.Note)
		}
		last := ""
		for _, c := range s.Changes {
			if c.Version != last && c.Version != "" {
				fmt.Fprintf(w, "  version %s:\n", c.Version)
				last = c.Version
			}
			obj := c.Kind + " " + c.Name
			if c.Namespace != "" {
				obj += " (namespace " + c.Namespace + ")"
			}
			line := fmt.Sprintf("    %s: %s", obj, c.Action)
			if c.Message != "" {
				line += ": " + c.Message
			}
			fmt.Fprintln(w, line)
			if c.Diff != "" {
				fmt.Fprint(w, indent(c.Diff, "      "))
			}
		}
		if s.After != "" {
			fmt.Fprintf(w, "  after: %s\n", s.After)
		}
		if s.Failed != "" {
			fmt.Fprintf(w, "  FAILED: %s\n", s.Failed)
		}
	}
	switch {
	case res.NothingToDo:
		fmt.Fprintln(w, "\nNothing to do: every cluster-admin step is done (no change was made).")
	case o.DryRun != prereq.DryRunNone:
		fmt.Fprintf(w, "\nDry run (%s): nothing was changed.\n", o.DryRun)
	default:
		fmt.Fprintf(w, "\n%d object(s) created or configured.\n", res.Applied)
	}
	return nil
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return pre + strings.Join(lines, "\n"+pre) + "\n"
}
