package helmtpe

import (
	"fmt"
	"io"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
)

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
