package release

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// Plan actions.
const (
	ActionInstall = "install"
	ActionUpgrade = "upgrade"
	ActionNone    = "none"
)

// Report categories of a plan.
const (
	CategoryPath     = "Upgrade path"
	CategoryAdmin    = "Cluster-admin steps"
	CategoryKube     = "Kubernetes version"
	CategoryCharts   = "Charts"
	CategoryValues   = "Values"
	CategoryDowntime = "Downtime"
)

// Downtime lists the impacts of an upgrade on a running TPE (seed 003).
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
	Action string `json:"action"`
	// Renamed is true when the chart of the release changes name (chart 3, 7.2.1 → 7.2.2).
	Renamed bool `json:"renamed,omitempty"`
}

// AdminStep is a cluster-admin step a hop needs (domain.md §7.1).
type AdminStep struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	// Status is done, todo or unknown (cannot be read with the current credentials).
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
	Fix    string `json:"fix,omitempty"`
}

// Admin step statuses.
const (
	StepDone    = "done"
	StepTodo    = "todo"
	StepUnknown = "unknown"
)

// PlanHop is one hop of the plan.
type PlanHop struct {
	N          int                `json:"n"`
	From       string             `json:"from,omitempty"`
	To         string             `json:"to"`
	Kind       string             `json:"kind"`
	Charts     []ChartChange      `json:"charts"`
	AdminSteps []AdminStep        `json:"adminSteps"`
	Kubernetes manifest.KubeRange `json:"kubernetes"`
}

// Plan is what `helm tpe plan` shows and what install/upgrade runs.
type Plan struct {
	Namespace string `json:"namespace"`
	// Installed is the matched installed release ("" for a fresh namespace).
	Installed     string               `json:"installed,omitempty"`
	InstalledRefs map[string]Installed `json:"installedReleases,omitempty"`
	Target        string               `json:"target"`
	Action        string               `json:"action"`
	Reachable     bool                 `json:"reachable"`
	Reason        string               `json:"reason,omitempty"`
	ServerVersion string               `json:"serverVersion,omitempty"`
	Hops          []PlanHop            `json:"hops"`
	Downtime      []string             `json:"downtime,omitempty"`
	Report        *check.Report        `json:"report"`

	target  manifest.Release
	path    []manifest.Hop
	matches []string
}

// TargetRelease returns the target release.
func (p *Plan) TargetRelease() manifest.Release { return p.target }

// Path returns the hops of the manifest path.
func (p *Plan) Path() []manifest.Hop { return p.path }

// PlanInput is what a plan is computed from. Kube, Dynamic and Charts are optional: the checks
// that need them are skipped.
type PlanInput struct {
	Matrix *manifest.Matrix
	State  *State
	Target manifest.Release
	// ServerVersion is the cluster's version ("v1.37.2"); empty when unknown.
	ServerVersion string
	Kube          kubernetes.Interface
	Dynamic       dynamic.Interface
	// Values are the user's merged values files; ValueFiles names them for messages.
	Values     values.Values
	ValueFiles []string
	Charts     ChartSource
	// SkipPermissions leaves out the check of the user's operator profile (unit tests on fake
	// clientsets, whose access reviews always answer "denied").
	SkipPermissions bool
}

