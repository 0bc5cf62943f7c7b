package kubectltpe

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/fleetcmd"
	"github.com/thingpark-tools/kubectl-tpe/pkg/fleet"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
	"github.com/thingpark-tools/kubectl-tpe/pkg/status"
)

// FleetStatus is `kubectl tpe status` over several installations (-o json|yaml): one row each.
type FleetStatus struct {
	Kind          string      `json:"kind"`
	Installations []StatusRow `json:"installations"`
	Summary       FleetCount  `json:"summary"`
}

// FleetCount counts the rows of a fleet run by outcome.
type FleetCount struct {
	Total int `json:"total"`
	// OK rows pass (warnings allowed), Failed rows have a failed check, Unreadable rows an error.
	OK         int `json:"ok"`
	Failed     int `json:"failed"`
	Unreadable int `json:"unreadable"`
}

// StatusRow is one installation of a fleet status.
type StatusRow struct {
	fleet.Outcome
	// Release is the TPE release the Helm releases match (status.Dashboard's release name).
	Release string `json:"release,omitempty"`
	// Health is the worst status of the dashboard's checks (pass, warn, fail, skip).
	Health               check.Status   `json:"health,omitempty"`
	PostUpgrade          string         `json:"postUpgrade,omitempty"`
	LastSuccessfulBackup *time.Time     `json:"lastSuccessfulBackup,omitempty"`
	Checks               *check.Summary `json:"checks,omitempty"`
	// Failing are the checks that fail or warn.
	Failing []check.Check `json:"failing,omitempty"`
}

// fleetNamespace is -n when given on the command line ("" otherwise: each context's).
func fleetNamespace(cmd *cobra.Command) string {
	if f := cmd.Flag("namespace"); f != nil && f.Changed {
		return f.Value.String()
	}
	return ""
}

// fleetRun resolves the installations of the command's flags and returns them with the run's
// configuration.
func fleetRun(ctx context.Context, cmd *cobra.Command, fl *fleetcmd.Flags, out io.Writer) ([]fleet.Installation, fleet.Config, error) {
	kubeconfig := ""
	if f := cmd.Flag("kubeconfig"); f != nil {
		kubeconfig = f.Value.String()
	}
	var rt time.Duration
	if f := cmd.Flag("request-timeout"); f != nil {
		var err error
		if rt, err = fleetcmd.ParseRequestTimeout(f.Value.String()); err != nil {
			return nil, fleet.Config{}, err
		}
	}
	ins, err := fleet.Resolve(ctx, fl.Selection(kubeconfig, fleetNamespace(cmd)))
	if err != nil {
		return nil, fleet.Config{}, fleetcmd.ResolveError(err)
	}
	cfg := fl.Config(rt, redact.Of(out).String)
	// --as and --as-group act on every installation, as on one.
	if f := cmd.Flag("as"); f != nil {
		cfg.Impersonate.UserName = f.Value.String()
	}
	cfg.Impersonate.Groups, _ = cmd.Flags().GetStringArray("as-group")
	return ins, cfg, nil
}

// runFleet is status over several installations: status.Collect on each, as the single-cluster
// command calls it.
func (o *StatusOptions) runFleet(ctx context.Context, cmd *cobra.Command) error {
	if o.Watch {
		return fmt.Errorf("--watch follows one installation: drop it, or give a single --context")
	}
	ins, cfg, err := fleetRun(ctx, cmd, &o.Fleet, o.Out)
	if err != nil {
		return err
	}
	m := manifest.MustLoad() // parsed once for every installation
	rs := fleet.Run(ctx, ins, cfg, func(ctx context.Context, t *fleet.Target) (*status.Dashboard, error) {
		d, err := status.Collect(ctx, status.Config{Namespace: t.Namespace, Client: t.Clients.Kube, Matrix: m,
			Exec: podexec.Kube{Client: t.Clients.Kube, Config: t.Clients.Config}})
		if err == nil && d.Summary.Total > 0 && d.Summary.Skip == d.Summary.Total {
			// Nothing could be read: a row of skipped sections would look healthy.
			return nil, &fleet.ForbiddenError{Namespace: t.Namespace}
		}
		return d, err
	})
	doc := fleetStatus(rs)
	table := func() error { return writeFleetStatus(o.Out, doc, cli.UseColor(o.Out, o.Color)) }
	if err := fleetcmd.Print(o.Out, o.format, doc, table); err != nil {
		return err
	}
	return fleetcmd.Exit(doc.Summary.Unreadable, doc.Summary.Failed, doc.Summary.Total)
}

