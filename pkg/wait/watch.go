package wait

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// Written is an object the caller has just written (created, patched or replaced) and the resource
// version the API server returned for it.
type Written struct {
	// Kind is StatefulSet, Deployment or Job; other kinds are ignored.
	Kind string `json:"kind"`
	// Namespace is the object's; one other than the Watch's is ignored.
	Namespace       string `json:"namespace"`
	Name            string `json:"name"`
	ResourceVersion string `json:"resourceVersion"`
}

// WatchConfig says what a Watch watches.
type WatchConfig struct {
	Namespace string
	// Selector is a label selector on the workloads, applied by the API server; "" selects all.
	Selector string
	// IncludeJobs also watches the Jobs of the namespace (needed by waits with IncludeJobs).
	IncludeJobs bool
	// ExplainOnTimeout watches only the workloads: the pods, PVCs and Warning events that
	// explain why one is not ready are listed once, when a wait times out. For callers that show
	// a summary while waiting and the reasons only in the TimeoutError (an upgrade run).
	ExplainOnTimeout bool
}

// Watch is the set of informers of one namespace that any number of waits consult: the
// StatefulSets, Deployments (and Jobs), and the pods, PVCs and Warning events that explain them.
// It lists each kind once, on the first wait, then keeps watching until Stop: when a watch drops
// or the API server restarts, the informer lists again and the waits go on. A run that waits after
// each of several charts pays for one list and one watch per kind instead of one per wait.
//
// Because the caches outlive each wait, a wait that follows a write passes the written objects
// (Options.After): it judges only once the caches hold them at that version or later, never the
// state from before the write.
type Watch struct {
	c   kubernetes.Interface
	cfg WatchConfig

	startOnce sync.Once
	stopOnce  sync.Once
	stop      chan struct{}
	sts       cache.SharedIndexInformer
	dep       cache.SharedIndexInformer
	jobs      cache.SharedIndexInformer
	pods      cache.SharedIndexInformer
	pvcs      cache.SharedIndexInformer
	evs       cache.SharedIndexInformer
	startErr  error

	// fatal is closed once fatalErr is set: the workloads cannot be watched at all.
	fatal     chan struct{}
	fatalOnce sync.Once
	fatalErr  error
	// synced is set once the workloads have been listed: later errors are never fatal.
	synced atomic.Bool

	mu   sync.Mutex // guards subs
	subs map[chan struct{}]struct{}
}

// NewWatch returns a Watch; nothing is listed before its first Wait.
func NewWatch(c kubernetes.Interface, cfg WatchConfig) *Watch {
	return &Watch{c: c, cfg: cfg, stop: make(chan struct{}), fatal: make(chan struct{}), subs: map[chan struct{}]struct{}{}}
}

// Stop stops the informers. A Wait after Stop fails.
func (w *Watch) Stop() {
	w.stopOnce.Do(func() { close(w.stop) })
}

// signal wakes every wait in progress; each has room for one signal, so bursts of changes
// coalesce into one evaluation.
func (w *Watch) signal() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (w *Watch) subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	w.subs[ch] = struct{}{}
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		delete(w.subs, ch)
		w.mu.Unlock()
	}
}

func (w *Watch) setFatal(err error) {
	w.fatalOnce.Do(func() {
		w.fatalErr = err
		close(w.fatal)
	})
}

// start builds and starts the informers, once.
func (w *Watch) start() error {
	w.startOnce.Do(func() { w.startErr = w.startInformers() })
	return w.startErr
}

