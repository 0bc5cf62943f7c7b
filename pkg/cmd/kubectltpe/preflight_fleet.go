package kubectltpe

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/fleetcmd"
	"github.com/thingpark-tools/kubectl-tpe/pkg/fleet"
	"github.com/thingpark-tools/kubectl-tpe/pkg/preflight"
)

// FleetPreflight is `kubectl tpe preflight` over several installations (-o json|yaml).
type FleetPreflight struct {
	Kind          string         `json:"kind"`
	Target        string         `json:"target"`
	Installations []PreflightRow `json:"installations"`
	Summary       FleetCount     `json:"summary"`
}

// PreflightRow is one installation of a fleet preflight.
type PreflightRow struct {
	fleet.Outcome
	// Profile is the account profile whose permissions were checked.
	Profile string `json:"profile,omitempty"`
	// Verdict is the worst status of the checks (pass, warn, fail, skip).
	Verdict check.Status   `json:"verdict,omitempty"`
	Checks  *check.Summary `json:"checks,omitempty"`
	// Failing are the checks that fail or warn.
	Failing []check.Check `json:"failing,omitempty"`
}

// validateFleet refuses what a fleet preflight does not do: it runs the read-only checks, so no
// probe pod, no iperf3 pod, and no connection from this machine repeated per installation.
func (o *PreflightOptions) validateFleet() error {
	if err := o.Fleet.Validate(); err != nil {
		return err
	}
	if o.NetworkTest || o.Probe {
		return fmt.Errorf("--network-test and --probe run with one installation at a time: drop them, or give a single --context")
	}
	if o.format == cli.FormatJUnit {
		return fmt.Errorf("-o junit reports one installation: use -o json or yaml with several")
	}
	return nil
}

// runFleet is preflight over several installations: preflight.Run on each with the inputs read
// once (values, certificate, target), as the single-cluster command calls it.
func (o *PreflightOptions) runFleet(ctx context.Context, cmd *cobra.Command, complete func() error) error {
	if err := o.validateFleet(); err != nil {
		return err
	}
	if err := complete(); err != nil {
		return err
	}
	ins, cfg, err := fleetRun(ctx, cmd, &o.Fleet, o.Out)
	if err != nil {
		return err
	}
	type result struct {
		profile string
		report  *check.Report
	}
	rs := fleet.Run(ctx, ins, cfg, func(ctx context.Context, t *fleet.Target) (result, error) {
		c := o.cfg
		c.Namespace = t.Namespace
		one := *o
		one.clients = t.Clients
		var err error
		if c.Reviewer, c.User, err = one.reviewer(ctx, c.Namespace); err != nil {
			return result{}, err
		}
		if c.Profile == "" {
			c.Profile = preflight.DetectProfile(ctx, c.Reviewer)
		}
		rep, err := preflight.Run(ctx, t.Clients.Kube, c)
		return result{profile: c.Profile, report: rep}, err
	})
	threshold := check.Fail
	if o.FailOn == "warn" {
		threshold = check.Warn
	}
	doc := &FleetPreflight{Kind: "FleetPreflight", Target: o.cfg.Target.Release.Name, Installations: []PreflightRow{}}
	for _, r := range rs {
		row := PreflightRow{Outcome: r.Outcome}
		doc.Summary.Total++
		if rep := r.Value.report; r.Error == nil && rep != nil {
			sum := rep.Summary
			row.Profile, row.Verdict, row.Checks, row.Failing = r.Value.profile, rep.Worst(), &sum, failing(rep)
		}
		switch {
		case r.Error != nil:
			doc.Summary.Unreadable++
		case r.Value.report.FailsOn(threshold):
			doc.Summary.Failed++
		default:
			doc.Summary.OK++
		}
		doc.Installations = append(doc.Installations, row)
	}
	table := func() error { return writeFleetPreflight(o.Out, doc, cli.UseColor(o.Out, o.Color)) }
	if err := fleetcmd.Print(o.Out, o.format, doc, table); err != nil {
		return err
	}
	return fleetcmd.Exit(doc.Summary.Unreadable, doc.Summary.Failed, doc.Summary.Total)
}

func writeFleetPreflight(w io.Writer, doc *FleetPreflight, color bool) error {
	fmt.Fprintf(w, "Preflight against TPE %s\n", doc.Target)
	t := cli.NewTable(w, "INSTALLATION", "CLUSTER", "NAMESPACE", "PROFILE", "VERDICT", "PASS", "WARN", "FAIL", "SKIP", "MANUAL", "KUBERNETES")
	rows := make([]fleetRow, 0, len(doc.Installations))
	for _, r := range doc.Installations {
		rows = append(rows, fleetRow{outcome: r.Outcome, failing: r.Failing})
		if r.Error != nil || r.Checks == nil {
			t.Row(r.Name, fleetcmd.OrDash(r.Cluster), fleetcmd.OrDash(r.Namespace), "-", fleetcmd.Cell(r.Error), "-", "-", "-", "-", "-", fleetcmd.OrDash(r.KubernetesVersion))
			continue
		}
		s := r.Checks
		t.Row(r.Name, r.Cluster, r.Namespace, r.Profile, check.Symbol(r.Verdict, color), fmt.Sprint(s.Pass), fmt.Sprint(s.Warn),
			fmt.Sprint(s.Fail), fmt.Sprint(s.Skip), fmt.Sprint(s.Manual), fleetcmd.OrDash(r.KubernetesVersion))
	}
	if err := t.Render(); err != nil {
		return err
	}
	if err := writeFleetProblems(w, rows, color); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d installation(s): %d pass, %d fail, %d could not be read\n",
		doc.Summary.Total, doc.Summary.OK, doc.Summary.Failed, doc.Summary.Unreadable)
	return nil
}
