// Package status builds the dashboard of `kubectl tpe status`: which TPE release is installed
// and whether it is healthy. It reads each kind once (a fixed number of API requests whatever
// the number of pods), reports through pkg/check, and turns a forbidden read into a skipped
// section instead of a failure.
package status

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/helmstore"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
	"github.com/thingpark-tools/kubectl-tpe/pkg/wait"
)

// Categories of the status checks, in display order.
const (
	CategoryRelease   = "Release"
	CategoryWorkloads = "Workloads"
	CategoryPUM       = "Post-upgrade"
	CategoryIngress   = "Ingress"
	CategoryBackup    = "Backup"
)

// InboundPorts are the TCP ports the TPE cluster prerequisites require on the ingress load
// balancer: 443 (GUI, APIs), 3001 and 3101 (base stations' primary/secondary LNS), 3002 (base
// station SFTP) and 2022 (reverse SSH).
var InboundPorts = []int32{443, 3001, 3101, 3002, 2022}

// Config says what to look at.
type Config struct {
	Namespace string
	Client    kubernetes.Interface
	// Exec runs `status` in deploy/pum; nil skips the post-upgrade section.
	Exec podexec.Executor
	// Matrix is the release matrix (manifest.MustLoad() when nil).
	Matrix *manifest.Matrix
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// EventWindow is how far back warning events count as recent (1h when 0).
	EventWindow time.Duration
}

// Dashboard is the result: the check report (same schema as preflight) plus a release section.
type Dashboard struct {
	check.Report
	Namespace string         `json:"namespace"`
	Release   ReleaseSection `json:"release"`
}

// ReleaseSection says which TPE release the Helm releases match.
type ReleaseSection struct {
	// Name is the matching TPE release (e.g. "v7.3.1"), "mixed/unknown" when the charts match no
	// release, or "unknown" when Helm's release storage cannot be read.
	Name string `json:"name"`
	// Also lists other releases with the same four chart versions (v7.3.0 ≡ v7.3.1).
	Also []string `json:"also,omitempty"`
	// Mismatch explains a mixed/unknown release: which chart differs from the closest release.
	Mismatch []string            `json:"mismatch,omitempty"`
	Helm     []helmstore.Release `json:"helm"`
	// Readable is false when Helm's release storage could not be read.
	Readable bool `json:"readable"`
}

// Unknown is the release name when the installed charts match no known release.
const Unknown = "mixed/unknown"

// NotReadable is the release name when Helm's release storage cannot be read.
const NotReadable = "unknown"

// inputs are the lists read from the API server, one request each.
type inputs struct {
	helm     []helmstore.Release
	sts      []appsv1.StatefulSet
	deps     []appsv1.Deployment
	jobs     []batchv1.Job
	cronJobs []batchv1.CronJob
	pods     []corev1.Pod
	pvcs     []corev1.PersistentVolumeClaim
	events   []corev1.Event
	services []corev1.Service
	canExec  bool
	execWhy  string
	errs     map[string]error
	// pum is the post-upgrade status (read by exec), pumErr why it could not be read.
	pum    *pum.Status
	pumErr error
}

