package helmtpe

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/fleetcmd"
	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// PlanOptions are the options of `helm tpe plan`.
type PlanOptions struct {
	Target     targetFlags
	Repo       repoFlags
	ValueFiles []string
	Output     string
	Color      string
	// From plans from this release without a cluster; KubeVersion is the cluster's version to
	// judge each hop's Kubernetes range by; ChartDir holds the target's charts.
	From        string
	KubeVersion string
	ChartDir    string
	// Fleet chooses several installations (--context repeated, --all-contexts, --fleet).
	Fleet fleetcmd.Flags

	env    *Env
	format cli.Format
	genericiooptions.IOStreams
}

// NewCmdPlan builds `helm tpe plan`.
func NewCmdPlan(env *Env) *cobra.Command {
	o := &PlanOptions{Output: "table", Color: "auto", env: env, IOStreams: env.Streams}
	cmd := &cobra.Command{
		Use:   "plan --to RELEASE|--bundle FILE [--from RELEASE] [-f VALUES]...",
		Short: "Show how to get from the installed TPE release to another one, and what blocks it",
		Long: templates.LongDesc(`
			Show the plan from what is installed in the namespace to the target release, changing nothing.

			The four Helm releases (tpe-data-controllers, tpe-data, tpe-controllers, tpe) are matched with
			the release matrix; a namespace without them means a fresh install. The path follows the
			vendor's rules: a major upgrade only from the latest fix of the previous line, one line at a
			time, never backwards (from v7.1.2 to v7.3.1: v7.1.3a → v7.2.2c → v7.3.1).

			For every hop the plan lists each chart's from/to version (including the rename of chart 3 in
			7.2.2), the cluster-admin steps the hop needs and whether they are done (7.2 → 7.3: the Strimzi
			and Percona MongoDB CRD upgrades, the PriorityClasses and StorageClasses 7.3 moved out of the
			charts), and the Kubernetes range against the cluster's version (older: blocks; newer: warns).
			It lists the downtime impacts of an upgrade, and checks the values files (-f) against the
			target charts' values.yaml and values.schema.json: keys the new charts no longer know and
			required keys that are missing (the charts are fetched from the repository of "helm tpe repo add").

			--from RELEASE plans without a cluster, e.g. on a laptop before a maintenance window: the
			namespace is taken to run that release, no kubeconfig is read and no cluster is contacted.
			The plan is the same, except that the cluster-admin steps cannot be checked (they are listed
			as to do) and the Kubernetes range is judged against --kube-version when given. --chart-dir
			DIR checks the values against the charts in DIR (packed .tgz or unpacked, as "helm pull"
			leaves them) instead of the repository's. --bundle FILE takes the target (unless --to names
			one) and the charts from a release bundle ("helm tpe bundle create"): nothing is downloaded.

			Several installations at once: --context A --context B, --all-contexts or --fleet FILE (a
			YAML list of {name, kubeconfig, context, namespace}). Each installation's path to the target,
			what blocks it and its cluster-admin steps still to do, then a summary ("3 of 5 can go to
			v8.0.0 now; 1 needs v7.3.6 first; 1 unreachable or unreadable"). They are read at most
			--concurrency at a time, each within --timeout-per-installation; one that cannot be read is a
			row with its error. A single --context is --kube-context.

			Exit codes: 0 the plan can run, 2 the target cannot be reached (a failed check says why), 1 error
			(with several installations: one could not be read).`),
		Example: templates.Examples(`
			# What an upgrade to 7.3.1 involves
			helm tpe plan --to v7.3.1 -n thingpark-enterprise

			# Check your values files against the 7.3.1 charts too
			helm tpe plan --to v7.3.1 -f values-data-stack.yaml -f values-thingpark-stack.yaml

			# As JSON for a pipeline
			helm tpe plan --to v7.3.1 -o json

			# Without access to the cluster: the customer runs 7.2.2c on Kubernetes 1.27.3
			helm tpe plan --from v7.2.2c --to v7.3.1 --kube-version v1.27.3 -f values.yaml --chart-dir ./charts

			# At a site without internet access: the target and the charts from a release bundle
			helm tpe plan --bundle tpe-v7.3.1.tar.gz -f values.yaml

			# Every site of a fleet file: which can go to 8.0 now
			helm tpe plan --to v8.0.0 --fleet sites.yaml`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.format, err = cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML); err != nil {
				return err
			}
			if o.useFleet() {
				return o.runFleet(cmd)
			}
			p, err := o.Compute(cmd.Context(), func() string { return o.offlineNamespace(cmd) })
			if err != nil {
				return err
			}
			if err := writePlan(o.Out, o.format, p, cli.UseColor(o.Out, o.Color)); err != nil {
				return err
			}
			if p.Report.Worst() == check.Fail {
				return cli.Silent
			}
			return nil
		},
	}
	o.Target.add(cmd, false)
	o.Repo.add(cmd)
	o.Repo.addBundle(cmd)
	cmd.Flags().StringArrayVarP(&o.ValueFiles, "values", "f", nil, "values files to check against the target charts (repeatable)")
	cmd.Flags().StringVar(&o.From, "from", "", "plan from this `RELEASE` without a cluster (a tag of helm tpe releases): no kubeconfig is read")
	cmd.Flags().StringVar(&o.KubeVersion, "kube-version", "", "judge each hop's Kubernetes range against this version (e.g. v1.27.3) instead of the cluster's")
	cmd.Flags().StringVar(&o.ChartDir, "chart-dir", "", "directory holding the target's four charts (.tgz or unpacked) to check the values against, instead of the repository")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, json or yaml")
	cli.ColorFlag(cmd.Flags(), &o.Color)
	cmd.Flags().StringArrayVar(&o.Fleet.Contexts, fleetcmd.FlagContext, nil, fleetcmd.ContextUsage+" (one: as --kube-context)")
	o.Fleet.Add(cmd.Flags())
	return cmd
}

