package helmtpe

import (
	"fmt"
	"io"

	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
	"github.com/thingpark-tools/kubectl-tpe/pkg/upgrade"
)

// runLong is the help of install and upgrade (%[1]s: the verb).
var runLong = templates.LongDesc(`
	%[1]s the four charts of a TPE release, in order and guarded, following the TPE upgrade
	procedure: thingpark-data-controllers (tpe-data-controllers), thingpark-data (tpe-data),
	thingpark-application-controllers (tpe-controllers; thingpark-enterprise-controllers up to 7.2.1)
	and thingpark-enterprise (tpe), through every hop of the plan (see "helm tpe plan").

	Before anything changes: the values are validated (global.installationId set, the TLS certificate
	and the backup storage checked with the same code as "kubectl tpe preflight"), the plan and the
	downtime impacts are shown and confirmed (--yes; without a terminal --yes is required), and for an
	upgrade the backup tooling of deploy/thingpark-enterprise-controller must answer: before every hop
	that upgrades the tpe release an on-demand backup is taken and its name recorded with its hop, so
	that a failed hop is rolled back with the backup of the release it started from (--skip-backup
	skips them, loudly; --resume never takes a second backup for a hop that has one).

	Each chart is installed or upgraded with Helm's SDK from the repository of "helm tpe repo add"
	(or --repo-url), with your values files, then every Deployment and StatefulSet of the namespace is
	waited for. After the last chart of a hop the post-upgrade procedure (deploy/pum) must reach its
	verdict: ABORTED or a failed wait stops the run with the reason and the command to run next.

	Progress is recorded in the ConfigMap tpe-upgrade-progress (never any secret): an interrupted or
	failed run continues with --resume from the step that did not finish, and running a finished
	upgrade again changes nothing. --dry-run renders all charts against the cluster (server-side) and
	shows what would change per chart, without any change: the secrets of the values files (the
	installation ID, backup credentials, the TLS key, any password, secret, token or key) are masked
	wherever a chart copies them, by a tag that is the same on both sides, so a changed secret shows
	as a changed line without its value; Secret objects show only which keys were added, removed or
	changed. --show-secrets shows them in clear (with a warning). Progress lines (step n/N, chart, elapsed)
	go to stderr; the summary goes to stdout (-o json for pipelines).

	Exit codes: 0 done (or nothing to do), 2 a step failed or the target cannot be reached, 1 error.`)

func writeRunResult(w io.Writer, f cli.Format, r *upgrade.Result) error {
	if !f.IsTable() {
		return cli.WriteData(w, f, r)
	}
	w, done := cli.Fit(w, f)
	defer done()
	fmt.Fprintf(w, "%s\n", r.Message)
	if len(r.Steps) == 0 {
		return nil
	}
	fmt.Fprintf(w, "Target: %s   State: %s   Backup: %s   Elapsed: %s\n", r.Target, r.State, text.OrNone(r.Backup), r.Elapsed)
	if len(r.Backups) > 1 {
		// One backup per hop that upgrades tpe: a failed hop is rolled back with its own.
		fmt.Fprintln(w, "Upgrade backups:")
		for _, b := range r.Backups {
			fmt.Fprintf(w, "  %s\n", b)
		}
	}
	fmt.Fprintln(w)
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
	if !f.IsTable() {
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