// Collect reads the cluster and builds the dashboard. Only an unusable configuration is an
// error; unreadable parts become skipped or failed checks.
func Collect(ctx context.Context, cfg Config) (*Dashboard, error) {
	if cfg.Client == nil || cfg.Namespace == "" {
		return nil, errors.New("status: a client and a namespace are required")
	}
	if cfg.Matrix == nil {
		cfg.Matrix = manifest.MustLoad()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.EventWindow == 0 {
		cfg.EventWindow = time.Hour
	}
	in := read(ctx, cfg)
	if readPUM(cfg, in) {
		in.pum, in.pumErr = pum.Get(ctx, cfg.Exec, cfg.Namespace)
	}
	return build(cfg, in), nil
}

// build judges the inputs (no request: the post-upgrade status is in in.pum).
func build(cfg Config, in *inputs) *Dashboard {
	d := &Dashboard{Report: *check.NewReport("Status"), Namespace: cfg.Namespace}
	d.release(cfg, in)
	d.workloads(cfg, in)
	d.pum(cfg, in)
	d.ingress(cfg, in)
	d.backup(cfg, in)
	return d
}

// readPUM reports whether the post-upgrade status is to be read: the exec is allowed and
// deploy/pum exists (or the deployments could not be listed).
func readPUM(cfg Config, in *inputs) bool {
	if cfg.Exec == nil || in.errs["exec"] != nil || !in.canExec {
		return false
	}
	return in.errs["deployments"] != nil || hasPUM(in.deps)
}

func hasPUM(deps []appsv1.Deployment) bool {
	for _, dep := range deps {
		if dep.Name == pum.Deployment {
			return true
		}
	}
	return false
}

// read lists every kind once, concurrently.
func read(ctx context.Context, cfg Config) *inputs {
	in := &inputs{errs: map[string]error{}}
	c, ns := cfg.Client, cfg.Namespace
	var mu sync.Mutex // guards in.errs
	var wg sync.WaitGroup
	do := func(key string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				mu.Lock()
				in.errs[key] = err
				mu.Unlock()
			}
		}()
	}
	all := metav1.ListOptions{ResourceVersion: "0"}
	do("helm", func() (err error) { in.helm, err = helmstore.List(ctx, c, ns); return })
	do("statefulsets", func() error {
		l, err := c.AppsV1().StatefulSets(ns).List(ctx, all)
		if err == nil {
			in.sts = l.Items
		}
		return err
	})
	do("deployments", func() error {
		l, err := c.AppsV1().Deployments(ns).List(ctx, all)
		if err == nil {
			in.deps = l.Items
		}
		return err
	})
	do("jobs", func() error {
		l, err := c.BatchV1().Jobs(ns).List(ctx, all)
		if err == nil {
			in.jobs = l.Items
		}
		return err
	})
	do("cronjobs", func() error {
		l, err := c.BatchV1().CronJobs(ns).List(ctx, all)
		if err == nil {
			in.cronJobs = l.Items
		}
		return err
	})
	do("pods", func() error {
		l, err := c.CoreV1().Pods(ns).List(ctx, all)
		if err == nil {
			in.pods = l.Items
		}
		return err
	})
	do("persistentvolumeclaims", func() error {
		l, err := c.CoreV1().PersistentVolumeClaims(ns).List(ctx, all)
		if err == nil {
			in.pvcs = l.Items
		}
		return err
	})
	do("events", func() error {
		l, err := c.CoreV1().Events(ns).List(ctx, metav1.ListOptions{ResourceVersion: "0",
			FieldSelector: fields.OneTermEqualSelector("type", corev1.EventTypeWarning).String()})
		if err == nil {
			in.events = l.Items
		}
		return err
	})
	do("services", func() error {
		l, err := c.CoreV1().Services(ns).List(ctx, all)
		if err == nil {
			in.services = l.Items
		}
		return err
	})
	if cfg.Exec != nil {
		do("exec", func() error {
			r, err := c.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authv1.SelfSubjectAccessReview{
				Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authv1.ResourceAttributes{
					Namespace: ns, Verb: "create", Resource: "pods", Subresource: "exec"}}}, metav1.CreateOptions{})
			if err != nil {
				return err
			}
			in.canExec, in.execWhy = r.Status.Allowed, r.Status.Reason
			return nil
		})
	}
	wg.Wait()
	return in
}