// Validate checks the flags that need no cluster.
func (o *PlanOptions) Validate() (prereq.ServerVersion, error) {
	var sv prereq.ServerVersion
	if o.KubeVersion != "" {
		sv = prereq.ServerVersion{GitVersion: o.KubeVersion}
		if _, _, ok := sv.Parse(); !ok {
			return sv, fmt.Errorf("--kube-version %q is not a Kubernetes version (want e.g. v1.27.3)", o.KubeVersion)
		}
	}
	if err := o.Repo.validateSource(&o.Target, o.ChartDir); err != nil {
		return sv, err
	}
	return sv, nil
}

// Compute builds the plan (plan.Run) from the cluster (what is installed) or, with --from, from a
// release of the matrix without a cluster. The charts are read (to check the values against them)
// only when values files are given: from --chart-dir, else the repository.
func (o *PlanOptions) Compute(ctx context.Context, namespace func() string) (*plan.Plan, error) {
	d, cfg, notes, err := o.request(ctx)
	if err != nil {
		return nil, err
	}
	if o.From != "" {
		// No cluster: no client is built, so no kubeconfig is needed.
		cfg.Namespace = namespace()
		return o.run(ctx, d, cfg, notes)
	}
	cl, err := o.env.Cluster(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w (to plan without a cluster, pass --from with the release it runs)", err)
	}
	d, cfg.Namespace = o.clusterDeps(d, cl), cl.Namespace
	return o.run(ctx, d, cfg, notes)
}

// request is what every plan of this command shares, whatever installation it reads: the
// checked flags, the target (and --from) resolved once, where the charts come from, and the
// notes of what the release names resolved to.
func (o *PlanOptions) request(ctx context.Context) (plan.Deps, plan.Config, []string, error) {
	sv, err := o.Validate()
	if err != nil {
		return plan.Deps{}, plan.Config{}, nil, err
	}
	m, to, err := o.Repo.target(ctx, o.env, &o.Target, o.ErrOut)
	if err != nil {
		return plan.Deps{}, plan.Config{}, nil, err
	}
	cfg := plan.Config{Matrix: m, To: to, ValueFiles: o.ValueFiles, ChartDir: o.ChartDir, NeedCharts: o.Repo.Bundle != ""}
	notes := []string{o.Target.Note}
	if o.From != "" {
		from, note, err := installed(m, o.From)
		if err != nil {
			return plan.Deps{}, plan.Config{}, nil, err
		}
		cfg.From, notes = &from, append(notes, note)
	}
	d := plan.Deps{Server: sv, Charts: func(v values.Values) (charts.Source, error) {
		hideValues(o.ErrOut, v)
		return o.Repo.source(o.env, v, nil, o.ErrOut)
	}}
	return d, cfg, notes, nil
}

// clusterDeps adds what a plan reads from the cluster cl: Helm's history, the clients, the
// vendor's admin manifests, and the cluster's version unless --kube-version gives it.
func (o *PlanOptions) clusterDeps(d plan.Deps, cl *Cluster) plan.Deps {
	d.Helm, d.Kube, d.Dynamic, d.Admin = cl.Action, cl.Clients.Kube, cl.Clients.Dynamic, o.Repo.adminSource()
	if o.KubeVersion == "" {
		d.Server = o.env.serverVersion(cl)
	}
	return d
}

// run is plan.Run, its errors and warnings worded with this command's flags, and the notes added.
func (o *PlanOptions) run(ctx context.Context, d plan.Deps, cfg plan.Config, notes []string) (*plan.Plan, error) {
	out, err := plan.Run(ctx, d, cfg)
	var cde *plan.ChartDirError
	switch {
	case errors.As(err, &cde):
		return nil, fmt.Errorf("--chart-dir: %w", err)
	case err != nil:
		return nil, err
	}
	if len(o.ValueFiles) > 0 {
		hideValues(o.ErrOut, out.Values)
	}
	switch {
	case out.ChartDirUnused:
		fmt.Fprintln(o.ErrOut, "warning: --chart-dir is only read to check values files (-f): none given")
	case out.ChartsErr != nil:
		fmt.Fprintf(o.ErrOut, "warning: the values are not checked against the charts: %v\n", out.ChartsErr)
	}
	for _, n := range notes {
		out.Plan.Report.Note(n)
	}
	return out.Plan, nil
}

// offlineNamespace is the namespace of a plan without a cluster: -n (or HELM_NAMESPACE, which
// Helm sets from it), else the namespace of the vendor's documents; the kubeconfig is not read.
func (o *PlanOptions) offlineNamespace(cmd *cobra.Command) string {
	return offlineNamespace(o.env, cmd)
}
