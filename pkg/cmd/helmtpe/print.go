package helmtpe

import (
	"fmt"
	"io"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
	"github.com/thingpark-tools/kubectl-tpe/pkg/upgrade"
)

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func writeRunResult(w io.Writer, f cli.Format, r *upgrade.Result) error {
	if f != cli.FormatTable {
		return cli.WriteData(w, f, r)
	}
	fmt.Fprintf(w, "%s\n", r.Message)
	if len(r.Steps) == 0 {
		return nil
	}
	fmt.Fprintf(w, "Target: %s   State: %s   Backup: %s   Elapsed: %s\n\n", r.Target, r.State, orNone(r.Backup), r.Elapsed)
	t := cli.NewTable(w, "STEP", "HOP", "WHAT", "STATE", "REVISION", "ELAPSED", "MESSAGE")
	for _, s := range r.Steps {
		rev := ""
		if s.Revision > 0 {
			rev = fmt.Sprint(s.Revision)
		}
		hop := ""
		if s.Hop > 0 {
			hop = fmt.Sprintf("%d (%s)", s.Hop, s.HopTo)
		}
		t.Row(fmt.Sprint(s.N), hop, s.Label(), string(s.State), rev, s.Elapsed, s.Message)
	}
	return t.Render()
}

// DryRunResult is the -o json/yaml output of --dry-run.
type DryRunResult struct {
	Target string              `json:"target"`
	Action plan.Action         `json:"action"`
	Charts []upgrade.ChartDiff `json:"charts"`
}

func writeDiffs(w io.Writer, f cli.Format, p *plan.Plan, diffs []upgrade.ChartDiff) error {
	if f != cli.FormatTable {
		return cli.WriteData(w, f, DryRunResult{Target: p.Target, Action: p.Action, Charts: diffs})
	}
	if len(diffs) == 0 {
		fmt.Fprintf(w, "dry run: %s is installed, nothing would change\n", p.Target)
		return nil
	}
	for _, d := range diffs {
		fmt.Fprintf(w, "=== hop %d: %s %s %s (%s): %d added, %d removed, %d changed object(s)\n", d.Hop, d.ReleaseName, d.Chart, d.Version, d.Action, d.Added, d.Removed, d.Changed)
		fmt.Fprint(w, d.Diff)
	}
	fmt.Fprintf(w, "dry run: nothing was changed (%s)\n", p.HopNames())
	return nil
}
