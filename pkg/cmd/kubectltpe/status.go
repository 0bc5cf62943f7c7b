package kubectltpe

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/fleetcmd"
	"github.com/thingpark-tools/kubectl-tpe/pkg/kube"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
	"github.com/thingpark-tools/kubectl-tpe/pkg/status"
)

var (
	statusLong = `
		Answer "is my TPE healthy, and which release is it?" on one screen:

		* the four Helm releases of the namespace (chart, version, revision, status), read from
		  Helm's release storage, and the TPE release they match in the embedded release matrix,
		  or "mixed/unknown" naming the chart that differs;
		* StatefulSets and Deployments ready, PVCs bound, pods that are not ready with their
		  reason, and recent warning events;
		* the verdict of the post-upgrade manager (skipped when you may not exec into pods);
		* the address of the ingress LoadBalancer and whether it exposes the inbound ports of the
		  prerequisites (443, 3001, 3101, 3002, 2022);
		* the backup CronJob and its last successful run.

		Each kind is listed once, so the number of API requests does not grow with the number of
		pods. A section you may not read is shown as skipped instead of failing the command.

		With --watch, each kind is listed once and then followed with watch events (as "kubectl
		tpe wait" does): a refresh sends no request. The dashboard is redrawn in place on a
		terminal; otherwise one block is printed per change. The post-upgrade status has no
		watch: it is read again when deploy/pum or Job pum-process change, and every --interval
		while the procedure is in progress.
		-o json|yaml use the same schema as "kubectl tpe preflight" plus a "release" section.

		Several installations at once: --context A --context B, --all-contexts (every context
		of the kubeconfig) or --fleet FILE (a YAML list of {name, kubeconfig, context,
		namespace}). One row each: cluster, namespace, TPE release, health, post-upgrade
		verdict, last successful backup, Kubernetes version; then the failing checks of each.
		They are read with each context's own credentials, at most --concurrency at a time,
		each within --timeout-per-installation; one that does not answer, refuses the
		credentials or takes too long is a row with its error, and the exit code is 1.

		Exit codes: 0 healthy (warnings allowed), 2 something is unhealthy, 1 error.`

	statusExample = templates.Examples(`
		# Show the dashboard of the TPE installation in thingpark-enterprise
		%[1]s status

		# As JSON, for a monitoring script
		%[1]s status -n thingpark-enterprise -o json

		# Follow the dashboard until Ctrl-C (redrawn on every change)
		%[1]s status --watch

		# Every installation of the kubeconfig, one row each
		%[1]s status --all-contexts

		# The sites of a fleet file, as JSON for a dashboard
		%[1]s status --fleet sites.yaml -o json`)
)

// StatusOptions are the options of `kubectl tpe status`.
type StatusOptions struct {
	Output   string
	Watch    bool
	Interval time.Duration
	Color    string

	// Fleet chooses several installations (--context repeated, --all-contexts, --fleet).
	Fleet fleetcmd.Flags

	Namespace string
	Client    kubernetes.Interface
	Exec      podexec.Executor
	Counter   *kube.RequestCounter
	format    cli.Format

	genericiooptions.IOStreams
}

// NewStatusOptions returns the defaults.
func NewStatusOptions(streams genericiooptions.IOStreams) *StatusOptions {
	return &StatusOptions{Output: "table", Interval: 5 * time.Second, Color: "auto", IOStreams: streams}
}

// NewCmdStatus builds `kubectl tpe status`.
func NewCmdStatus(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewStatusOptions(streams)
	cmd := &cobra.Command{
		Use:     "status [-o table|json|yaml] [--watch]",
		Short:   "Show which TPE release is installed and whether it is healthy",
		Long:    statusLong,
		Example: fmt.Sprintf(statusExample, DisplayName),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Fleet.Contexts = fleetcmd.Contexts(cmd); o.Fleet.Active() {
				if err := o.Validate(); err != nil {
					return err
				}
				return o.runFleet(cmd.Context(), cmd)
			}
			if err := o.Complete(cmd.Context(), f); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.Fleet.Add(cmd.Flags())
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, json or yaml")
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", o.Watch, "follow changes with watches until interrupted: redraw in place on a terminal, else one block per change")
	cmd.Flags().DurationVar(&o.Interval, "interval", o.Interval, "with --watch, how often ages are refreshed and the post-upgrade status is read again while in progress")
	cli.ColorFlag(cmd.Flags(), &o.Color)
	return cmd
}

// Complete builds the clients.
func (o *StatusOptions) Complete(ctx context.Context, f cmdutil.Factory) error {
	if o.Client != nil {
		return nil
	}
	c, err := clientsFor(ctx, f, o.ErrOut)
	if err != nil {
		return err
	}
	o.Client, o.Namespace, o.Counter = c.Kube, c.TPENamespace(), c.Counter
	o.Exec = podexec.Kube{Client: c.Kube, Config: c.Config}
	return nil
}

// Validate checks the flags.
func (o *StatusOptions) Validate() error {
	var err error
	if o.format, err = cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML); err != nil {
		return err
	}
	if err := cli.ValidColor(o.Color); err != nil {
		return err
	}
	if err := o.Fleet.Validate(); err != nil {
		return err
	}
	if o.Watch && o.Interval <= 0 {
		return fmt.Errorf("--interval must be positive with --watch")
	}
	return nil
}

