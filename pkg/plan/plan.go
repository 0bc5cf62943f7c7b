// Package plan answers "what is installed, and what does it take to reach another TPE release?":
// it reads the four Helm releases of the namespace (State), matches them with the release matrix,
// and computes the Plan: the path of hops under the vendor's upgrade rules, each hop's charts and
// cluster-admin steps, the Kubernetes range, the downtime impacts, and the checks of the values
// and of the operator's permissions, all reported through pkg/check. It changes nothing. It
// imports Helm only to read release history and to validate values against charts.
package plan

import (
	"context"
	"errors"
	"fmt"
	"strings"

	helmrelease "helm.sh/helm/v3/pkg/release"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/thingpark-tools/kubectl-tpe/pkg/adminstep"
	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// Action is what a plan, or one chart of a hop, does.
type Action string

// Actions.
const (
	ActionInstall   Action = "install"
	ActionUpgrade   Action = "upgrade"
	ActionNone      Action = "none"
	ActionUnchanged Action = "unchanged" // a chart already at the hop's version
	ActionDowngrade Action = "downgrade" // a target older than the installed release: rollback or restore, not reachable
)

// Report categories of a plan.
const (
	CategoryPath        = "Upgrade path"
	CategoryAdmin       = "Cluster-admin steps"
	CategoryKube        = "Kubernetes version"
	CategoryCharts      = "Charts"
	CategoryValues      = "Values"
	CategoryDowntime    = "Downtime"
	CategoryPermissions = "Permissions"
)

// Downtime lists the impacts of an upgrade on a running TPE, as the TPE upgrade procedure states them.
var Downtime = []string{
	"End-device uplinks are queued by the base stations and reach the application servers later than usual.",
	"APIs (including DX API downlinks) and GUIs are unavailable during the upgrade.",
	"API and GUI sessions are closed at the start: users may have to log in again.",
	"Downlinks from cloud connectors may be dropped if the cloud broker does not buffer them (AWS and Azure do).",
	"Uplink delivery to cloud connectors may be delayed until the service is started.",
}

// ChartChange is one chart of a hop.
type ChartChange struct {
	Step        int    `json:"step"`
	ReleaseName string `json:"releaseName"`
	FromChart   string `json:"fromChart,omitempty"`
	FromVersion string `json:"fromVersion,omitempty"`
	Chart       string `json:"chart"`
	Version     string `json:"version"`
	// Action is install, upgrade or unchanged.
	Action Action `json:"action"`
	// Renamed is true when the chart of the release changes name (chart 3, 7.2.1 → 7.2.2).
	Renamed bool `json:"renamed,omitempty"`
}

// AdminStatus is whether a cluster-admin step is done.
type AdminStatus string

// Admin step statuses.
const (
	AdminDone    AdminStatus = "done"
	AdminTodo    AdminStatus = "todo"
	AdminUnknown AdminStatus = "unknown" // cannot be read with the current credentials, or not verifiable
)

// AdminStep is a cluster-admin step of a hop (manifest.AdminSteps) and what the cluster says of it.
type AdminStep struct {
	ID          string      `json:"id"`
	Description string      `json:"description"`
	Status      AdminStatus `json:"status"`
	Detail      string      `json:"detail,omitempty"`
	Fix         string      `json:"fix,omitempty"`
	Inferred    bool        `json:"inferred,omitempty"`
	// NeedsAck: the plan can never verify this step (a manual step, or one inferred from the
	// vendor's documentation): a run crosses its hop only when the user acknowledges it.
	NeedsAck bool `json:"needsAcknowledgement,omitempty"`
}

// Hop is one hop of the plan.
type Hop struct {
	N          int           `json:"n"`
	From       string        `json:"from,omitempty"`
	To         string        `json:"to"`
	Kind       string        `json:"kind"`
	Charts     []ChartChange `json:"charts"`
	AdminSteps []AdminStep   `json:"adminSteps"`
	// AdminNote says once why the hop's steps are inferred ("" when none is).
	AdminNote  string             `json:"adminNote,omitempty"`
	Kubernetes manifest.KubeRange `json:"kubernetes"`
	// Backup is true when an upgrade backup is taken before the hop (TakesBackup).
	Backup bool `json:"backup"`
}

// Plan is what `helm tpe plan` shows and what install/upgrade runs.
type Plan struct {
	Namespace string `json:"namespace"`
	// Installed is the matched installed release ("" for a fresh namespace).
	Installed string `json:"installed,omitempty"`
	// Offline is true for a plan made without a cluster: Installed is the release it was given
	// (StateOf), and the cluster-admin steps are not checked.
	Offline       bool                 `json:"offline,omitempty"`
	InstalledRefs map[string]Installed `json:"installedReleases,omitempty"`
	// Target is the name of the release the plan reaches.
	Target        string   `json:"target"`
	Action        Action   `json:"action"`
	Reachable     bool     `json:"reachable"`
	Reason        string   `json:"reason,omitempty"`
	ServerVersion string   `json:"serverVersion,omitempty"`
	Hops          []Hop    `json:"hops"`
	Downtime      []string `json:"downtime,omitempty"`
	// Report is the plan's checks; its fields (kind, checks, summary) are the plan's top-level
	// fields, as in every check report (docs/output-schema.md).
	*check.Report

	to   manifest.Release
	path []manifest.Hop
}

// To returns the release the plan reaches.
func (p *Plan) To() manifest.Release { return p.to }

// Path returns the hops of the manifest path.
func (p *Plan) Path() []manifest.Hop { return p.path }

// Releases returns the releases the plan installs, hop by hop (what the chart repository must serve).
func (p *Plan) Releases() []manifest.Release {
	var out []manifest.Release
	for _, h := range p.path {
		out = append(out, h.To)
	}
	return out
}

// Unverifiable lists the cluster-admin steps that need the user's acknowledgement ("hop 2
// (v8.0.0): <description>"), in order.
func (p *Plan) Unverifiable() []string {
	var out []string
	for _, h := range p.Hops {
		for _, s := range h.AdminSteps {
			if s.NeedsAck {
				out = append(out, fmt.Sprintf("hop %d (%s): %s", h.N, h.To, s.Description))
			}
		}
	}
	return out
}

// HopNames is "v7.1.3a → v7.2.2c → v7.3.1".
func (p *Plan) HopNames() string {
	var names []string
	for _, h := range p.Hops {
		names = append(names, h.To)
	}
	return strings.Join(names, " → ")
}

// Input is what a plan is computed from. Kube, Dynamic and Charts are optional: the checks that
// need them are skipped.
type Input struct {
	Matrix *manifest.Matrix
	State  *State
	// To is the target release.
	To manifest.Release
	// Server is the cluster's version; zero when unknown.
	Server  prereq.ServerVersion
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	// Values are the user's merged values files; ValueFiles names them for messages.
	Values     values.Values
	ValueFiles []string
	Charts     charts.Source
	// Admin reads the vendor's manifests the CRD steps are judged against (the configuration
	// repository or a release bundle); nil: those steps cannot be verified.
	Admin adminstep.Source
	// SkipBackup: the run takes no upgrade backup (--skip-backup), so the backup configuration
	// only warns (BackupRequired).
	SkipBackup bool
	// Redactor masks the secrets of the values in the plan's messages (nil: one is made from
	// Values). upgrade.Run hands down the run's one redactor.
	Redactor *redact.Redactor
}

// New computes the plan: the path, each hop's charts, cluster-admin steps and Kubernetes
// range, the downtime impacts and the values checks, reported through pkg/check. The secrets of
// the values are masked in its messages (a schema error can quote a value).
func New(ctx context.Context, in Input) *Plan {
	p := build(ctx, in)
	red := in.Redactor
	if red == nil {
		red = redact.NewTagged(redact.FromValues(in.Values))
	}
	p.Reason = red.String(p.Reason)
	for i := range p.Report.Checks {
		c := &p.Report.Checks[i]
		c.Message, c.Remediation = red.String(c.Message), red.String(c.Remediation)
		for j := range c.Details {
			c.Details[j] = red.String(c.Details[j])
		}
	}
	return p
}

func build(ctx context.Context, in Input) *Plan {
	p := &Plan{Namespace: in.State.Namespace, Target: in.To.Name, Report: check.NewReport("Plan"),
		InstalledRefs: in.State.Releases, ServerVersion: in.Server.GitVersion, to: in.To, Hops: []Hop{}, Offline: in.State.Assumed}
	rep := p.Report
	var from *manifest.Release
	switch {
	case in.State.Fresh():
		p.Action = ActionInstall
	case in.State.Current == nil && partialFrom(in) != nil:
		// Some charts are at the target already (an interrupted run without its progress record, or a
		// rollback of tpe alone): continue from the release the others still match.
		from = partialFrom(in)
		p.Installed = from.Name
		p.Action = ActionUpgrade
		rep.Add(check.Check{ID: "path.installed", Category: CategoryPath, Status: check.Warn,
			Message:     fmt.Sprintf("partly upgraded: the charts match %s except those already at %s (%s)", from.Name, in.To.Name, in.State.Describe()),
			Remediation: "the plan upgrades the remaining charts; charts already at the target are left as they are"})
	case in.State.Current == nil:
		p.Reason = fmt.Sprintf("the installed charts match no known TPE release (%s): upgrade them to a release of `{cmd:releases}` by hand, or pass that release's VERSIONS file with {flag:manifest}", in.State.Describe())
		rep.Add(check.Check{ID: "path.installed", Category: CategoryPath, Status: check.Fail, Message: p.Reason,
			Remediation: "compare `helm list -n " + p.Namespace + "` with `{cmd:releases}`"})
		return p
	default:
		from = in.State.Current
		p.Installed = from.Name
		p.Action = ActionUpgrade
		msg := "installed: " + from.Name
		if in.State.Assumed {
			msg = "from " + from.Name + " (given: no cluster was read)"
		}
		if len(in.State.Matches) > 1 {
			msg += " (same charts as " + strings.Join(in.State.Matches[1:], ", ") + ")"
		}
		rep.Add(check.Check{ID: "path.installed", Category: CategoryPath, Status: check.Pass, Message: msg})
	}
	for _, n := range manifest.ReleaseNames {
		if r, ok := in.State.Releases[n]; ok && !in.State.Assumed && r.Status != helmrelease.StatusDeployed.String() {
			rep.Add(check.Check{ID: "path.release-status." + n, Category: CategoryPath, Status: check.Warn,
				Message:     fmt.Sprintf("Helm release %s is %s (revision %d)", n, r.Status, r.Revision),
				Remediation: "an interrupted `{cmd:install}` or `{cmd:upgrade}` continues with {flag:resume}"})
		}
	}
	hops, err := in.Matrix.Path(from, in.To)
	var pe *manifest.PathError
	if errors.As(err, &pe) && pe.Downgrade {
		p.Action = ActionDowngrade
		p.Reason = fmt.Sprintf("%s is older than the installed %s: this is a downgrade, which no upgrade does", in.To.Name, from.Name)
		rep.Add(check.Check{ID: "path.reachable", Category: CategoryPath, Status: check.Fail, Message: p.Reason,
			Remediation: fmt.Sprintf("as the TPE rollback procedure says: roll back to the revision that ran %s (`{cmd:rollback}`, which restores the backup taken before the upgrade), or reinstall %s and restore a backup taken on it", in.To.Name, in.To.Name)})
		return p
	}
	if err != nil {
		p.Reason = err.Error()
		rep.Add(check.Check{ID: "path.reachable", Category: CategoryPath, Status: check.Fail, Message: p.Reason,
			Remediation: "pick a newer {flag:to} (see `{cmd:releases}`), or use `{cmd:rollback}`"})
		return p
	}
	p.path = hops
	if len(hops) == 0 {
		p.Action = ActionNone
		p.Reachable = true
		rep.Add(check.Check{ID: "path.reachable", Category: CategoryPath, Status: check.Pass,
			Message: fmt.Sprintf("%s is already installed: nothing to do", in.To.Name)})
		return p
	}
	p.Reachable = true
	var names []string
	for _, h := range hops {
		names = append(names, h.To.Name)
	}
	start := "a fresh install"
	if from != nil {
		start = from.Name
	}
	rep.Add(check.Check{ID: "path.reachable", Category: CategoryPath, Status: check.Pass,
		Message: fmt.Sprintf("%s → %s in %d hop(s): %s", start, in.To.Name, len(hops), strings.Join(names, " → "))})
	if bs, ok := in.Charts.(*charts.BundleSource); ok {
		rep.Add(bundleCheck(bs, hops))
	}

	for i, h := range hops {
		ph := Hop{N: i + 1, To: h.To.Name, Kind: h.Kind, Kubernetes: h.To.Kubernetes}
		if h.From != nil {
			ph.From = h.From.Name
		}
		ph.Charts = chartChanges(h, in.State, i == 0)
		ph.Backup = ph.TakesBackup()
		for _, c := range ph.Charts {
			if c.Renamed {
				rep.Add(check.Check{ID: fmt.Sprintf("charts.rename.%d", ph.N), Category: CategoryCharts, Status: check.Pass,
					Message: fmt.Sprintf("hop %d: release %s changes chart from %s to %s (the vendor renamed it in 7.2.2); `{cmd:upgrade}` upgrades it in place", ph.N, c.ReleaseName, c.FromChart, c.Chart)})
			}
		}
		ph.AdminSteps, ph.AdminNote = adminSteps(ctx, in, hops, i)
		if ph.AdminSteps == nil {
			ph.AdminSteps = []AdminStep{} // an empty list in JSON, not null (docs/output-schema.md)
		}
		for _, s := range ph.AdminSteps {
			rep.Add(s.check(ph.N, h.To.Name))
		}
		kc := prereq.CheckKubernetes(h.To, h.To.Kubernetes.Min != "", in.Server, false)
		kc.ID, kc.Category, kc.Message = fmt.Sprintf("kubernetes.%d", ph.N), CategoryKube, fmt.Sprintf("hop %d: %s", ph.N, kc.Message)
		if kc.Status == check.Skip && in.State.Assumed {
			kc.Message += " (give the cluster's version with {flag:kube-version} to judge it)"
			kc.Remediation = "`kubectl version` on the cluster shows its version, e.g. v1.27.3"
		}
		rep.Add(kc)
		p.Hops = append(p.Hops, ph)
	}
	if p.Action == ActionUpgrade {
		p.Downtime = Downtime
		rep.Add(check.Check{ID: "downtime", Category: CategoryDowntime, Status: check.Manual,
			Message:     fmt.Sprintf("the upgrade interrupts the service (%d impacts listed above, from the TPE upgrade procedure)", len(Downtime)),
			Remediation: "plan a maintenance window and warn the users"})
	}
	if c, ok := backupsCheck(p.Hops, in.SkipBackup); ok {
		rep.Add(c)
	}
	valuesChecks(in, p.Action, rep)
	if in.Kube != nil && p.Action != ActionNone {
		rep.Add(permissionsCheck(ctx, in.Kube, p.Namespace))
	}
	return p
}

// partialFrom finds the known release, older than the target, that every installed chart matches
// unless it is already at the target's version; nil when there is none.
func partialFrom(in Input) *manifest.Release {
	if in.State.Fresh() {
		return nil
	}
	tt, err := manifest.ParseTag(in.To.Name)
	if err != nil {
		return nil
	}
	target := map[string]manifest.ChartRef{}
	for _, c := range in.To.Charts() {
		target[c.ReleaseName] = c
	}
	for i := len(in.Matrix.Releases) - 1; i >= 0; i-- {
		r := in.Matrix.Releases[i]
		if !manifest.MustParseTag(r.Name).Less(tt) {
			continue
		}
		ok, atOld := true, 0
		for _, c := range r.Charts() {
			got, found := in.State.Releases[c.ReleaseName]
			switch {
			case !found:
				ok = false
			case got.Chart == c.Chart && got.Version == c.Version:
				atOld++
			case got.Chart == target[c.ReleaseName].Chart && got.Version == target[c.ReleaseName].Version:
			default:
				ok = false
			}
		}
		if ok && atOld > 0 {
			return &r
		}
	}
	return nil
}

// chartChanges lists each chart of a hop with what is installed before it: the release it starts
// from, or for the first hop what is actually installed.
func chartChanges(h manifest.Hop, st *State, first bool) []ChartChange {
	var out []ChartChange
	var prev map[string]manifest.ChartRef
	if h.From != nil {
		prev = map[string]manifest.ChartRef{}
		for _, c := range h.From.Charts() {
			prev[c.ReleaseName] = c
			if in, ok := st.Releases[c.ReleaseName]; ok && first && st.Current == nil {
				prev[c.ReleaseName] = manifest.ChartRef{Step: c.Step, ReleaseName: c.ReleaseName, Chart: in.Chart, Version: in.Version}
			}
		}
	}
	for _, c := range h.To.Charts() {
		cc := ChartChange{Step: c.Step, ReleaseName: c.ReleaseName, Chart: c.Chart, Version: c.Version, Action: ActionInstall}
		if p, ok := prev[c.ReleaseName]; ok {
			cc.FromChart, cc.FromVersion = p.Chart, p.Version
		} else if r, ok := st.Releases[c.ReleaseName]; ok && h.From == nil {
			cc.FromChart, cc.FromVersion = r.Chart, r.Version
		}
		switch {
		case cc.FromChart == "":
		case cc.FromChart == cc.Chart && cc.FromVersion == cc.Version:
			cc.Action = ActionUnchanged
		default:
			cc.Action = ActionUpgrade
			cc.Renamed = cc.FromChart != cc.Chart
		}
		out = append(out, cc)
	}
	return out
}

// ErrUnreachable is returned (wrapped) when the plan cannot reach its target.
var ErrUnreachable = errors.New("the target cannot be reached")

// bundleCheck says whether the release bundle the charts come from (--bundle) holds every
// release of the path: a bundle built for another path is refused before anything changes.
func bundleCheck(bs *charts.BundleSource, hops []manifest.Hop) check.Check {
	c := check.Check{ID: "charts.bundle", Category: CategoryCharts}
	var rels []manifest.Release
	for _, h := range hops {
		rels = append(rels, h.To)
	}
	if lacks := bs.Bundle.Lacks(rels...); len(lacks) > 0 {
		c.Status = check.Fail
		c.Message = fmt.Sprintf("bundle %s lacks %s (it holds %s)", bs.Bundle.Path, strings.Join(lacks, ", "), strings.Join(bs.Bundle.ReleaseNames(), ", "))
		c.Remediation = "build a bundle for this path on a connected machine: {cmd:bundle-create} " + fromFlag(hops[0]) + "{flag:to} " + hops[len(hops)-1].To.Name
		return c
	}
	c.Status = check.Pass
	c.Message = fmt.Sprintf("the charts come from bundle %s (%s), which holds every release of the path", bs.Bundle.Path, bs.Bundle.Digest)
	return c
}

func fromFlag(h manifest.Hop) string {
	if h.From == nil {
		return ""
	}
	return "{flag:from} " + h.From.Name + " "
}