// NewPlan computes the plan: the path, each hop's charts, cluster-admin steps and Kubernetes
// range, the downtime impacts and the values checks, reported through pkg/check.
func NewPlan(ctx context.Context, in PlanInput) *Plan {
	p := &Plan{Namespace: in.State.Namespace, Target: in.Target.Name, Report: check.NewReport("Plan"),
		InstalledRefs: in.State.Releases, ServerVersion: in.ServerVersion, target: in.Target, Hops: []PlanHop{}, matches: in.State.Matches}
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
			Message:     fmt.Sprintf("partly upgraded: the charts match %s except those already at %s (%s)", from.Name, in.Target.Name, in.State.Describe()),
			Remediation: "the plan upgrades the remaining charts; charts already at the target are left as they are"})
	case in.State.Current == nil:
		p.Reason = fmt.Sprintf("the installed charts match no known TPE release (%s): upgrade them to a release of `helm tpe releases` by hand, or pass that release's VERSIONS file with --manifest", in.State.Describe())
		rep.Add(check.Check{ID: "path.installed", Category: CategoryPath, Status: check.Fail, Message: p.Reason,
			Remediation: "compare `helm list -n " + p.Namespace + "` with `helm tpe releases`"})
		return p
	default:
		from = in.State.Current
		p.Installed = from.Name
		p.Action = ActionUpgrade
		msg := "installed: " + from.Name
		if len(in.State.Matches) > 1 {
			msg += " (same charts as " + strings.Join(in.State.Matches[1:], ", ") + ")"
		}
		rep.Add(check.Check{ID: "path.installed", Category: CategoryPath, Status: check.Pass, Message: msg})
	}
	for _, n := range manifest.ReleaseNames {
		if r, ok := in.State.Releases[n]; ok && r.Status != "deployed" {
			rep.Add(check.Check{ID: "path.release-status." + n, Category: CategoryPath, Status: check.Warn,
				Message:     fmt.Sprintf("Helm release %s is %s (revision %d)", n, r.Status, r.Revision),
				Remediation: "an interrupted `helm tpe install|upgrade` continues with --resume"})
		}
	}
	hops, err := in.Matrix.Path(from, in.Target)
	if err != nil {
		p.Reason = err.Error()
		rep.Add(check.Check{ID: "path.reachable", Category: CategoryPath, Status: check.Fail, Message: p.Reason,
			Remediation: "pick a newer --to (see `helm tpe releases`), or use `helm tpe rollback`"})
		return p
	}
	p.path = hops
	if len(hops) == 0 {
		p.Action = ActionNone
		p.Reachable = true
		rep.Add(check.Check{ID: "path.reachable", Category: CategoryPath, Status: check.Pass,
			Message: fmt.Sprintf("%s is already installed: nothing to do", in.Target.Name)})
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
		Message: fmt.Sprintf("%s → %s in %d hop(s): %s", start, in.Target.Name, len(hops), strings.Join(names, " → "))})

	minor, haveVersion := kubeMinor(in.ServerVersion)
	for i, h := range hops {
		ph := PlanHop{N: i + 1, To: h.To.Name, Kind: h.Kind, Kubernetes: h.To.Kubernetes}
		if h.From != nil {
			ph.From = h.From.Name
		}
		ph.Charts = chartChanges(h, in.State, i == 0)
		for _, c := range ph.Charts {
			if c.Renamed {
				rep.Add(check.Check{ID: fmt.Sprintf("charts.rename.%d", ph.N), Category: CategoryCharts, Status: check.Pass,
					Message: fmt.Sprintf("hop %d: release %s changes chart from %s to %s (the vendor renamed it in 7.2.2); helm tpe upgrades it in place", ph.N, c.ReleaseName, c.FromChart, c.Chart)})
			}
		}
		ph.AdminSteps = adminSteps(ctx, in, h)
		for _, s := range ph.AdminSteps {
			c := check.Check{ID: fmt.Sprintf("admin.%d.%s", ph.N, s.ID), Category: CategoryAdmin, Message: fmt.Sprintf("hop %d (%s): %s", ph.N, h.To.Name, s.Description)}
			switch s.Status {
			case StepDone:
				c.Status = check.Pass
				c.Message += ": done"
			case StepTodo:
				c.Status, c.Remediation = check.Fail, s.Fix
				c.Message += ": not done"
			default:
				c.Status, c.Remediation = check.Manual, s.Fix
				c.Message += ": cannot be verified"
			}
			if s.Detail != "" {
				c.Details = []string{s.Detail}
			}
			rep.Add(c)
		}
		rep.Add(kubeCheck(ph.N, h.To, minor, haveVersion, in.ServerVersion))
		p.Hops = append(p.Hops, ph)
	}
	if p.Action == ActionUpgrade {
		p.Downtime = Downtime
		rep.Add(check.Check{ID: "downtime", Category: CategoryDowntime, Status: check.Manual,
			Message:     fmt.Sprintf("the upgrade interrupts the service (%d impacts listed above, seed 003)", len(Downtime)),
			Remediation: "plan a maintenance window and warn the users"})
	}
	valuesChecks(in, rep)
	if in.Kube != nil && p.Action != ActionNone && !in.SkipPermissions {
		rep.Add(permissionsCheck(ctx, in.Kube, p.Namespace))
	}
	return p
}