// unreadable turns a read error into a check: skipped when forbidden, failed otherwise.
func unreadable(id, category, what, ns string, err error) check.Check {
	if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
		return check.Check{ID: id, Category: category, Status: check.Skip,
			Message:     fmt.Sprintf("not shown: you may not list %s in namespace %s", what, ns),
			Remediation: fmt.Sprintf("ask for the list verb on %s in namespace %s to see this section", what, ns)}
	}
	return check.Check{ID: id, Category: category, Status: check.Fail, Message: fmt.Sprintf("cannot read %s in namespace %s: %v", what, ns, err)}
}

func (d *Dashboard) release(cfg Config, in *inputs) {
	if err := in.errs["helm"]; err != nil {
		d.Release = ReleaseSection{Name: NotReadable}
		d.Add(unreadable("release.helm", CategoryRelease, "secrets (Helm's release storage)", cfg.Namespace, err))
		return
	}
	d.Release.Readable = true
	d.Release.Helm = in.helm
	byName := map[string]helmstore.Release{}
	for _, r := range in.helm {
		byName[r.Name] = r
	}
	// Releases installed under other names are recognised by their chart.
	chartRelease := map[string]string{}
	for _, c := range cfg.Matrix.Releases[len(cfg.Matrix.Releases)-1].Charts() {
		chartRelease[c.Chart] = c.ReleaseName
	}
	chartRelease[manifest.ChartEnterpriseControllers] = manifest.ReleaseControllers
	chartRelease[manifest.ChartApplicationControllers] = manifest.ReleaseControllers
	for _, r := range in.helm {
		if conv, ok := chartRelease[r.Chart]; ok {
			if _, taken := byName[conv]; !taken {
				byName[conv] = r
			}
		}
	}
	installed := map[string]manifest.ChartRef{}
	for _, name := range manifest.ReleaseNames {
		r, ok := byName[name]
		id := "release.helm." + name
		if !ok {
			d.Add(check.Check{ID: id, Category: CategoryRelease, Status: check.Fail,
				Message:     fmt.Sprintf("Helm release %s is not installed in namespace %s", name, cfg.Namespace),
				Remediation: "install the missing chart of the TPE release (helm tpe install), or pass the namespace of the installation with -n"})
			continue
		}
		installed[name] = manifest.ChartRef{ReleaseName: name, Chart: r.Chart, Version: r.ChartVersion}
		msg := fmt.Sprintf("%s: %s %s, revision %d, %s", r.Name, r.Chart, r.ChartVersion, r.Revision, r.Status)
		c := check.Check{ID: id, Category: CategoryRelease, Status: check.Pass, Message: msg}
		if r.Status != "deployed" {
			c.Status = check.Fail
			c.Remediation = fmt.Sprintf("see `helm history %s -n %s`; resume or roll back the upgrade (helm tpe upgrade / helm tpe rollback)", r.Name, cfg.Namespace)
			if r.Description != "" {
				c.Details = []string{r.Description}
			}
		}
		d.Add(c)
	}
	matches := cfg.Matrix.Match(installed)
	if len(matches) > 0 {
		d.Release.Name = matches[0].Name
		for _, m := range matches[1:] {
			d.Release.Also = append(d.Release.Also, m.Name)
		}
		msg := fmt.Sprintf("the four charts match TPE release %s", matches[0].Name)
		if len(d.Release.Also) > 0 {
			msg += fmt.Sprintf(" (same charts as %s)", strings.Join(d.Release.Also, ", "))
		}
		d.Add(check.Check{ID: "release.match", Category: CategoryRelease, Status: check.Pass, Message: msg})
		return
	}
	d.Release.Name = Unknown
	d.Release.Mismatch = mismatch(cfg.Matrix, installed)
	d.Add(check.Check{ID: "release.match", Category: CategoryRelease, Status: check.Fail,
		Message:     fmt.Sprintf("%s: the installed charts match no TPE release: %s", Unknown, strings.Join(d.Release.Mismatch, "; ")),
		Remediation: "finish the upgrade so that all four charts are at the versions of one release (helm tpe plan shows the path)"})
}

