package helmtpe

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"helm.sh/helm/v3/pkg/action"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/fleetcmd"
	"github.com/thingpark-tools/kubectl-tpe/pkg/fleet"
	"github.com/thingpark-tools/kubectl-tpe/pkg/kube"
	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
)

// FleetPlan is `helm tpe plan` over several installations (-o json|yaml): one row each.
type FleetPlan struct {
	Kind          string    `json:"kind"`
	Target        string    `json:"target"`
	Installations []PlanRow `json:"installations"`
	Summary       PlanCount `json:"summary"`
	// Line is the summary in words ("3 of 5 can go to v8.0.0 now; 1 needs v7.3.6 first; ...").
	Line string `json:"line"`
}

// PlanCount counts the rows of a fleet plan by verdict.
type PlanCount struct {
	Total      int `json:"total"`
	Ready      int `json:"ready"`
	First      int `json:"needsIntermediate"`
	Blocked    int `json:"blocked"`
	UpToDate   int `json:"upToDate"`
	Unreadable int `json:"unreadable"`
}

// The verdicts of a fleet plan's row.
const (
	// VerdictReady: one hop, nothing blocks it.
	VerdictReady = "ready"
	// VerdictFirst: nothing blocks it, but the path has intermediate releases (Next is the first).
	VerdictFirst = "needs-intermediate"
	// VerdictBlocked: a check blocks the run, or the target cannot be reached.
	VerdictBlocked = "blocked"
	// VerdictUpToDate: the target is installed.
	VerdictUpToDate = "up-to-date"
)

// PlanRow is one installation of a fleet plan.
type PlanRow struct {
	fleet.Outcome
	// Installed is the installed release ("" for a fresh namespace or unknown charts).
	Installed string `json:"installed,omitempty"`
	Action    string `json:"action,omitempty"`
	// Verdict is ready, needs-intermediate, blocked or up-to-date (absent when Error is set).
	Verdict string `json:"verdict,omitempty"`
	// Path is the release each hop reaches, in order.
	Path []string `json:"path,omitempty"`
	// Next is the first hop's release when the path has several.
	Next string `json:"next,omitempty"`
	// Reason says why the target cannot be reached.
	Reason string `json:"reason,omitempty"`
	// Blocking are the checks that stop the run.
	Blocking []check.Check `json:"blocking,omitempty"`
	// AdminSteps are the cluster-admin steps of the path not done yet.
	AdminSteps []plan.AdminStep `json:"adminStepsToDo,omitempty"`
}

// useFleet reports whether the command runs over several installations; a single --context is
// --kube-context.
func (o *PlanOptions) useFleet() bool {
	if !o.Fleet.Active() && len(o.Fleet.Contexts) > 0 {
		o.env.Settings.KubeContext = o.Fleet.Contexts[len(o.Fleet.Contexts)-1]
	}
	return o.Fleet.Active()
}

// fleetNamespace is -n (or HELM_NAMESPACE) when given, else "" (each context's).
func (o *PlanOptions) fleetNamespace(cmd *cobra.Command) string {
	if f := cmd.Flag("namespace"); (f != nil && f.Changed) || (os.Getenv("HELM_NAMESPACE") != "" && !o.env.helmDefaultIgnored) {
		return o.env.Settings.Namespace()
	}
	return ""
}

