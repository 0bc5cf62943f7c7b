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
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
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

// ParseFor checks a --for value.
func ParseFor(s string) (For, error) {
	switch For(s) {
	case ForRollout, ForReady:
		return For(s), nil
	}
	return "", fmt.Errorf("unknown --for value %q: use %q or %q", s, ForRollout, ForReady)
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
// is cancelled. It returns the last snapshot in every case.
func Run(ctx context.Context, c kubernetes.Interface, o Options) (Snapshot, error) {
	if o.For == "" {
		o.For = ForRollout
	}
	if _, err := ParseFor(string(o.For)); err != nil {
		return Snapshot{}, err
	}
	sel, err := labels.Parse(o.Selector)
	if err != nil {
		return Snapshot{}, fmt.Errorf("invalid label selector %q: %w", o.Selector, err)
	}
	start := time.Now()
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	w := newWatcher(c, o, sel)
	stop := make(chan struct{})
	defer close(stop)
	if err := w.start(ctx, stop); err != nil {
		return Snapshot{}, err
	}

	var last Snapshot
	var lastKey string
	for {
		snap, failed := w.evaluate()
		snap.Elapsed = time.Since(start)
		if key := snapKey(snap); key != lastKey {
			lastKey = key
			if o.Progress != nil {
				o.Progress(snap)
			}
		}
		last = snap
		if snap.Done {
			return snap, nil
		}
		if failed != nil {
			return snap, &JobFailedError{Job: *failed}
		}
		select {
		case <-w.dirty:
		case <-w.fatal:
			return last, w.fatalErr
		case <-ctx.Done():
			last, _ = w.evaluate()
			last.Elapsed = time.Since(start)
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return last, &TimeoutError{NotReady: last.NotReady(), Timeout: o.Timeout}
			}
			return last, fmt.Errorf("waiting for workloads in %s: %w", o.Namespace, ctx.Err())
		}
	}
}

func snapKey(s Snapshot) string {
	var b strings.Builder
	for _, w := range s.Workloads {
		fmt.Fprintf(&b, "%s/%s %d/%d %t %s\n", w.Kind, w.Name, w.Ready, w.Desired, w.Done, w.Reason)
	}
	return b.String()
}

type watcher struct {
	c    kubernetes.Interface
	o    Options
	sel  labels.Selector
	sts  cache.SharedIndexInformer
	dep  cache.SharedIndexInformer
	jobs cache.SharedIndexInformer
	pods cache.SharedIndexInformer
	pvcs cache.SharedIndexInformer
	evs  cache.SharedIndexInformer

	// dirty has room for one signal: bursts of changes coalesce into one evaluation.
	dirty chan struct{}
	// fatal is closed once fatalErr is set: the workloads cannot be watched at all.
	fatal    chan struct{}
	once     sync.Once
	fatalErr error
	// synced is set once the workloads have been listed: later errors are never fatal.
	synced atomic.Bool
}

func newWatcher(c kubernetes.Interface, o Options, sel labels.Selector) *watcher {
	return &watcher{c: c, o: o, sel: sel, dirty: make(chan struct{}, 1), fatal: make(chan struct{})}
}

func (w *watcher) signal() {
	select {
	case w.dirty <- struct{}{}:
	default:
	}
}