// mismatch compares the installed charts with the closest known release (most charts equal,
// newest on ties) and names each chart that differs.
func mismatch(m *manifest.Matrix, installed map[string]manifest.ChartRef) []string {
	if len(installed) == 0 {
		return []string{"no TPE chart is installed"}
	}
	best, bestScore := -1, -1
	for i, r := range m.Releases {
		score := 0
		for _, c := range r.Charts() {
			if got, ok := installed[c.ReleaseName]; ok && got.Chart == c.Chart && got.Version == c.Version {
				score++
			}
		}
		if score >= bestScore {
			best, bestScore = i, score
		}
	}
	r := m.Releases[best]
	var out []string
	for _, c := range r.Charts() {
		got, ok := installed[c.ReleaseName]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s is missing (%s expects %s %s)", c.ReleaseName, r.Name, c.Chart, c.Version))
		case got.Chart != c.Chart || got.Version != c.Version:
			out = append(out, fmt.Sprintf("%s runs %s %s, %s expects %s %s", c.ReleaseName, got.Chart, got.Version, r.Name, c.Chart, c.Version))
		}
	}
	return out
}

func (d *Dashboard) workloads(cfg Config, in *inputs) {
	ns := cfg.Namespace
	events := make([]*corev1.Event, len(in.events))
	for i := range in.events {
		events[i] = &in.events[i]
	}
	// Workloads, judged with the same rules as `kubectl tpe wait`.
	if err := firstErr(in.errs, "statefulsets", "deployments"); err != nil {
		d.Add(unreadable("workloads.ready", CategoryWorkloads, "statefulsets and deployments", ns, err))
	} else {
		objs := wait.Objects{Events: events}
		for i := range in.sts {
			objs.StatefulSets = append(objs.StatefulSets, &in.sts[i])
		}
		for i := range in.deps {
			objs.Deployments = append(objs.Deployments, &in.deps[i])
		}
		for i := range in.pods {
			objs.Pods = append(objs.Pods, &in.pods[i])
		}
		for i := range in.pvcs {
			objs.PVCs = append(objs.PVCs, &in.pvcs[i])
		}
		snap := wait.Assess(wait.ForReady, objs)
		notReady := snap.NotReady()
		c := check.Check{ID: "workloads.ready", Category: CategoryWorkloads, Status: check.Pass,
			Message: fmt.Sprintf("%d/%d StatefulSets and Deployments ready", len(snap.Workloads)-len(notReady), len(snap.Workloads))}
		if len(snap.Workloads) == 0 {
			c.Status, c.Message = check.Warn, fmt.Sprintf("no StatefulSet or Deployment in namespace %s", ns)
		}
		if len(notReady) > 0 {
			c.Status = check.Fail
			for _, w := range notReady {
				c.Details = append(c.Details, fmt.Sprintf("%s: %s", w, w.Reason))
			}
			c.Remediation = fmt.Sprintf("fix the causes above; `%s wait` follows the rollout live", "kubectl tpe")
		}
		d.Add(c)
	}
	// PVCs.
	if err := in.errs["persistentvolumeclaims"]; err != nil {
		d.Add(unreadable("workloads.pvcs", CategoryWorkloads, "persistentvolumeclaims", ns, err))
	} else {
		bound := 0
		var details []string
		for i := range in.pvcs {
			if in.pvcs[i].Status.Phase == corev1.ClaimBound {
				bound++
			} else {
				details = append(details, wait.PVCReason(&in.pvcs[i], events))
			}
		}
		c := check.Check{ID: "workloads.pvcs", Category: CategoryWorkloads, Status: check.Pass,
			Message: fmt.Sprintf("%d/%d PVCs bound", bound, len(in.pvcs)), Details: limit(details, 20)}
		if len(details) > 0 {
			c.Status = check.Fail
			c.Remediation = "check the StorageClass of the unbound PVCs and its provisioner"
		}
		d.Add(c)
	}
	// Pods that are not ready, with their reason.
	if err := in.errs["pods"]; err != nil {
		d.Add(unreadable("workloads.pods", CategoryWorkloads, "pods", ns, err))
	} else {
		ready, counted := 0, 0
		var details []string
		for i := range in.pods {
			p := &in.pods[i]
			// Finished pods are not expected to be ready; a failed Job pod (a backup, the
			// post-upgrade procedure) is reported by its own section.
			if p.Status.Phase == corev1.PodSucceeded || p.DeletionTimestamp != nil ||
				(p.Status.Phase == corev1.PodFailed && ownedByJob(p.OwnerReferences)) {
				continue
			}
			counted++
			if why := wait.PodReason(p, events); why != "" {
				details = append(details, why)
			} else {
				ready++
			}
		}
		sort.Strings(details)
		c := check.Check{ID: "workloads.pods", Category: CategoryWorkloads, Status: check.Pass,
			Message: fmt.Sprintf("%d/%d pods ready", ready, counted), Details: limit(details, 20)}
		if len(details) > 0 {
			c.Status = check.Fail
		}
		d.Add(c)
	}
	// Recent warning events.
	if err := in.errs["events"]; err != nil {
		d.Add(unreadable("workloads.events", CategoryWorkloads, "events", ns, err))
	} else {
		now := cfg.Now()
		var recent []*corev1.Event
		for _, e := range events {
			if now.Sub(wait.EventTime(e)) <= cfg.EventWindow {
				recent = append(recent, e)
			}
		}
		sort.Slice(recent, func(i, j int) bool { return wait.EventTime(recent[i]).After(wait.EventTime(recent[j])) })
		c := check.Check{ID: "workloads.events", Category: CategoryWorkloads, Status: check.Pass,
			Message: fmt.Sprintf("no warning event in the last %s", cfg.EventWindow)}
		if len(recent) > 0 {
			c.Status = check.Warn
			c.Message = fmt.Sprintf("%d warning event(s) in the last %s", len(recent), cfg.EventWindow)
			var details []string
			for _, e := range recent {
				n := ""
				if e.Count > 1 {
					n = fmt.Sprintf(" (x%d)", e.Count)
				}
				details = append(details, fmt.Sprintf("%s ago %s/%s %s%s: %s", shortDur(now.Sub(wait.EventTime(e))),
					e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, n, text.OneLine(e.Message, 300)))
			}
			c.Details = limit(details, 10)
		}
		d.Add(c)
	}
}