func (w *Watch) startInformers() error {
	ns := w.cfg.Namespace
	// Workloads are filtered by the selector on the server. Pods, PVCs and events are read
	// namespace-wide, only to explain reasons (a workload's pods need not carry its labels).
	wl := informers.NewSharedInformerFactoryWithOptions(w.c, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) { lo.LabelSelector = w.cfg.Selector }))
	aux := informers.NewSharedInformerFactoryWithOptions(w.c, 0, informers.WithNamespace(ns))
	evf := informers.NewSharedInformerFactoryWithOptions(w.c, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
			lo.FieldSelector = fields.OneTermEqualSelector("type", corev1.EventTypeWarning).String()
		}))
	w.sts = wl.Apps().V1().StatefulSets().Informer()
	w.dep = wl.Apps().V1().Deployments().Informer()
	main := []cache.SharedIndexInformer{w.sts, w.dep}
	if w.cfg.IncludeJobs {
		w.jobs = wl.Batch().V1().Jobs().Informer()
		main = append(main, w.jobs)
	}
	var explainers []cache.SharedIndexInformer
	if !w.cfg.ExplainOnTimeout {
		w.pods = aux.Core().V1().Pods().Informer()
		w.pvcs = aux.Core().V1().PersistentVolumeClaims().Informer()
		w.evs = evf.Core().V1().Events().Informer()
		explainers = []cache.SharedIndexInformer{w.pods, w.pvcs, w.evs}
	}

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
				w.setFatal(fmt.Errorf("cannot watch workloads in namespace %s: %w", ns, err))
				return
			}
			klog.V(2).Infof("wait: %s: %v (re-listing)", r.TypeDescription(), err)
		})
	}
	for _, inf := range explainers {
		if _, err := inf.AddEventHandler(h); err != nil {
			return fmt.Errorf("watching pods: %w", err)
		}
		// Explanations are best effort: a user who cannot read events still gets the wait.
		_ = inf.SetWatchErrorHandlerWithContext(func(ctx context.Context, r *cache.Reflector, err error) {
			klog.V(2).Infof("wait: %s (only used to explain reasons): %v", r.TypeDescription(), err)
		})
	}
	wl.Start(w.stop)
	aux.Start(w.stop)
	evf.Start(w.stop)
	return nil
}

// sync waits until the workloads have been listed.
func (w *Watch) sync(ctx context.Context, timeout time.Duration) error {
	if w.synced.Load() {
		return nil
	}
	synced := []cache.InformerSynced{w.sts.HasSynced, w.dep.HasSynced}
	if w.jobs != nil {
		synced = append(synced, w.jobs.HasSynced)
	}
	if !cache.WaitForCacheSync(mergeStop(ctx, w.stop, w.fatal), synced...) {
		select {
		case <-w.fatal:
			return w.fatalErr
		default:
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &TimeoutError{Timeout: timeout}
		}
		if ctx.Err() == nil {
			return fmt.Errorf("listing workloads in %s: the watch was stopped", w.cfg.Namespace)
		}
		return fmt.Errorf("listing workloads in %s: %w", w.cfg.Namespace, context.Cause(ctx))
	}
	w.synced.Store(true)
	return nil
}

// Wait waits, on the Watch's caches, until every workload selected by o is done, the timeout
// expires (*TimeoutError) or ctx is cancelled. It returns the last snapshot in every case.
// o.Namespace is the Watch's; o.Selector further filters its workloads.
func (w *Watch) Wait(ctx context.Context, o Options) (Snapshot, error) {
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
	if o.IncludeJobs && !w.cfg.IncludeJobs {
		return Snapshot{}, errors.New("waiting for Jobs on a watch without Jobs")
	}
	start := time.Now()
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	dirty, unsubscribe := w.subscribe()
	defer unsubscribe()
	if err := w.start(); err != nil {
		return Snapshot{}, err
	}
	if err := w.sync(ctx, o.Timeout); err != nil {
		return Snapshot{}, err
	}

	var last Snapshot
	var lastKey string
	for {
		snap, failed := w.evaluate(o, sel)
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
		case <-dirty:
		case <-w.fatal:
			return last, w.fatalErr
		case <-w.stop:
			return last, fmt.Errorf("waiting for workloads in %s: the watch was stopped", w.cfg.Namespace)
		case <-ctx.Done():
			last, _ = w.evaluate(o, sel)
			last.Elapsed = time.Since(start)
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				if w.cfg.ExplainOnTimeout && !last.Done {
					last = w.explain(o, sel, last.Elapsed)
				}
				return last, &TimeoutError{NotReady: last.NotReady(), Timeout: o.Timeout}
			}
			return last, fmt.Errorf("waiting for workloads in %s: %w", w.cfg.Namespace, ctx.Err())
		}
	}
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

// evaluate computes a snapshot from the caches; failed is a Job that has failed, if any. While
// the caches have not yet seen an object of o.After at its written version, nothing is done.
func (w *Watch) evaluate(o Options, sel labels.Selector) (Snapshot, *Workload) {
	return w.evaluateWith(o, sel, Objects{})
}