// partialFrom finds the known release, older than the target, that every installed chart matches
// unless it is already at the target's version; nil when there is none.
func partialFrom(in PlanInput) *manifest.Release {
	if in.State.Fresh() {
		return nil
	}
	tt, err := manifest.ParseTag(in.Target.Name)
	if err != nil {
		return nil
	}
	target := map[string]manifest.ChartRef{}
	for _, c := range in.Target.Charts() {
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
			cc.Action = "unchanged"
		default:
			cc.Action = ActionUpgrade
			cc.Renamed = cc.FromChart != cc.Chart
		}
		out = append(out, cc)
	}
	return out
}

func kubeMinor(v string) (int, bool) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 || parts[0] != "1" {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimRight(parts[1], "+"))
	return n, err == nil
}

func kubeCheck(n int, to manifest.Release, minor int, have bool, server string) check.Check {
	c := check.Check{ID: fmt.Sprintf("kubernetes.%d", n), Category: CategoryKube}
	r := to.Kubernetes
	lo, okLo := kubeMinor(r.Min)
	hi, okHi := kubeMinor(r.Max)
	switch {
	case !okLo || !okHi:
		c.Status, c.Message = check.Skip, fmt.Sprintf("hop %d: %s has no known Kubernetes range", n, to.Name)
	case !have:
		c.Status, c.Message = check.Skip, fmt.Sprintf("hop %d: %s supports Kubernetes %s–%s; the cluster's version is unknown", n, to.Name, r.Min, r.Max)
	case minor < lo:
		c.Status = check.Fail
		c.Message = fmt.Sprintf("hop %d: %s needs Kubernetes %s–%s, the cluster runs %s (older: not supported)", n, to.Name, r.Min, r.Max, server)
		c.Remediation = "upgrade the cluster to Kubernetes " + r.Min + " or newer first"
	case minor > hi:
		c.Status = check.Warn
		c.Message = fmt.Sprintf("hop %d: %s is validated on Kubernetes %s–%s, the cluster runs %s (newer than validated)", n, to.Name, r.Min, r.Max, server)
		c.Remediation = "check with Actility that this Kubernetes version is supported"
	default:
		c.Status, c.Message = check.Pass, fmt.Sprintf("hop %d: the cluster's %s is in %s's range %s–%s", n, server, to.Name, r.Min, r.Max)
	}
	if r.Source == "inferred" && c.Status != check.Skip {
		c.Details = append(c.Details, "range inferred from the vendor's documentation (domain.md §1.3)")
	}
	return c
}