func (d *Dashboard) pum(cfg Config, in *inputs) {
	const id = "pum.verdict"
	switch {
	case cfg.Exec == nil:
		d.Add(check.Check{ID: id, Category: CategoryPUM, Status: check.Skip, Message: "not checked"})
		return
	case in.errs["exec"] != nil:
		d.Add(check.Check{ID: id, Category: CategoryPUM, Status: check.Skip,
			Message: fmt.Sprintf("not checked: cannot tell whether you may exec into pods: %v", in.errs["exec"])})
		return
	case !in.canExec:
		d.Add(check.Check{ID: id, Category: CategoryPUM, Status: check.Skip,
			Message:     fmt.Sprintf("not checked: you may not exec into pods in namespace %s (create pods/exec)", cfg.Namespace),
			Remediation: "ask for the create verb on pods/exec to see the post-upgrade verdict"})
		return
	}
	if in.errs["deployments"] == nil && !hasPUM(in.deps) {
		why := "the thingpark-enterprise chart is not installed"
		for _, h := range in.helm {
			if h.Chart == manifest.ChartEnterprise {
				why = fmt.Sprintf("the installed release (%s) ships no post-upgrade manager", h.ChartString())
			}
		}
		d.Add(check.Check{ID: id, Category: CategoryPUM, Status: check.Skip,
			Message: fmt.Sprintf("not checked: no deploy/%s in namespace %s (%s)", pum.Deployment, cfg.Namespace, why)})
		return
	}
	st, err := in.pum, in.pumErr
	if st == nil && err == nil {
		err = errors.New("not read yet")
	}
	if err != nil {
		d.Add(check.Check{ID: id, Category: CategoryPUM, Status: check.Fail, Message: "cannot read the post-upgrade status",
			Details: []string{text.OneLine(err.Error(), 300)}, Remediation: "see `kubectl tpe pum status` for the full output"})
		return
	}
	done := 0
	for _, e := range st.Entries {
		if e.Finished() {
			done++
		}
	}
	c := check.Check{ID: id, Category: CategoryPUM, Message: fmt.Sprintf("post-upgrade procedure %s: %d/%d request(s) processed or skipped", st.Verdict, done, len(st.Entries)),
		Details: st.Warnings}
	switch st.Verdict {
	case pum.Done:
		c.Status = check.Pass
	case pum.InProgress:
		c.Status = check.Warn
		c.Remediation = "wait for it: kubectl tpe pum status --wait"
	default:
		c.Status = check.Fail
		for _, e := range st.Aborted() {
			c.Details = append(c.Details, fmt.Sprintf("ABORTED %s: %s", e.RequestID, string(e.LastResponse)))
		}
		c.Remediation = "read `kubectl tpe pum logs`, fix the cause, then `kubectl tpe pum restart`"
	}
	d.Add(c)
}

