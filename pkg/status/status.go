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
	// PostUpgrade is the verdict of the post-upgrade manager (done, in progress, failed); absent
	// when it was not read.
	PostUpgrade string `json:"postUpgrade,omitempty"`
	// LastSuccessfulBackup is when the backup CronJob last succeeded; absent when never or unknown.
	LastSuccessfulBackup *time.Time `json:"lastSuccessfulBackup,omitempty"`
}

// ReleaseSection says which TPE release the Helm releases match.
type ReleaseSection struct {
	// Name is the matching TPE release (e.g. "v7.3.1"), "mixed/unknown" when the charts match no
	// release, or "unknown" when Helm's release storage cannot be read.
	Name string `json:"name"`
	// Also lists other releases with the same four chart versions (v7.3.0 ≡ v7.3.1).
	Also []string `json:"also,omitempty"`
	// Mismatch explains a mixed/unknown release: which chart differs from the closest release.
	Mismatch []string `json:"mismatch,omitempty"`
	// RolledBackFrom is set when tpe was rolled back to Name after an upgrade to this release,
	// whose charts 1–3 stay installed (the state the vendor's rollback leaves).
	RolledBackFrom string              `json:"rolledBackFrom,omitempty"`
	Helm           []helmstore.Release `json:"helm"`
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

func (d *Dashboard) workloads(cfg Config, in *inputs) {
	ns := cfg.Namespace
	events := make([]*corev1.Event, len(in.events))
	for i := range in.events {
		events[i] = &in.events[i]
	}
	// healthy holds the objects ("Kind/name") that are fine now: their warning events are history.
	healthy := map[string]bool{}
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
		for _, w := range snap.Workloads {
			healthy[w.Kind+"/"+w.Name] = w.Done
		}
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
			c.Remediation = "fix the causes above; `{cmd:wait}` follows the rollout live"
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
				healthy["PersistentVolumeClaim/"+in.pvcs[i].Name] = true
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
				healthy["Pod/"+p.Name] = true
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
		d.Add(eventsCheck(cfg, events, healthy))
	}
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

// conflictMessage is how the API server words an optimistic-concurrency conflict: a controller
// wrote an object that changed under it and simply retries, nothing is wrong.
const conflictMessage = "the object has been modified"

// eventsCheck judges the recent warning events: those of objects that are healthy now (a pod
// that did not fit until the cluster scaled, and has been ready since) are history, shown but not
// warned of; optimistic-concurrency conflicts are dropped.
func eventsCheck(cfg Config, events []*corev1.Event, healthy map[string]bool) check.Check {
	now := cfg.Now()
	var current, history []*corev1.Event
	for _, e := range events {
		switch {
		case now.Sub(wait.EventTime(e)) > cfg.EventWindow, strings.Contains(e.Message, conflictMessage):
		case healthy[e.InvolvedObject.Kind+"/"+e.InvolvedObject.Name]:
			history = append(history, e)
		default:
			current = append(current, e)
		}
	}
	byTime := func(l []*corev1.Event) {
		sort.Slice(l, func(i, j int) bool { return wait.EventTime(l[i]).After(wait.EventTime(l[j])) })
	}
	byTime(current)
	byTime(history)
	line := func(e *corev1.Event, suffix string) string {
		n := ""
		if e.Count > 1 {
			n = fmt.Sprintf(" (x%d)", e.Count)
		}
		return fmt.Sprintf("%s ago %s/%s %s%s: %s%s", shortDur(now.Sub(wait.EventTime(e))),
			e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, n, text.OneLine(e.Message, 300), suffix)
	}
	c := check.Check{ID: "workloads.events", Category: CategoryWorkloads, Status: check.Pass,
		Message: fmt.Sprintf("no warning event in the last %s", cfg.EventWindow)}
	var details []string
	for _, e := range current {
		details = append(details, line(e, ""))
	}
	if len(current) > 0 {
		c.Status = check.Warn
		c.Message = fmt.Sprintf("%d warning event(s) in the last %s", len(current), cfg.EventWindow)
	}
	if len(history) > 0 {
		c.Message += fmt.Sprintf(" (%d earlier one(s) of objects healthy now, not counted)", len(history))
		for _, e := range history {
			details = append(details, line(e, " (history: healthy now)"))
		}
	}
	c.Details = limit(details, 10)
	return c
}