// PriorityClass names: the manifest's spelling and the documentation's (domain.md §2.1).
var priorityClassSets = [][]string{{"thingpark-data-path", "thingpark-datapath"}, {"thingpark-data"}, {"thingpark-other", "thingpark-others"}}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// adminSteps lists the cluster-admin steps of a hop and checks them read-only.
func adminSteps(ctx context.Context, in PlanInput, h manifest.Hop) []AdminStep {
	toTag, err := manifest.ParseTag(h.To.Name)
	if err != nil {
		return nil
	}
	from73 := false
	if h.From != nil {
		if ft, err := manifest.ParseTag(h.From.Name); err == nil {
			from73 = ft.Line() == "7.3"
		}
	}
	into73 := toTag.Line() == "7.3" && !from73
	var steps []AdminStep
	if into73 && h.From != nil {
		steps = append(steps,
			crdStep(ctx, in.Dynamic, "crd-strimzi", "upgrade the Strimzi CRDs to 0.32.0 (Helm does not upgrade CRDs)",
				[]string{"kafkas.kafka.strimzi.io", "strimzipodsets.core.strimzi.io"}, "0.32.0",
				"as cluster admin: kubectl apply --server-side -f manifests/upgrade/strimzi-crds-0.32.0.yaml (vendor repository, tag "+h.To.Name+")"),
			crdStep(ctx, in.Dynamic, "crd-psmdb", "upgrade the Percona MongoDB operator CRDs to 1.13.0",
				[]string{"perconaservermongodbs.psmdb.percona.com", "perconaservermongodbbackups.psmdb.percona.com", "perconaservermongodbrestores.psmdb.percona.com"}, "1.13.0",
				"as cluster admin: kubectl apply --server-side -f manifests/upgrade/percona-server-mongodb-operator-crds-1.13.0.yaml and -n "+in.State.Namespace+" -f manifests/upgrade/percona-server-mongodb-operator-rbac-1.13.0.yaml"),
		)
	}
	if into73 {
		steps = append(steps, priorityClassStep(ctx, in), storageClassStep(ctx, in))
	}
	return steps
}

func crdStep(ctx context.Context, dc dynamic.Interface, id, desc string, names []string, minVersion, fix string) AdminStep {
	s := AdminStep{ID: id, Description: desc, Fix: fix}
	if dc == nil {
		s.Status, s.Detail = StepUnknown, "no cluster access"
		return s
	}
	var missing, old []string
	for _, n := range names {
		u, err := dc.Resource(crdGVR).Get(ctx, n, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, n)
			continue
		case apierrors.IsForbidden(err):
			s.Status, s.Detail = StepUnknown, "reading CustomResourceDefinitions is forbidden for this account: ask a cluster admin"
			return s
		case err != nil:
			s.Status, s.Detail = StepUnknown, fmt.Sprintf("reading CRD %s: %v", n, err)
			return s
		}
		if v := crdVersion(u); v != "" && semverLess(v, minVersion) {
			old = append(old, fmt.Sprintf("%s is %s", n, v))
		}
	}
	switch {
	case len(missing) > 0:
		s.Status, s.Detail = StepTodo, "missing: "+strings.Join(missing, ", ")
	case len(old) > 0:
		s.Status, s.Detail = StepTodo, "older than "+minVersion+": "+strings.Join(old, ", ")
	default:
		s.Status = StepDone
	}
	return s
}

// crdVersion reads the operator version a CRD was installed from, from the labels the vendor's
// and the operators' manifests set.
func crdVersion(u *unstructured.Unstructured) string {
	for _, k := range []string{"app.kubernetes.io/version", "strimzi.io/version", "operator-version", "version"} {
		if v, ok := u.GetLabels()[k]; ok && v != "" {
			return strings.TrimPrefix(v, "v")
		}
		if v, ok := u.GetAnnotations()[k]; ok && v != "" {
			return strings.TrimPrefix(v, "v")
		}
	}
	return ""
}