func (d *Dashboard) ingress(cfg Config, in *inputs) {
	if err := in.errs["services"]; err != nil {
		d.Add(unreadable("ingress.loadbalancer", CategoryIngress, "services", cfg.Namespace, err))
		return
	}
	var lbs []corev1.Service
	for _, s := range in.services {
		if s.Spec.Type == corev1.ServiceTypeLoadBalancer {
			lbs = append(lbs, s)
		}
	}
	if len(lbs) == 0 {
		d.Add(check.Check{ID: "ingress.loadbalancer", Category: CategoryIngress, Status: check.Fail,
			Message:     "no LoadBalancer Service in the namespace: TPE is not reachable from base stations and users",
			Remediation: "install the thingpark-application-controllers chart (tpe-controllers) with its ingress-nginx LoadBalancer"})
		return
	}
	// The ingress controller's Service first.
	sort.SliceStable(lbs, func(i, j int) bool {
		return strings.Contains(lbs[i].Name, "ingress-nginx-controller") && !strings.Contains(lbs[j].Name, "ingress-nginx-controller")
	})
	s := lbs[0]
	var addrs []string
	for _, ing := range s.Status.LoadBalancer.Ingress {
		if ing.IP != "" {
			addrs = append(addrs, ing.IP)
		}
		if ing.Hostname != "" {
			addrs = append(addrs, ing.Hostname)
		}
	}
	c := check.Check{ID: "ingress.loadbalancer", Category: CategoryIngress, Status: check.Pass,
		Message: fmt.Sprintf("Service %s has the address %s", s.Name, strings.Join(addrs, ", "))}
	if len(addrs) == 0 {
		c.Status = check.Fail
		c.Message = fmt.Sprintf("Service %s has no load balancer address yet", s.Name)
		c.Remediation = "check the cloud load balancer controller and the Service's events"
	}
	d.Add(c)
	have := map[int32]bool{}
	var ports []string
	for _, p := range s.Spec.Ports {
		if p.Protocol == "" || p.Protocol == corev1.ProtocolTCP {
			have[p.Port] = true
			ports = append(ports, strconv.Itoa(int(p.Port)))
		}
	}
	var missing []string
	for _, p := range InboundPorts {
		if !have[p] {
			missing = append(missing, strconv.Itoa(int(p)))
		}
	}
	pc := check.Check{ID: "ingress.ports", Category: CategoryIngress, Status: check.Pass,
		Message: fmt.Sprintf("Service %s exposes TCP %s, every inbound port of the prerequisites", s.Name, strings.Join(ports, ", "))}
	if len(missing) > 0 {
		pc.Status = check.Warn
		pc.Message = fmt.Sprintf("Service %s exposes TCP %s but not %s (base stations and users need 443, 3001, 3101, 3002, 2022)", s.Name, strings.Join(ports, ", "), strings.Join(missing, ", "))
		pc.Remediation = "set the ingress-nginx tcp ports in the values of tpe-controllers"
	}
	d.Add(pc)
}

