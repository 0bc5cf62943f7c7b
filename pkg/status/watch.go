package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/thingpark-tools/kubectl-tpe/pkg/helmstore"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
)

// WatchConfig configures Watch.
type WatchConfig struct {
	// Interval is how often the dashboard is judged again without a change (ages, the window of
	// recent events: no request), and how often the post-upgrade status, which has no watch, is
	// read again while it is not done or failed. 5s when 0.
	Interval time.Duration
	// MinGap coalesces bursts of changes (a rollout): at most one dashboard per MinGap. 200ms
	// when 0.
	MinGap time.Duration
	// RefreshAges also gives a dashboard every Interval when nothing changed, so that ages ("5m
	// ago") stay current (a terminal redrawn in place). Without it, a dashboard follows only a
	// change of the cluster or of the post-upgrade status.
	RefreshAges bool
}

// Watch is Collect for `status --watch`: it lists each kind once (one informer per kind), then
// only follows watch events, so a refresh costs no request. onChange receives a dashboard at the
// start, after every change and every Interval; Watch returns when ctx is done (nil) or when
// onChange returns an error.
//
// The post-upgrade status is read by exec at the start, again when deploy/pum or Job pum-process
// change, and every Interval while the procedure is in progress (it has no watch).
func Watch(ctx context.Context, cfg Config, wc WatchConfig, onChange func(*Dashboard) error) error {
	if cfg.Client == nil || cfg.Namespace == "" {
		return errors.New("status: a client and a namespace are required")
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
	if wc.Interval <= 0 {
		wc.Interval = 5 * time.Second
	}
	if wc.MinGap <= 0 {
		wc.MinGap = 200 * time.Millisecond
	}
	w := &watcher{cfg: cfg, dirty: make(chan struct{}, 1)}
	defer w.stop()
	w.start()
	if w.waitStarted(ctx) != nil {
		return nil // ctx is done before anything was listed: nothing to show, as after Ctrl-C
	}
	canExec, execWhy, execErr := false, "", error(nil)
	if cfg.Exec != nil {
		canExec, execWhy, execErr = execAllowed(ctx, cfg)
	}
	var (
		pumKey  string
		pumRead time.Time
		pumSt   *pum.Status
		pumErr  error
	)
	tick := time.NewTicker(wc.Interval)
	defer tick.Stop()
	ticked := false
	for {
		in := w.inputs()
		in.canExec, in.execWhy = canExec, execWhy
		if execErr != nil {
			in.errs["exec"] = execErr
		}
		if readPUM(cfg, in) {
			key := pumObjectsKey(in)
			pending := pumErr != nil || pumSt == nil || (pumSt.Verdict != pum.Done && pumSt.Verdict != pum.Failed)
			if key != pumKey || (pending && time.Since(pumRead) >= wc.Interval) {
				before := pumSummary(pumSt, pumErr)
				pumSt, pumErr = pum.Get(ctx, cfg.Exec, cfg.Namespace)
				pumKey, pumRead = key, time.Now()
				if before != pumSummary(pumSt, pumErr) {
					ticked = false // the post-upgrade status changed: show it
				}
			}
			in.pum, in.pumErr = pumSt, pumErr
		}
		if ctx.Err() != nil {
			return nil
		}
		if !ticked || wc.RefreshAges {
			if err := onChange(build(cfg, in)); err != nil {
				return err
			}
		}
		ticked = false
		select {
		case <-ctx.Done():
			return nil
		case <-w.dirty:
		case <-tick.C:
			ticked = true
		}
		// Let a burst of events settle into one dashboard.
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wc.MinGap):
		}
		select {
		case <-w.dirty:
			ticked = false
		default:
		}
	}
}

func pumSummary(st *pum.Status, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	if st == nil {
		return ""
	}
	return st.Raw
}

func execAllowed(ctx context.Context, cfg Config) (bool, string, error) {
	r, err := cfg.Client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authv1.SelfSubjectAccessReview{
		Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authv1.ResourceAttributes{
			Namespace: cfg.Namespace, Verb: "create", Resource: "pods", Subresource: "exec"}}}, metav1.CreateOptions{})
	if err != nil {
		return false, "", err
	}
	return r.Status.Allowed, r.Status.Reason, nil
}