func semverLess(a, b string) bool {
	pa, pb := strings.SplitN(a, ".", 3), strings.SplitN(b, ".", 3)
	for i := 0; i < 3; i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(strings.SplitN(pa[i], "-", 2)[0])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(strings.SplitN(pb[i], "-", 2)[0])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func priorityClassStep(ctx context.Context, in PlanInput) AdminStep {
	s := AdminStep{ID: "priorityclasses", Description: "create the 3 PriorityClasses (7.3 no longer ships them in the charts)",
		Fix: "as cluster admin: kubectl apply -f examples/priority-class/default.yaml (vendor repository), then add -f examples/priority-class/values-default-priority-class.yaml to your values"}
	if in.Kube == nil {
		s.Status, s.Detail = StepUnknown, "no cluster access"
		return s
	}
	list, err := in.Kube.SchedulingV1().PriorityClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		s.Status, s.Detail = StepUnknown, "cannot list PriorityClasses: "+err.Error()
		return s
	}
	have := map[string]bool{}
	for _, pc := range list.Items {
		have[pc.Name] = true
	}
	var missing []string
	for _, set := range priorityClassSets {
		found := false
		for _, n := range set {
			found = found || have[n]
		}
		if !found {
			missing = append(missing, strings.Join(set, " or "))
		}
	}
	if in.Values != nil {
		for name, path := range in.Values.PriorityClassNames() {
			if !have[name] {
				missing = append(missing, fmt.Sprintf("%s (set by %s)", name, path))
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		s.Status, s.Detail = StepTodo, "missing: "+strings.Join(missing, ", ")
	} else {
		s.Status = StepDone
	}
	return s
}

func storageClassStep(ctx context.Context, in PlanInput) AdminStep {
	s := AdminStep{ID: "storageclasses", Description: "create the StorageClasses the values name (7.3 no longer ships them in the charts)",
		Fix: "as cluster admin: kubectl apply -f examples/storage/storage-class-<hosting>.yaml (vendor repository), and use examples/hosting/<hosting>/values-storage.yaml"}
	var wanted map[string]string
	if in.Values != nil {
		wanted = in.Values.StorageClasses()
	}
	if len(wanted) == 0 {
		s.Status, s.Detail = StepUnknown, "no values file names a StorageClass (pass -f with your values-storage.yaml)"
		return s
	}
	if in.Kube == nil {
		s.Status, s.Detail = StepUnknown, "no cluster access"
		return s
	}
	var missing []string
	for path, name := range wanted {
		_, err := in.Kube.StorageV1().StorageClasses().Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, fmt.Sprintf("%s (set by %s)", name, path))
		case err != nil:
			s.Status, s.Detail = StepUnknown, "cannot read StorageClass "+name+": "+err.Error()
			return s
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		s.Status, s.Detail = StepTodo, "missing: "+strings.Join(missing, ", ")
	} else {
		s.Status = StepDone
	}
	return s
}

// valuesChecks checks the user's values against the target's four charts: the installation ID,
// keys no target chart knows, and the charts' values.schema.json.
func valuesChecks(in PlanInput, rep *check.Report) {
	if len(in.ValueFiles) == 0 {
		rep.Add(check.Check{ID: "values.files", Category: CategoryValues, Status: check.Skip,
			Message: "no values file given (-f): the values are not checked", Remediation: "pass your values files with -f; `helm tpe values get` saves the installed ones"})
		return
	}
	// The same installation ID, backup and TLS checks as `kubectl tpe preflight`.
	cs, err := values.Checks(in.Values, "", time.Time{})
	if err != nil {
		rep.Add(check.Check{ID: "values.tls", Category: CategoryValues, Status: check.Fail, Message: err.Error(),
			Remediation: "fix global.ingress.tls (PEM certificate, key and CA)"})
	}
	for _, c := range cs {
		if c.Category == values.CategoryBackup && c.Status == check.Fail && in.State.Fresh() {
			c.Status = check.Warn // mandatory for upgrades (seed 000); a fresh install can add it later
		}
		rep.Add(c)
	}
	if in.Charts == nil {
		rep.Add(check.Check{ID: "values.charts", Category: CategoryValues, Status: check.Skip,
			Message: "the target charts were not fetched: keys are not checked against them", Remediation: "run `helm tpe repo add` so that plan can fetch the charts"})
		return
	}
	var charts []*chart.Chart
	for _, c := range in.Target.Charts() {
		ch, err := in.Charts.LoadChart(c.Chart, c.Version)
		if err != nil {
			rep.Add(check.Check{ID: "values.charts", Category: CategoryValues, Status: check.Skip,
				Message: fmt.Sprintf("cannot fetch %s %s: %v", c.Chart, c.Version, err)})
			return
		}
		charts = append(charts, ch)
		if err := validateSchema(ch, in.Values); err != nil {
			rep.Add(check.Check{ID: "values.schema." + c.ReleaseName, Category: CategoryValues, Status: check.Fail,
				Message:     fmt.Sprintf("the values do not satisfy %s %s's values.schema.json", c.Chart, c.Version),
				Details:     schemaDetails(err),
				Remediation: "compare your values with the new sample (`helm show values " + c.Chart + " --version " + c.Version + "`) and fill in the required keys"})
		}
	}
	unknown := UnknownKeys(in.Values, charts)
	if len(unknown) > 0 {
		rep.Add(check.Check{ID: "values.unknown-keys", Category: CategoryValues, Status: check.Warn,
			Message:     fmt.Sprintf("%d key(s) of %s are known to none of %s's charts", len(unknown), strings.Join(in.ValueFiles, ", "), in.Target.Name),
			Details:     unknown,
			Remediation: "remove or rename them following the new configuration sample of " + in.Target.Name})
	} else {
		rep.Add(check.Check{ID: "values.unknown-keys", Category: CategoryValues, Status: check.Pass,
			Message: fmt.Sprintf("every key of the values is known to %s's charts", in.Target.Name)})
	}
}

func validateSchema(ch *chart.Chart, v values.Values) error {
	coalesced, err := chartutil.CoalesceValues(ch, map[string]any(v))
	if err != nil {
		return err
	}
	return chartutil.ValidateAgainstSchema(ch, coalesced)
}

func schemaDetails(err error) []string {
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "values don't meet") {
			out = append(out, strings.TrimPrefix(l, "- "))
		}
	}
	return out
}

