// Package wait waits until the StatefulSets and Deployments (and optionally the Jobs) of a
// namespace have rolled out or are ready, and explains what is holding each one back.
//
// It is watch-based: one informer per kind (StatefulSets, Deployments, Jobs, and Pods, PVCs and
// Warning events only to explain reasons). Each informer lists once and then watches; when a
// watch drops or the API server restarts, the informer re-lists, so the wait goes on. Readiness
// is judged on every change, so Run returns as soon as the last workload is ready.
package wait

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
)

// For says what "done" means for a workload.
type For string

const (
	// ForRollout waits until the rollout is complete: observedGeneration caught up, updated, ready
	// and available replicas at spec, and for a RollingUpdate StatefulSet currentRevision ==
	// updateRevision.
	ForRollout For = "rollout"
	// ForReady only waits until the ready replicas reach spec.
	ForReady For = "ready"
)

// ParseFor checks a condition's name; its error names the value, the command names its flag.
func ParseFor(s string) (For, error) {
	switch For(s) {
	case ForRollout, ForReady:
		return For(s), nil
	}
	return "", fmt.Errorf("unknown condition %q: use %q or %q", s, ForRollout, ForReady)
}

// Options configures Run.
type Options struct {
	Namespace string
	// Selector is a label selector on the workloads; "" selects all of them.
	Selector string
	// For is ForRollout (the default when empty) or ForReady.
	For For
	// Timeout bounds the wait; 0 means no timeout (ctx may still carry one).
	Timeout time.Duration
	// IncludeJobs also waits for the Jobs of the namespace to complete (Jobs owned by a CronJob
	// are not part of a rollout and are ignored).
	IncludeJobs bool
	// Progress is called with a new snapshot on every change; it may be nil. It is called from
	// one goroutine at a time.
	Progress func(Snapshot)
	// After are objects the caller has just written (Watch.Wait only): nothing is judged done
	// until the watch holds each of them at its written version or later. They must be selected
	// by the Watch.
	After []Written
}

// Workload is the state of one StatefulSet, Deployment or Job.
type Workload struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Ready   int32  `json:"ready"`
	Desired int32  `json:"desired"`
	Done    bool   `json:"done"`
	// Reason explains why a workload is not done (empty when it is).
	Reason string `json:"reason,omitempty"`
}

// String is "StatefulSet/mongo 1/3".
func (w Workload) String() string {
	return fmt.Sprintf("%s/%s %d/%d", w.Kind, w.Name, w.Ready, w.Desired)
}

// Snapshot is the state of every selected workload at one moment.
type Snapshot struct {
	Workloads []Workload    `json:"workloads"`
	Done      bool          `json:"done"`
	Elapsed   time.Duration `json:"elapsed"`
}

// NotReady returns the workloads that are not done.
func (s Snapshot) NotReady() []Workload {
	var out []Workload
	for _, w := range s.Workloads {
		if !w.Done {
			out = append(out, w)
		}
	}
	return out
}

// Summary is a one-line summary such as "4/6 workloads ready".
func (s Snapshot) Summary() string {
	n := 0
	for _, w := range s.Workloads {
		if w.Done {
			n++
		}
	}
	return fmt.Sprintf("%d/%d workloads ready", n, len(s.Workloads))
}

// TimeoutError is returned when the timeout expires before every workload is done.
type TimeoutError struct {
	NotReady []Workload `json:"notReady"`
	Timeout  time.Duration
}

// Error lists every workload that is not ready with its reason.
func (e *TimeoutError) Error() string {
	var b strings.Builder
	if e.Timeout > 0 {
		fmt.Fprintf(&b, "timed out after %s", e.Timeout)
	} else {
		b.WriteString("timed out")
	}
	if len(e.NotReady) == 0 {
		b.WriteString(" before the workloads could be listed (is the API server reachable?)")
		return b.String()
	}
	fmt.Fprintf(&b, " with %d workload(s) not ready:", len(e.NotReady))
	for _, w := range e.NotReady {
		fmt.Fprintf(&b, "\n  %s: %s", w, w.Reason)
	}
	return b.String()
}

// JobFailedError is returned as soon as an included Job has failed: it will not complete by
// itself, so waiting for the timeout would only hide the cause.
type JobFailedError struct {
	Job Workload
}

// Error implements error.
func (e *JobFailedError) Error() string {
	return fmt.Sprintf("job %s failed: %s", e.Job.Name, e.Job.Reason)
}

