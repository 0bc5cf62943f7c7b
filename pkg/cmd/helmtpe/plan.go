package helmtpe

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/fleetcmd"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
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
	// fleet, when set, receives the plan's input instead of one cluster's (plan_fleet.go).
	fleet func(ctx context.Context, in plan.Input, noted func(*plan.Plan) *plan.Plan) error
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
			if o.useFleet(cmd) {
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

// Compute builds the plan from the cluster (what is installed) or, with --from, from a release of
// the matrix without a cluster. The charts are read (to check the values against them) only when
// values files are given: from --chart-dir, else the repository.
func (o *PlanOptions) Compute(ctx context.Context, namespace func() string) (*plan.Plan, error) {
	sv, err := o.Validate()
	if err != nil {
		return nil, err
	}
	m, to, err := o.Repo.target(ctx, o.env, &o.Target, o.ErrOut)
	if err != nil {
		return nil, err
	}
	var from manifest.Release
	notes := []string{o.Target.Note}
	if o.From != "" {
		var note string
		if from, note, err = installed(m, o.From); err != nil {
			return nil, err
		}
		notes = append(notes, note)
	}
	noted := func(p *plan.Plan) *plan.Plan {
		for _, n := range notes {
			p.Report.Note(n)
		}
		return p
	}
	vals, err := values.LoadContext(ctx, o.ValueFiles)
	if err != nil {
		return nil, err
	}
	in := plan.Input{Matrix: m, To: to, ValueFiles: o.ValueFiles, Server: sv}
	if len(o.ValueFiles) > 0 {
		hideValues(o.ErrOut, vals)
		if o.ChartDir != "" {
			// Charts the user named and plan cannot use are bad input, as for images: an
			// error, not a skipped check.
			dir := &charts.Dir{Path: o.ChartDir}
			for _, c := range to.Charts() {
				if _, err := dir.LoadChart(c.Chart, c.Version); err != nil {
					return nil, fmt.Errorf("--chart-dir: %w: give the directory of %s's four charts (helm pull them, or unpack a release bundle)", err, to.Name)
				}
			}
			in.Charts = dir
		} else if repo, err := o.Repo.source(o.env, vals, nil, o.ErrOut); err != nil {
			fmt.Fprintf(o.ErrOut, "warning: the values are not checked against the charts: %v\n", err)
		} else {
			in.Charts = repo
		}
	} else if o.ChartDir != "" {
		fmt.Fprintln(o.ErrOut, "warning: --chart-dir is only read to check values files (-f): none given")
	} else if o.Repo.Bundle != "" {
		// Without values the charts are not read, but the bundle must still hold every release of
		// the path (the plan's bundle check), as with values.
		if in.Charts, err = o.Repo.source(o.env, vals, nil, o.ErrOut); err != nil {
			return nil, err
		}
	}
	in.Values = vals
	if o.From != "" {
		// No cluster: no client is built, so no kubeconfig is needed.
		in.State = plan.StateOf(m, from, namespace())
		return noted(plan.New(ctx, in)), nil
	}
	if o.fleet != nil {
		// Several installations: planOn for each (plan_fleet.go).
		return nil, o.fleet(ctx, in, noted)
	}
	cl, err := o.env.Cluster(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w (to plan without a cluster, pass --from with the release it runs)", err)
	}
	p, err := o.planOn(ctx, cl, in)
	if err != nil {
		return nil, err
	}
	return noted(p), nil
}

// planOn is the plan of the installation of cl: what is installed, the cluster-admin steps, the
// cluster's version.
func (o *PlanOptions) planOn(ctx context.Context, cl *Cluster, in plan.Input) (*plan.Plan, error) {
	var err error
	if in.State, err = plan.LoadState(cl.Action, cl.Namespace, in.Matrix); err != nil {
		return nil, err
	}
	in.Kube, in.Dynamic = cl.Clients.Kube, cl.Clients.Dynamic
	if in.Admin == nil {
		in.Admin = o.Repo.adminSource()
	}
	if o.KubeVersion == "" {
		in.Server = o.env.serverVersion(cl)
	}
	return planEntry(ctx, in), nil
}

// offlineNamespace is the namespace of a plan without a cluster: -n (or HELM_NAMESPACE, which
// Helm sets from it), else the namespace of the vendor's documents; the kubeconfig is not read.
func (o *PlanOptions) offlineNamespace(cmd *cobra.Command) string {
	return offlineNamespace(o.env, cmd)
}

func stepMark(s plan.AdminStatus, offline bool) string {
	switch {
	case s == plan.AdminDone:
		return "done"
	case s == plan.AdminTodo:
		return "TO DO"
	case offline:
		return "to do"
	}
	return "unknown"
}

func writePlan(w io.Writer, f cli.Format, p *plan.Plan, color bool) error {
	if f != cli.FormatTable {
		return cli.WriteData(w, f, p)
	}
	installed := p.Installed
	if installed == "" {
		installed = "nothing (fresh namespace)"
		if len(p.InstalledRefs) > 0 {
			installed = "no known release"
		}
	}
	if p.Offline {
		installed += " (given; no cluster was read)"
	}
	fmt.Fprintf(w, "Namespace:  %s\nInstalled:  %s\nTarget:     %s\n", p.Namespace, installed, p.Target)
	if p.ServerVersion != "" {
		fmt.Fprintf(w, "Kubernetes: %s\n", p.ServerVersion)
	}
	switch {
	case p.Action == plan.ActionDowngrade:
		fmt.Fprintf(w, "Action:     downgrade, which no upgrade does: roll back (helm tpe rollback) or restore from a backup\n")
	case !p.Reachable:
		fmt.Fprintf(w, "Action:     none: the target cannot be reached: %s\n", p.Reason)
	case p.Action == plan.ActionNone:
		fmt.Fprintf(w, "Action:     none (already installed)\n")
	default:
		fmt.Fprintf(w, "Action:     %s in %d hop(s)\n", p.Action, len(p.Hops))
	}
	for _, h := range p.Hops {
		from := h.From
		if from == "" {
			from = "∅"
		}
		fmt.Fprintf(w, "\nHop %d: %s → %s (%s), Kubernetes %s–%s\n", h.N, from, h.To, h.Kind, h.Kubernetes.Min, h.Kubernetes.Max)
		t := cli.NewTable(w, "  STEP", "HELM RELEASE", "CHART", "FROM", "TO", "ACTION")
		for _, c := range h.Charts {
			fromV := "-"
			if c.FromVersion != "" {
				fromV = c.FromVersion
				if c.Renamed {
					fromV = c.FromChart + " " + c.FromVersion
				}
			}
			action := string(c.Action)
			if c.Renamed {
				action += " (chart renamed)"
			}
			t.Row(fmt.Sprintf("  %d", c.Step), c.ReleaseName, c.Chart, fromV, c.Version, action)
		}
		if err := t.Render(); err != nil {
			return err
		}
		if len(h.AdminSteps) > 0 {
			fmt.Fprintln(w, "  Cluster-admin steps:")
			for _, s := range h.AdminSteps {
				line := fmt.Sprintf("    [%s] %s", stepMark(s.Status, p.Offline), s.Description)
				if s.Detail != "" {
					line += " (" + s.Detail + ")"
				}
				if s.NeedsAck {
					line += " — the plan cannot verify it: install/upgrade need --ack-admin-steps"
				}
				fmt.Fprintln(w, line)
			}
			if h.AdminNote != "" {
				fmt.Fprintln(w, "    ("+h.AdminNote+")")
			}
		}
	}
	if len(p.Downtime) > 0 {
		fmt.Fprintln(w, "\nDuring the upgrade (the TPE upgrade procedure lists these impacts):")
		for _, d := range p.Downtime {
			fmt.Fprintln(w, "  - "+d)
		}
	}
	fmt.Fprintln(w)
	return check.Write(w, cli.FormatTable, p.Report, color)
}