// explain lists the pods, PVCs and Warning events of the namespace once (best effort: a user who
// cannot read events still gets the workloads) and judges the workloads with them.
func (w *Watch) explain(o Options, sel labels.Selector, elapsed time.Duration) Snapshot {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var extra Objects
	ns := w.cfg.Namespace
	if l, err := w.c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for i := range l.Items {
			extra.Pods = append(extra.Pods, &l.Items[i])
		}
	}
	if l, err := w.c.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for i := range l.Items {
			extra.PVCs = append(extra.PVCs, &l.Items[i])
		}
	}
	warn := fields.OneTermEqualSelector("type", corev1.EventTypeWarning).String()
	if l, err := w.c.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: warn}); err == nil {
		for i := range l.Items {
			extra.Events = append(extra.Events, &l.Items[i])
		}
	}
	snap, _ := w.evaluateWith(o, sel, extra)
	snap.Elapsed = elapsed
	return snap
}

// evaluateWith is evaluate with the pods, PVCs and events of extra when the Watch does not watch them.
func (w *Watch) evaluateWith(o Options, sel labels.Selector, extra Objects) (Snapshot, *Workload) {
	var objs Objects
	for _, obj := range w.sts.GetStore().List() {
		if s := obj.(*appsv1.StatefulSet); sel.Matches(labels.Set(s.Labels)) {
			objs.StatefulSets = append(objs.StatefulSets, s)
		}
	}
	for _, obj := range w.dep.GetStore().List() {
		if d := obj.(*appsv1.Deployment); sel.Matches(labels.Set(d.Labels)) {
			objs.Deployments = append(objs.Deployments, d)
		}
	}
	if o.IncludeJobs {
		for _, obj := range w.jobs.GetStore().List() {
			if j := obj.(*batchv1.Job); sel.Matches(labels.Set(j.Labels)) {
				objs.Jobs = append(objs.Jobs, j)
			}
		}
	}
	if w.cfg.ExplainOnTimeout {
		objs.Pods, objs.PVCs, objs.Events = extra.Pods, extra.PVCs, extra.Events
	} else {
		for _, obj := range w.pods.GetStore().List() {
			objs.Pods = append(objs.Pods, obj.(*corev1.Pod))
		}
		for _, obj := range w.pvcs.GetStore().List() {
			objs.PVCs = append(objs.PVCs, obj.(*corev1.PersistentVolumeClaim))
		}
		for _, obj := range w.evs.GetStore().List() {
			objs.Events = append(objs.Events, obj.(*corev1.Event))
		}
	}
	snap, failed := assess(o.For, objs)
	if behind := w.behind(o.After); len(behind) > 0 {
		snap.Done, failed = false, nil
		for _, b := range behind {
			const reason = "written, not yet seen by the watch"
			if i := workloadIndex(snap.Workloads, b.Kind, b.Name); i >= 0 {
				snap.Workloads[i].Done, snap.Workloads[i].Reason = false, reason
			} else {
				snap.Workloads = append(snap.Workloads, Workload{Kind: b.Kind, Name: b.Name, Reason: reason})
			}
		}
	}
	return snap, failed
}

// behind returns the written objects the caches do not yet hold at their written version.
func (w *Watch) behind(written []Written) []Written {
	var out []Written
	for _, x := range written {
		if x.Namespace != w.cfg.Namespace {
			continue
		}
		var store cache.Store
		switch x.Kind {
		case "StatefulSet":
			store = w.sts.GetStore()
		case "Deployment":
			store = w.dep.GetStore()
		case "Job":
			if w.jobs == nil {
				continue
			}
			store = w.jobs.GetStore()
		default:
			continue
		}
		obj, ok, err := store.GetByKey(w.cfg.Namespace + "/" + x.Name)
		if err != nil || !ok {
			out = append(out, x)
			continue
		}
		m, err := meta.Accessor(obj)
		if err != nil {
			continue
		}
		// Resource versions are compared as the API server defines them; when they cannot be
		// (another storage), holding the object is all that can be checked.
		if c, err := resourceversion.CompareResourceVersion(m.GetResourceVersion(), x.ResourceVersion); err == nil && c < 0 {
			out = append(out, x)
		}
	}
	return out
}

func workloadIndex(ws []Workload, kind, name string) int {
	for i, w := range ws {
		if w.Kind == kind && w.Name == name {
			return i
		}
	}
	return -1
}