func (w *watcher) start(ctx context.Context, stop chan struct{}) error {
	// Workloads are filtered by the user's selector on the server. Pods, PVCs and events are
	// read namespace-wide, only to explain reasons (a workload's pods need not carry its labels).
	wl := informers.NewSharedInformerFactoryWithOptions(w.c, 0, informers.WithNamespace(w.o.Namespace),
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) { lo.LabelSelector = w.o.Selector }))
	aux := informers.NewSharedInformerFactoryWithOptions(w.c, 0, informers.WithNamespace(w.o.Namespace))
	evf := informers.NewSharedInformerFactoryWithOptions(w.c, 0, informers.WithNamespace(w.o.Namespace),
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
			lo.FieldSelector = fields.OneTermEqualSelector("type", corev1.EventTypeWarning).String()
		}))
	w.sts = wl.Apps().V1().StatefulSets().Informer()
	w.dep = wl.Apps().V1().Deployments().Informer()
	synced := []cache.InformerSynced{w.sts.HasSynced, w.dep.HasSynced}
	main := []cache.SharedIndexInformer{w.sts, w.dep}
	if w.o.IncludeJobs {
		w.jobs = wl.Batch().V1().Jobs().Informer()
		synced = append(synced, w.jobs.HasSynced)
		main = append(main, w.jobs)
	}
	w.pods = aux.Core().V1().Pods().Informer()
	w.pvcs = aux.Core().V1().PersistentVolumeClaims().Informer()
	w.evs = evf.Core().V1().Events().Informer()

	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { w.signal() },
		UpdateFunc: func(any, any) { w.signal() },
		DeleteFunc: func(any) { w.signal() },
	}
	for _, inf := range main {
		if _, err := inf.AddEventHandler(h); err != nil {
			return fmt.Errorf("watching workloads: %w", err)
		}
		// Not being allowed to list the workloads at the start is fatal. Any later list/watch
		// error is retried by the informer with a re-list: a dropped connection, and also an API
		// server restart, whose authorizer answers "forbidden" until it has loaded RBAC.
		_ = inf.SetWatchErrorHandlerWithContext(func(ctx context.Context, r *cache.Reflector, err error) {
			if !w.synced.Load() && (apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err)) {
				w.once.Do(func() {
					w.fatalErr = fmt.Errorf("cannot watch workloads in namespace %s: %w", w.o.Namespace, err)
					close(w.fatal)
				})
				return
			}
			klog.V(2).Infof("wait: %s: %v (re-listing)", r.TypeDescription(), err)
		})
	}
	for _, inf := range []cache.SharedIndexInformer{w.pods, w.pvcs, w.evs} {
		if _, err := inf.AddEventHandler(h); err != nil {
			return fmt.Errorf("watching pods: %w", err)
		}
		// Explanations are best effort: a user who cannot read events still gets the wait.
		_ = inf.SetWatchErrorHandlerWithContext(func(ctx context.Context, r *cache.Reflector, err error) {
			klog.V(2).Infof("wait: %s (only used to explain reasons): %v", r.TypeDescription(), err)
		})
	}
	wl.Start(stop)
	aux.Start(stop)
	evf.Start(stop)
	if !cache.WaitForCacheSync(mergeStop(ctx, stop, w.fatal), synced...) {
		select {
		case <-w.fatal:
			return w.fatalErr
		default:
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &TimeoutError{Timeout: w.o.Timeout}
		}
		return fmt.Errorf("listing workloads in %s: %w", w.o.Namespace, context.Cause(ctx))
	}
	w.synced.Store(true)
	return nil
}

func mergeStop(ctx context.Context, stop, fatal chan struct{}) <-chan struct{} {
	out := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-stop:
		case <-fatal:
		}
		close(out)
	}()
	return out
}

// evaluate computes a snapshot from the caches; failed is a Job that has failed, if any.
func (w *watcher) evaluate() (Snapshot, *Workload) {
	var objs Objects
	for _, obj := range w.sts.GetStore().List() {
		objs.StatefulSets = append(objs.StatefulSets, obj.(*appsv1.StatefulSet))
	}
	for _, obj := range w.dep.GetStore().List() {
		objs.Deployments = append(objs.Deployments, obj.(*appsv1.Deployment))
	}
	if w.jobs != nil {
		for _, obj := range w.jobs.GetStore().List() {
			objs.Jobs = append(objs.Jobs, obj.(*batchv1.Job))
		}
	}
	for _, obj := range w.pods.GetStore().List() {
		objs.Pods = append(objs.Pods, obj.(*corev1.Pod))
	}
	for _, obj := range w.pvcs.GetStore().List() {
		objs.PVCs = append(objs.PVCs, obj.(*corev1.PersistentVolumeClaim))
	}
	for _, obj := range w.evs.GetStore().List() {
		objs.Events = append(objs.Events, obj.(*corev1.Event))
	}
	return assess(w.o.For, objs)
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