// UnknownKeys returns the dotted paths of the user's values that none of the charts knows
// (their values.yaml, their subcharts' under the subchart's name, and global keys of any of
// them). Maps the charts leave empty are free-form and not descended.
func UnknownKeys(user values.Values, charts []*chart.Chart) []string {
	known := map[string]any{}
	globals := map[string]any{}
	for _, ch := range charts {
		known = mergeKnown(known, chartKnown(ch, globals))
	}
	known["global"] = globals
	var out []string
	walkUnknown("", user, known, &out)
	sort.Strings(out)
	return out
}

func chartKnown(ch *chart.Chart, globals map[string]any) map[string]any {
	k := map[string]any{}
	for key, v := range ch.Values {
		if key == "global" {
			if g, ok := v.(map[string]any); ok {
				mergeKnown(globals, g)
			}
			continue
		}
		k[key] = v
	}
	for _, dep := range ch.Dependencies() {
		name := dep.Name()
		if ch.Metadata != nil {
			for _, d := range ch.Metadata.Dependencies {
				if d.Name == dep.Name() && d.Alias != "" {
					name = d.Alias
				}
			}
		}
		sub := chartKnown(dep, globals)
		if existing, ok := k[name].(map[string]any); ok {
			k[name] = mergeKnown(sub, existing)
		} else {
			k[name] = sub
		}
	}
	return k
}

func mergeKnown(dst, src map[string]any) map[string]any {
	for key, sv := range src {
		sm, sIs := sv.(map[string]any)
		dm, dIs := dst[key].(map[string]any)
		switch {
		case sIs && dIs:
			dst[key] = mergeKnown(dm, sm)
		case sIs:
			dst[key] = mergeKnown(map[string]any{}, sm)
		case !dIs:
			dst[key] = sv
		}
	}
	return dst
}

func walkUnknown(prefix string, user, known map[string]any, out *[]string) {
	for k, uv := range user {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		kv, ok := known[k]
		if !ok {
			*out = append(*out, p)
			continue
		}
		um, uIs := uv.(map[string]any)
		km, kIs := kv.(map[string]any)
		if uIs && kIs && len(km) > 0 {
			walkUnknown(p, um, km, out)
		}
	}
}

// ErrUnreachable is returned (wrapped) when the plan cannot reach its target.
var ErrUnreachable = errors.New("the target cannot be reached")