// pumObjectsKey changes when deploy/pum or Job pum-process change (a new pod, a new run).
func pumObjectsKey(in *inputs) string {
	key := ""
	for _, d := range in.deps {
		if d.Name == pum.Deployment {
			key += "deploy/" + d.ResourceVersion
		}
	}
	for _, j := range in.jobs {
		if j.Name == pum.Job {
			key += " job/" + string(j.UID) + "/" + j.ResourceVersion
		}
	}
	return key
}

// source is the informer of one kind, with its own stop channel: a kind the user may not list
// is stopped (and its section skipped) instead of being retried forever.
type source struct {
	key  string
	inf  cache.SharedIndexInformer
	stop chan struct{}
	once sync.Once
	mu   sync.Mutex // guards err
	err  error
}

func (s *source) setErr(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

// state returns whether the kind is listed, and the error met before it was.
func (s *source) state() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inf.HasSynced(), s.err
}

type watcher struct {
	cfg     Config
	sources []*source
	dirty   chan struct{}
}

func (w *watcher) signal() {
	select {
	case w.dirty <- struct{}{}:
	default:
	}
}

// helmReleaseKey is the data key of the slimmed Helm release Secrets kept in the cache.
const helmReleaseKey = "tpe-release-metadata"

// slimHelmSecret decodes a Helm release Secret as soon as it is received and keeps only its
// metadata: values (the installation ID) and manifests never stay in memory.
func slimHelmSecret(obj any) (any, error) {
	s, ok := obj.(*corev1.Secret)
	if !ok {
		return obj, nil
	}
	slim := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: s.Namespace, ResourceVersion: s.ResourceVersion,
		UID: s.UID, Labels: s.Labels}, Type: s.Type}
	r, err := helmstore.FromSecret(s)
	if err != nil {
		slim.Data = map[string][]byte{"error": []byte(err.Error())}
		return slim, nil
	}
	js, _ := json.Marshal(r)
	slim.Data = map[string][]byte{helmReleaseKey: js}
	return slim, nil
}

func (w *watcher) start() {
	c, ns := w.cfg.Client, w.cfg.Namespace
	factory := func(tweak func(*metav1.ListOptions)) informers.SharedInformerFactory {
		opts := []informers.SharedInformerOption{informers.WithNamespace(ns)}
		if tweak != nil {
			opts = append(opts, informers.WithTweakListOptions(tweak))
		}
		return informers.NewSharedInformerFactoryWithOptions(c, 0, opts...)
	}
	helm := factory(func(lo *metav1.ListOptions) { lo.LabelSelector = helmstore.LabelSelector })
	warnings := factory(func(lo *metav1.ListOptions) {
		lo.FieldSelector = fields.OneTermEqualSelector("type", corev1.EventTypeWarning).String()
	})
	type kind struct {
		key string
		f   informers.SharedInformerFactory
		inf func(informers.SharedInformerFactory) cache.SharedIndexInformer
	}
	kinds := []kind{
		{"helm", helm, func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().Secrets().Informer()
		}},
		{"statefulsets", factory(nil), func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Apps().V1().StatefulSets().Informer()
		}},
		{"deployments", factory(nil), func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Apps().V1().Deployments().Informer()
		}},
		{"jobs", factory(nil), func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Batch().V1().Jobs().Informer()
		}},
		{"cronjobs", factory(nil), func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Batch().V1().CronJobs().Informer()
		}},
		{"pods", factory(nil), func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().Pods().Informer()
		}},
		{"persistentvolumeclaims", factory(nil), func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().PersistentVolumeClaims().Informer()
		}},
		{"events", warnings, func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().Events().Informer()
		}},
		{"services", factory(nil), func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().Services().Informer()
		}},
	}
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { w.signal() },
		UpdateFunc: func(any, any) { w.signal() },
		DeleteFunc: func(any) { w.signal() },
	}
	for _, k := range kinds {
		s := &source{key: k.key, inf: k.inf(k.f), stop: make(chan struct{})}
		if k.key == "helm" {
			_ = s.inf.SetTransform(slimHelmSecret)
		}
		_, _ = s.inf.AddEventHandler(h)
		_ = s.inf.SetWatchErrorHandlerWithContext(func(_ context.Context, r *cache.Reflector, err error) {
			if s.inf.HasSynced() {
				// The cache keeps the last state; the informer re-lists (a dropped watch, an
				// API server restart).
				klog.V(2).Infof("status: %s: %v (re-listing)", r.TypeDescription(), err)
				return
			}
			s.setErr(err)
			if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
				s.once.Do(func() { close(s.stop) }) // not allowed: shown as skipped, not retried
			}
			w.signal()
		})
		w.sources = append(w.sources, s)
		k.f.Start(s.stop)
	}
}