// Run collects and prints the dashboard (repeatedly with --watch).
func (o *StatusOptions) Run(ctx context.Context) error {
	cfg := status.Config{Namespace: o.Namespace, Client: o.Client, Exec: o.Exec}
	if o.Watch {
		return o.watch(ctx, cfg)
	}
	start := time.Now()
	d, err := status.Collect(ctx, cfg)
	if err != nil {
		return err
	}
	if err := o.print(o.Out, d); err != nil {
		return err
	}
	if o.Counter != nil && klog.V(1).Enabled() {
		fmt.Fprintf(o.ErrOut, "status: %d API requests, %s\n", o.Counter.Total(), time.Since(start).Round(time.Millisecond))
	}
	if d.Worst() == check.Fail {
		return cli.Silent
	}
	return nil
}

// watch lists once, then redraws on every change from watch events (status.Watch): in place on
// a terminal, else one block per change (a dashboard equal to the last one is not printed).
func (o *StatusOptions) watch(ctx context.Context, cfg status.Config) error {
	inPlace := o.format == cli.FormatTable && cli.IsTerminal(o.Out)
	var last string
	var worst check.Status
	blocks := 0
	err := status.Watch(ctx, cfg, status.WatchConfig{Interval: o.Interval, RefreshAges: inPlace}, func(d *status.Dashboard) error {
		var buf bytes.Buffer
		if err := o.print(&buf, d); err != nil {
			return err
		}
		worst = d.Worst()
		if buf.String() == last {
			return nil
		}
		last = buf.String()
		switch {
		case inPlace:
			o.redraw(blocks == 0, buf.String())
		case blocks > 0 && o.format == cli.FormatTable:
			fmt.Fprintf(o.Out, "--- %s\n", time.Now().UTC().Format(time.RFC3339))
		case blocks > 0 && o.format == cli.FormatYAML:
			fmt.Fprintln(o.Out, "---")
		}
		if !inPlace {
			fmt.Fprint(o.Out, buf.String())
		}
		blocks++
		if o.Counter != nil && klog.V(1).Enabled() {
			fmt.Fprintf(o.ErrOut, "status: %d API requests since the start\n", o.Counter.Total())
		}
		return nil
	})
	if err != nil {
		return err
	}
	if worst == check.Fail {
		return cli.Silent
	}
	return nil
}

// redraw replaces the screen's content with text without clearing it first (no flicker): home,
// each line followed by "erase to the end of the line", then "erase below".
func (o *StatusOptions) redraw(first bool, text string) {
	var b strings.Builder
	if first {
		b.WriteString("\x1b[H\x1b[2J")
	} else {
		b.WriteString("\x1b[H")
	}
	b.WriteString(strings.ReplaceAll(text, "\n", "\x1b[K\n"))
	b.WriteString("\x1b[J")
	fmt.Fprint(o.Out, b.String())
}

func (o *StatusOptions) print(w io.Writer, d *status.Dashboard) error {
	if o.format != cli.FormatTable {
		return cli.WriteData(w, o.format, d)
	}
	color := cli.UseColor(w, o.Color)
	rel := d.Release.Name
	if !d.Release.Readable {
		rel += " (Helm's release storage is not readable)"
	}
	if len(d.Release.Also) > 0 {
		rel += " (= " + strings.Join(d.Release.Also, ", ") + ")"
	}
	if d.Release.RolledBackFrom != "" {
		rel += " (tpe rolled back from " + d.Release.RolledBackFrom + ")"
	}
	fmt.Fprintf(w, "TPE in namespace %s: release %s\n", d.Namespace, rel)
	if len(d.Release.Helm) > 0 {
		t := cli.NewTable(w, "RELEASE", "CHART", "VERSION", "APP VERSION", "REVISION", "STATUS", "UPDATED")
		for _, r := range d.Release.Helm {
			upd := ""
			if !r.Updated.IsZero() {
				upd = r.Updated.UTC().Format(time.RFC3339)
			}
			t.Row(r.Name, r.Chart, r.ChartVersion, r.AppVersion, fmt.Sprint(r.Revision), r.Status, upd)
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	return check.Write(w, cli.FormatTable, &d.Report, color)
}