// runFleet plans the upgrade of every installation: the values and charts are read once, then
// planOn runs on each, as for one installation.
func (o *PlanOptions) runFleet(cmd *cobra.Command) error {
	ctx := cmd.Context()
	if err := o.Fleet.Validate(); err != nil {
		return err
	}
	if o.From != "" {
		return fmt.Errorf("--from plans one installation without a cluster: drop it with several installations")
	}
	var err error
	if o.format, err = cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML); err != nil {
		return err
	}
	ins, err := fleet.Resolve(ctx, o.Fleet.Selection(o.env.Settings.KubeConfig, o.fleetNamespace(cmd)))
	if err != nil {
		return fleetcmd.ResolveError(err)
	}
	cfg := o.Fleet.Config(o.env.RequestTimeout, redact.Of(o.Out).String)
	cfg.UserAgent = UserAgent()
	// What every plan shares (flags, target, chart source) is resolved once; then, per
	// installation, its cluster's dependencies and plan.Run, as for one installation.
	d, pcfg, notes, err := o.request(ctx)
	if err != nil {
		return err
	}
	// One source of the vendor's manifests for every installation (cached, safe for concurrent
	// use): each file is read once.
	admin := o.Repo.adminSource()
	rs := fleet.Run(ctx, ins, cfg, func(ctx context.Context, t *fleet.Target) (*plan.Plan, error) {
		cl, err := o.env.clusterOf(t)
		if err != nil {
			return nil, err
		}
		dd, c := o.clusterDeps(d, cl), pcfg
		dd.Admin, c.Namespace = admin, cl.Namespace
		return o.run(ctx, dd, c, notes)
	})
	doc := fleetPlan(pcfg.To.Name, rs)
	table := func() error { return writeFleetPlan(o.Out, doc, cli.UseColor(o.Out, o.Color)) }
	if err := fleetcmd.Print(o.Out, o.format, doc, table); err != nil {
		return err
	}
	return fleetcmd.Exit(doc.Summary.Unreadable, doc.Summary.Blocked, doc.Summary.Total)
}

// clusterOf is Env.Cluster for one installation of a fleet: Helm's action configuration over a
// kube.Getter of the installation's REST config.
func (e *Env) clusterOf(t *fleet.Target) (*Cluster, error) {
	rc := t.RESTConfig
	rc.UserAgent = HelmUserAgent()
	rc.Timeout = t.Clients.RequestTimeout
	getter, err := kube.NewGetter(rc, t.Loader)
	if err != nil {
		return nil, err
	}
	cfg := new(action.Configuration)
	if err := cfg.Init(getter, t.Namespace, os.Getenv("HELM_DRIVER"), e.debugf); err != nil {
		return nil, fmt.Errorf("initialising Helm for namespace %s: %w", t.Namespace, err)
	}
	return &Cluster{Clients: t.Clients, Namespace: t.Namespace, Action: cfg,
		Exec: podexec.Kube{Client: t.Clients.Kube, Config: t.Clients.Config}}, nil
}

func fleetPlan(target string, rs []fleet.Result[*plan.Plan]) *FleetPlan {
	doc := &FleetPlan{Kind: "FleetPlan", Target: target, Installations: []PlanRow{}}
	firsts := map[string]int{}
	for _, r := range rs {
		row := PlanRow{Outcome: r.Outcome}
		doc.Summary.Total++
		p := r.Value
		if r.Error != nil || p == nil {
			doc.Summary.Unreadable++
			doc.Installations = append(doc.Installations, row)
			continue
		}
		row.Installed, row.Action, row.Reason = p.Installed, string(p.Action), p.Reason
		for _, h := range p.Hops {
			row.Path = append(row.Path, h.To)
			for _, s := range h.AdminSteps {
				if s.Status != plan.AdminDone {
					row.AdminSteps = append(row.AdminSteps, s)
				}
			}
		}
		row.Blocking = p.Blocking(false)
		switch {
		case p.Reachable && p.Action == plan.ActionNone && len(row.Blocking) == 0:
			row.Verdict = VerdictUpToDate
			doc.Summary.UpToDate++
		case !p.Reachable || len(row.Blocking) > 0 || p.Report.Worst() == check.Fail:
			row.Verdict = VerdictBlocked
			doc.Summary.Blocked++
		case len(p.Hops) > 1:
			row.Verdict, row.Next = VerdictFirst, p.Hops[0].To
			doc.Summary.First++
			firsts[row.Next]++
		default:
			row.Verdict = VerdictReady
			doc.Summary.Ready++
		}
		doc.Installations = append(doc.Installations, row)
	}
	doc.Line = summaryLine(doc, firsts)
	return doc
}