func (w *watcher) stop() {
	for _, s := range w.sources {
		s.once.Do(func() { close(s.stop) })
	}
}

// waitStarted returns once every kind is listed or has failed to be.
func (w *watcher) waitStarted(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		ready := true
		for _, s := range w.sources {
			synced, err := s.state()
			ready = ready && (synced || err != nil)
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// inputs copies the caches into the inputs Collect would have listed.
func (w *watcher) inputs() *inputs {
	in := &inputs{errs: map[string]error{}}
	for _, s := range w.sources {
		synced, err := s.state()
		if !synced {
			if err == nil {
				err = fmt.Errorf("not listed yet")
			}
			in.errs[s.key] = err
			continue
		}
		for _, obj := range s.inf.GetStore().List() {
			switch o := obj.(type) {
			case *appsv1.StatefulSet:
				in.sts = append(in.sts, *o)
			case *appsv1.Deployment:
				in.deps = append(in.deps, *o)
			case *batchv1.Job:
				in.jobs = append(in.jobs, *o)
			case *batchv1.CronJob:
				in.cronJobs = append(in.cronJobs, *o)
			case *corev1.Pod:
				in.pods = append(in.pods, *o)
			case *corev1.PersistentVolumeClaim:
				in.pvcs = append(in.pvcs, *o)
			case *corev1.Event:
				in.events = append(in.events, *o)
			case *corev1.Service:
				in.services = append(in.services, *o)
			case *corev1.Secret:
				if o.Type != "helm.sh/release.v1" && o.Labels["name"] == "" {
					continue
				}
				if msg, bad := o.Data["error"]; bad {
					in.errs["helm"] = fmt.Errorf("reading Helm release secret %s: %s", o.Name, msg)
					continue
				}
				var r helmstore.Release
				if err := json.Unmarshal(o.Data[helmReleaseKey], &r); err == nil {
					in.helm = append(in.helm, r)
				}
			}
		}
	}
	if in.errs["helm"] == nil {
		in.helm = helmstore.Latest(in.helm)
	} else {
		in.helm = nil
	}
	// The caches are maps: sort as the API server lists (by name), so that an unchanged
	// namespace gives the same dashboard.
	byName := func(a, b metav1.Object) int { return strings.Compare(a.GetName(), b.GetName()) }
	slices.SortFunc(in.sts, func(a, b appsv1.StatefulSet) int { return byName(&a, &b) })
	slices.SortFunc(in.deps, func(a, b appsv1.Deployment) int { return byName(&a, &b) })
	slices.SortFunc(in.jobs, func(a, b batchv1.Job) int { return byName(&a, &b) })
	slices.SortFunc(in.cronJobs, func(a, b batchv1.CronJob) int { return byName(&a, &b) })
	slices.SortFunc(in.pods, func(a, b corev1.Pod) int { return byName(&a, &b) })
	slices.SortFunc(in.pvcs, func(a, b corev1.PersistentVolumeClaim) int { return byName(&a, &b) })
	slices.SortFunc(in.events, func(a, b corev1.Event) int { return byName(&a, &b) })
	slices.SortFunc(in.services, func(a, b corev1.Service) int { return byName(&a, &b) })
	return in
}