func (d *Dashboard) backup(cfg Config, in *inputs) {
	if err := in.errs["cronjobs"]; err != nil {
		d.Add(unreadable("backup.cronjob", CategoryBackup, "cronjobs", cfg.Namespace, err))
		return
	}
	var cj *batchv1.CronJob
	for i := range in.cronJobs {
		if strings.Contains(in.cronJobs[i].Name, "backup") {
			cj = &in.cronJobs[i]
			break
		}
	}
	if cj == nil {
		d.Add(check.Check{ID: "backup.cronjob", Category: CategoryBackup, Status: check.Warn,
			Message:     "no backup CronJob: scheduled backups are not configured",
			Remediation: "set global.backup.schedule and the backup storage in the values of the tpe release"})
		return
	}
	now := cfg.Now()
	c := check.Check{ID: "backup.cronjob", Category: CategoryBackup, Status: check.Pass}
	sched := fmt.Sprintf("CronJob %s (schedule %q)", cj.Name, cj.Spec.Schedule)
	switch {
	case cj.Spec.Suspend != nil && *cj.Spec.Suspend:
		c.Status, c.Message = check.Warn, sched+" is suspended"
	case cj.Status.LastSuccessfulTime != nil:
		age := now.Sub(cj.Status.LastSuccessfulTime.Time)
		c.Message = fmt.Sprintf("%s: last successful backup %s ago (%s)", sched, shortDur(age), cj.Status.LastSuccessfulTime.UTC().Format(time.RFC3339))
		if age > 48*time.Hour {
			c.Status = check.Warn
			c.Remediation = "the last successful backup is more than 2 days old: check the backup Jobs' logs"
		}
	default:
		c.Status, c.Message = check.Warn, sched+": no successful run yet"
		c.Remediation = "check the logs of the backup Jobs, or run a backup now"
	}
	if in.errs["jobs"] == nil {
		var lastFailed *batchv1.Job
		for i := range in.jobs {
			j := &in.jobs[i]
			if !ownedBy(j.OwnerReferences, cj.Name) {
				continue
			}
			for _, cond := range j.Status.Conditions {
				if cond.Type == batchv1.JobFailed && cond.Status == corev1.ConditionTrue &&
					(lastFailed == nil || j.CreationTimestamp.After(lastFailed.CreationTimestamp.Time)) {
					lastFailed = j
				}
			}
		}
		if lastFailed != nil && (cj.Status.LastSuccessfulTime == nil || lastFailed.CreationTimestamp.After(cj.Status.LastSuccessfulTime.Time)) {
			c.Status = check.Warn
			c.Details = append(c.Details, fmt.Sprintf("the latest backup Job %s failed", lastFailed.Name))
		}
	}
	d.Add(c)
}

func ownedBy(refs []metav1.OwnerReference, name string) bool {
	for _, r := range refs {
		if r.Kind == "CronJob" && r.Name == name {
			return true
		}
	}
	return false
}

func ownedByJob(refs []metav1.OwnerReference) bool {
	for _, r := range refs {
		if r.Kind == "Job" {
			return true
		}
	}
	return false
}

func firstErr(errs map[string]error, keys ...string) error {
	for _, k := range keys {
		if errs[k] != nil {
			return errs[k]
		}
	}
	return nil
}

func limit(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("... and %d more", len(s)-n))
	}
	return s
}

func shortDur(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