func fleetStatus(rs []fleet.Result[*status.Dashboard]) *FleetStatus {
	doc := &FleetStatus{Kind: "FleetStatus", Installations: []StatusRow{}}
	for _, r := range rs {
		row := StatusRow{Outcome: r.Outcome}
		doc.Summary.Total++
		if d := r.Value; r.Error == nil && d != nil {
			row.Release, row.Health, row.PostUpgrade, row.LastSuccessfulBackup = d.Release.Name, d.Worst(), d.PostUpgrade, d.LastSuccessfulBackup
			sum := d.Summary
			row.Checks = &sum
			row.Failing = failing(&d.Report)
		}
		switch {
		case r.Error != nil:
			doc.Summary.Unreadable++
		case row.Health == check.Fail:
			doc.Summary.Failed++
		default:
			doc.Summary.OK++
		}
		doc.Installations = append(doc.Installations, row)
	}
	return doc
}

// failing returns the checks of r that fail or warn.
func failing(r *check.Report) []check.Check {
	var out []check.Check
	for _, c := range r.ByCategory() {
		if c.Status == check.Fail || c.Status == check.Warn {
			out = append(out, c)
		}
	}
	return out
}

// healthWord is the HEALTH cell of a status row.
func healthWord(s check.Status, color bool) string {
	switch s {
	case check.Pass:
		return check.Symbol(check.Pass, color) + " healthy"
	case check.Warn:
		return check.Symbol(check.Warn, color) + " warnings"
	case check.Fail:
		return check.Symbol(check.Fail, color) + " unhealthy"
	}
	return check.Symbol(s, color)
}

func writeFleetStatus(w io.Writer, doc *FleetStatus, color bool) error {
	t := cli.NewTable(w, "INSTALLATION", "CLUSTER", "NAMESPACE", "TPE RELEASE", "HEALTH", "POST-UPGRADE", "LAST BACKUP", "KUBERNETES")
	for _, r := range doc.Installations {
		if r.Error != nil {
			t.Row(r.Name, fleetcmd.OrDash(r.Cluster), fleetcmd.OrDash(r.Namespace), "-", fleetcmd.Cell(r.Error), "-", "-", fleetcmd.OrDash(r.KubernetesVersion))
			continue
		}
		backup := "-"
		if r.LastSuccessfulBackup != nil {
			backup = r.LastSuccessfulBackup.UTC().Format(time.RFC3339)
		}
		t.Row(r.Name, r.Cluster, r.Namespace, r.Release, healthWord(r.Health, color), fleetcmd.OrDash(r.PostUpgrade), backup, fleetcmd.OrDash(r.KubernetesVersion))
	}
	if err := t.Render(); err != nil {
		return err
	}
	if err := writeFleetProblems(w, rowsOf(doc.Installations), color); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d installation(s): %d healthy or with warnings, %d unhealthy, %d could not be read\n",
		doc.Summary.Total, doc.Summary.OK, doc.Summary.Failed, doc.Summary.Unreadable)
	return nil
}

// fleetRow is what the problems section needs of a row.
type fleetRow struct {
	outcome fleet.Outcome
	failing []check.Check
}

func rowsOf(rs []StatusRow) []fleetRow {
	out := make([]fleetRow, len(rs))
	for i, r := range rs {
		out[i] = fleetRow{outcome: r.Outcome, failing: r.Failing}
	}
	return out
}

// writeFleetProblems writes, installation by installation, its error or its failing checks.
func writeFleetProblems(w io.Writer, rows []fleetRow, color bool) error {
	for _, r := range rows {
		if r.outcome.Error == nil && len(r.failing) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n== %s (context %s, namespace %s)\n", r.outcome.Name, fleetcmd.OrDash(r.outcome.Context), fleetcmd.OrDash(r.outcome.Namespace))
		if e := r.outcome.Error; e != nil {
			fmt.Fprintf(w, "%s: %s\n", e.Kind, e.Message)
			continue
		}
		t := cli.NewTable(w, "STATUS", "CHECK", "MESSAGE")
		for _, c := range r.failing {
			msg := c.Message
			for _, d := range c.Details {
				msg += "\n  - " + d
			}
			t.Row(check.Symbol(c.Status, color), c.ID, msg)
		}
		if err := t.Render(); err != nil {
			return err
		}
		for _, c := range r.failing {
			if c.Remediation != "" {
				fmt.Fprintf(w, "  to fix %s: %s\n", c.ID, c.Remediation)
			}
		}
	}
	return nil
}