// summaryLine is "3 of 5 can go to v8.0.0 now; 1 needs v7.3.6 first; 1 unreachable".
func summaryLine(doc *FleetPlan, firsts map[string]int) string {
	s := doc.Summary
	parts := []string{fmt.Sprintf("%d of %d can go to %s now", s.Ready, s.Total, doc.Target)}
	// In the rows' order, one part per intermediate release.
	seen := map[string]bool{}
	for _, r := range doc.Installations {
		if r.Next != "" && !seen[r.Next] {
			seen[r.Next] = true
			verb := "needs"
			if firsts[r.Next] > 1 {
				verb = "need"
			}
			parts = append(parts, fmt.Sprintf("%d %s %s first", firsts[r.Next], verb, r.Next))
		}
	}
	if s.UpToDate > 0 {
		parts = append(parts, fmt.Sprintf("%d already on %s", s.UpToDate, doc.Target))
	}
	if s.Blocked > 0 {
		parts = append(parts, fmt.Sprintf("%d blocked", s.Blocked))
	}
	if s.Unreadable > 0 {
		parts = append(parts, fmt.Sprintf("%d unreachable or unreadable", s.Unreadable))
	}
	return strings.Join(parts, "; ")
}

func writeFleetPlan(w io.Writer, doc *FleetPlan, color bool) error {
	fmt.Fprintf(w, "Plan to TPE %s\n", doc.Target)
	t := cli.NewTable(w, "INSTALLATION", "CLUSTER", "NAMESPACE", "INSTALLED", "PATH", "VERDICT", "ADMIN STEPS TO DO", "KUBERNETES")
	for _, r := range doc.Installations {
		if r.Error != nil {
			t.Row(r.Name, fleetcmd.OrDash(r.Cluster), fleetcmd.OrDash(r.Namespace), "-", "-", fleetcmd.Cell(r.Error), "-", fleetcmd.OrDash(r.KubernetesVersion))
			continue
		}
		installed := r.Installed
		if installed == "" {
			installed = "nothing"
		}
		path := strings.Join(r.Path, " → ")
		verdict := r.Verdict
		switch r.Verdict {
		case VerdictBlocked:
			verdict = check.Symbol(check.Fail, color) + " blocked"
		case VerdictFirst:
			verdict = "needs " + r.Next + " first"
		case VerdictReady:
			verdict = check.Symbol(check.Pass, color) + " ready"
		}
		t.Row(r.Name, r.Cluster, r.Namespace, installed, fleetcmd.OrDash(path), verdict, fmt.Sprint(len(r.AdminSteps)), fleetcmd.OrDash(r.KubernetesVersion))
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, r := range doc.Installations {
		if r.Error == nil && r.Reason == "" && len(r.Blocking) == 0 && len(r.AdminSteps) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n== %s (context %s, namespace %s)\n", r.Name, fleetcmd.OrDash(r.Context), fleetcmd.OrDash(r.Namespace))
		if r.Error != nil {
			fmt.Fprintf(w, "%s: %s\n", r.Error.Kind, r.Error.Message)
			continue
		}
		if r.Reason != "" {
			fmt.Fprintf(w, "  cannot reach %s: %s\n", doc.Target, r.Reason)
		}
		for _, c := range r.Blocking {
			fmt.Fprintf(w, "  %s %s: %s\n", check.Symbol(c.Status, color), c.ID, c.Message)
		}
		for _, s := range r.AdminSteps {
			line := fmt.Sprintf("  [%s] %s", stepMark(s.Status, false), s.Description)
			if s.Detail != "" {
				line += " (" + s.Detail + ")"
			}
			fmt.Fprintln(w, line)
		}
	}
	fmt.Fprintf(w, "\n%s\n", doc.Line)
	return nil
}