// Run waits until every selected workload is done, the timeout expires (*TimeoutError) or ctx
// is cancelled. It returns the last snapshot in every case. It watches for this one wait; a caller
// that waits several times on one namespace shares a Watch instead.
func Run(ctx context.Context, c kubernetes.Interface, o Options) (Snapshot, error) {
	if _, err := labels.Parse(o.Selector); err != nil {
		return Snapshot{}, fmt.Errorf("invalid label selector %q: %w", o.Selector, err)
	}
	w := NewWatch(c, WatchConfig{Namespace: o.Namespace, Selector: o.Selector, IncludeJobs: o.IncludeJobs})
	defer w.Stop()
	return w.Wait(ctx, o)
}

func snapKey(s Snapshot) string {
	var b strings.Builder
	for _, w := range s.Workloads {
		fmt.Fprintf(&b, "%s/%s %d/%d %t %s\n", w.Kind, w.Name, w.Ready, w.Desired, w.Done, w.Reason)
	}
	return b.String()
}

// Objects are the objects Assess judges: the workloads, and the pods, PVCs and events that
// explain them.
type Objects struct {
	StatefulSets []*appsv1.StatefulSet
	Deployments  []*appsv1.Deployment
	Jobs         []*batchv1.Job
	Pods         []*corev1.Pod
	PVCs         []*corev1.PersistentVolumeClaim
	// Events are used only when their type is Warning.
	Events []*corev1.Event
}

// Assess judges every workload of objs exactly as Run does (for `kubectl tpe status`, which
// lists each kind once instead of watching). Jobs owned by a CronJob are skipped; a failed Job
// is not done and its reason starts with "failed".
func Assess(f For, objs Objects) Snapshot {
	if f == "" {
		f = ForRollout
	}
	s, _ := assess(f, objs)
	return s
}

func assess(f For, objs Objects) (Snapshot, *Workload) {
	idx := newIndex(objs)
	var ws []Workload
	var failed *Workload
	for _, s := range objs.StatefulSets {
		ws = append(ws, statefulSet(f, s, idx))
	}
	for _, d := range objs.Deployments {
		ws = append(ws, deployment(f, d, idx))
	}
	for _, j := range objs.Jobs {
		if ownedByKind(j.OwnerReferences, "CronJob") {
			continue
		}
		wl, isFailed := job(j, idx)
		ws = append(ws, wl)
		if isFailed && failed == nil {
			f := wl
			failed = &f
		}
	}
	sort.Slice(ws, func(i, j int) bool {
		if ws[i].Kind != ws[j].Kind {
			return kindOrder(ws[i].Kind) < kindOrder(ws[j].Kind)
		}
		return ws[i].Name < ws[j].Name
	})
	done := true
	for _, x := range ws {
		done = done && x.Done
	}
	return Snapshot{Workloads: ws, Done: done}, failed
}

func kindOrder(k string) int {
	switch k {
	case "StatefulSet":
		return 0
	case "Deployment":
		return 1
	}
	return 2
}

func ownedByKind(refs []metav1.OwnerReference, kind string) bool {
	for _, r := range refs {
		if r.Kind == kind {
			return true
		}
	}
	return false
}

// index holds the pods, PVCs and warning events of the namespace, for explanations.
type index struct {
	pods   []*corev1.Pod
	pvcs   map[string]*corev1.PersistentVolumeClaim
	events map[string]*corev1.Event // latest Warning event per "Kind/name"
}

func newIndex(objs Objects) *index {
	idx := &index{pods: objs.Pods, pvcs: map[string]*corev1.PersistentVolumeClaim{}, events: map[string]*corev1.Event{}}
	for _, p := range objs.PVCs {
		idx.pvcs[p.Name] = p
	}
	for _, e := range objs.Events {
		if e.Type != corev1.EventTypeWarning {
			continue
		}
		key := e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name
		if old, ok := idx.events[key]; !ok || eventTime(e).After(eventTime(old)) {
			idx.events[key] = e
		}
	}
	return idx
}

// PodReason explains why a pod is not ready (unschedulable, image pull error, crash loop, ...),
// using the Warning events given; "" when the pod is ready or finished.
func PodReason(p *corev1.Pod, events []*corev1.Event) string {
	return podReason(p, newIndex(Objects{Events: events}))
}

// PVCReason explains why a PVC is not bound; "" when it is bound.
func PVCReason(pvc *corev1.PersistentVolumeClaim, events []*corev1.Event) string {
	return pvcReason(pvc.Name, newIndex(Objects{PVCs: []*corev1.PersistentVolumeClaim{pvc}, Events: events}))
}

// EventTime is the best timestamp of an event (last, event time, creation).
func EventTime(e *corev1.Event) time.Time { return eventTime(e) }

func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

func (idx *index) podsOf(sel *metav1.LabelSelector) []*corev1.Pod {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() {
		return nil
	}
	var out []*corev1.Pod
	for _, p := range idx.pods {
		if s.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
