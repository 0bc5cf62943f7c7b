package wait

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

const ns = "tpe"

func ptr[T any](v T) *T { return &v }

func sts(name string, want, ready int32, mut ...func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Generation: 1, Labels: map[string]string{"app": name}},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr(want), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType}},
		Status: appsv1.StatefulSetStatus{ObservedGeneration: 1, Replicas: want, ReadyReplicas: ready, AvailableReplicas: ready,
			UpdatedReplicas: want, CurrentRevision: "r1", UpdateRevision: "r1"},
	}
	for _, m := range mut {
		m(s)
	}
	return s
}

func deploy(name string, want, ready int32, mut ...func(*appsv1.Deployment)) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Generation: 2, Labels: map[string]string{"app": name}},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr(want), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: want, UpdatedReplicas: want, ReadyReplicas: ready,
			AvailableReplicas: ready},
	}
	for _, m := range mut {
		m(d)
	}
	return d
}

func pendingPod(name, app, msg string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": app}},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data-" + name}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: msg}}},
	}
}

func waitingPod(name, app, reason string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": app}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
			Name: "main", RestartCount: 7, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "back-off pulling image"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}},
		}}},
	}
}

func TestReadiness(t *testing.T) {
	tests := []struct {
		name   string
		objs   []runtime.Object
		o      Options
		done   bool
		reason string
	}{
		{"all ready", []runtime.Object{sts("mongo", 3, 3), deploy("twa", 2, 2)}, Options{}, true, ""},
		{"empty namespace", nil, Options{}, true, ""},
		{"sts not ready", []runtime.Object{sts("mongo", 3, 2)}, Options{}, false, "2 of 3 ready"},
		{"sts revision not current", []runtime.Object{sts("mongo", 3, 3, func(s *appsv1.StatefulSet) { s.Status.CurrentRevision = "r0" })}, Options{}, false, "revision r1 not yet current"},
		{"sts revision ignored with --for ready", []runtime.Object{sts("mongo", 3, 3, func(s *appsv1.StatefulSet) { s.Status.CurrentRevision = "r0" })}, Options{For: ForReady}, true, ""},
		{"sts OnDelete ignores revisions", []runtime.Object{sts("mongo", 3, 3, func(s *appsv1.StatefulSet) {
			s.Status.CurrentRevision = "r0"
			s.Spec.UpdateStrategy.Type = appsv1.OnDeleteStatefulSetStrategyType
		})}, Options{}, true, ""},
		{"sts partition", []runtime.Object{sts("mongo", 3, 3, func(s *appsv1.StatefulSet) {
			s.Status.CurrentRevision, s.Status.UpdatedReplicas = "r0", 1
			s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(2))}
		})}, Options{}, true, ""},
		{"sts generation not observed", []runtime.Object{sts("mongo", 1, 1, func(s *appsv1.StatefulSet) { s.Generation = 2 })}, Options{}, false, "not observed"},
		{"deployment old replicas", []runtime.Object{deploy("twa", 2, 2, func(d *appsv1.Deployment) { d.Status.Replicas = 3 })}, Options{}, false, "1 old pod(s)"},
		{"deployment unavailable", []runtime.Object{deploy("twa", 2, 2, func(d *appsv1.Deployment) { d.Status.AvailableReplicas = 1 })}, Options{}, false, "1 of 2 available"},
		{"deployment --for ready", []runtime.Object{deploy("twa", 2, 2, func(d *appsv1.Deployment) { d.Status.AvailableReplicas, d.Generation = 1, 5 })}, Options{For: ForReady}, true, ""},
		{"unschedulable pod and unbound PVC", []runtime.Object{sts("kafka", 1, 0), pendingPod("kafka-0", "kafka", "0/3 nodes are available: 3 Insufficient cpu."),
			&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data-kafka-0", Namespace: ns}, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}}},
			Options{}, false, "pod kafka-0 pending, unschedulable: 0/3 nodes are available: 3 Insufficient cpu.; PVC data-kafka-0 is Pending (unbound)"},
		{"image pull", []runtime.Object{deploy("twa", 1, 0), waitingPod("twa-1", "twa", "ImagePullBackOff")}, Options{}, false, "image pull error (ImagePullBackOff)"},
		{"crash loop", []runtime.Object{deploy("twa", 1, 0), waitingPod("twa-1", "twa", "CrashLoopBackOff")}, Options{}, false, "crash loop, 7 restart(s), last exit code 1"},
		{"controller event when no pod", []runtime.Object{sts("mariadb", 1, 0), &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e1", Namespace: ns},
			InvolvedObject: corev1.ObjectReference{Kind: "StatefulSet", Name: "mariadb"}, Type: corev1.EventTypeWarning, Reason: "FailedCreate",
			Message: "no PriorityClass with name tpe-data was found"}}, Options{}, false, "FailedCreate: no PriorityClass"},
		{"selector filters", []runtime.Object{sts("mongo", 1, 0), deploy("twa", 1, 1)}, Options{Selector: "app=twa"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fake.NewClientset(tt.objs...)
			o := tt.o
			o.Namespace = ns
			o.Timeout = 300 * time.Millisecond
			snap, err := Run(t.Context(), c, o)
			if tt.done {
				if err != nil || !snap.Done {
					t.Fatalf("Run = %+v, %v; want done", snap, err)
				}
				return
			}
			var te *TimeoutError
			if !errors.As(err, &te) {
				t.Fatalf("Run err = %v, want a *TimeoutError", err)
			}
			if len(te.NotReady) == 0 || !strings.Contains(te.NotReady[0].Reason, tt.reason) {
				t.Errorf("not ready = %+v, want reason containing %q", te.NotReady, tt.reason)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not give the reason", err)
			}
		})
	}
}

func TestJobs(t *testing.T) {
	job := func(name string, cond batchv1.JobConditionType, owner string) *batchv1.Job {
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
		if cond != "" {
			j.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded"}}
		}
		if owner != "" {
			j.OwnerReferences = []metav1.OwnerReference{{Kind: owner, Name: "x"}}
		}
		return j
	}
	c := fake.NewClientset(job("pum-process", batchv1.JobComplete, ""), job("backup-1", batchv1.JobFailed, "CronJob"))
	if snap, err := Run(t.Context(), c, Options{Namespace: ns, IncludeJobs: true, Timeout: time.Second}); err != nil || len(snap.Workloads) != 1 {
		t.Fatalf("complete job: %+v %v", snap, err)
	}
	c = fake.NewClientset(job("pum-process", batchv1.JobFailed, ""))
	_, err := Run(t.Context(), c, Options{Namespace: ns, IncludeJobs: true, Timeout: 5 * time.Second})
	var je *JobFailedError
	if !errors.As(err, &je) || !strings.Contains(err.Error(), "BackoffLimitExceeded") {
		t.Fatalf("failed job: %v", err)
	}
	// Without --include-jobs a failed job does not matter.
	if _, err := Run(t.Context(), c, Options{Namespace: ns, Timeout: time.Second}); err != nil {
		t.Fatal(err)
	}
}

// TestBecomesReady checks that Run returns promptly once the last workload becomes ready, and
// that Progress sees each change.
func TestBecomesReady(t *testing.T) {
	c := fake.NewClientset(sts("mongo", 1, 0), deploy("twa", 1, 1))
	var mu sync.Mutex
	var snaps []Snapshot
	readyAt := make(chan time.Time, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		s := sts("mongo", 1, 1)
		readyAt <- time.Now()
		if _, err := c.AppsV1().StatefulSets(ns).UpdateStatus(context.Background(), s, metav1.UpdateOptions{}); err != nil {
			t.Error(err)
		}
	}()
	snap, err := Run(t.Context(), c, Options{Namespace: ns, Timeout: 10 * time.Second, Progress: func(s Snapshot) {
		mu.Lock()
		snaps = append(snaps, s)
		mu.Unlock()
	}})
	returned := time.Now()
	if err != nil || !snap.Done {
		t.Fatalf("Run = %+v, %v", snap, err)
	}
	if lat := returned.Sub(<-readyAt); lat > 200*time.Millisecond {
		t.Errorf("returned %s after the last workload became ready, want < 200ms", lat)
	}
	if len(snaps) != 2 || snaps[0].Done || !snaps[1].Done || snaps[0].Summary() != "1/2 workloads ready" {
		t.Errorf("progress snapshots = %+v", snaps)
	}
}

// TestSurvivesDroppedWatch closes the workload watches mid-wait and answers the first re-list
// with "forbidden" as a restarting apiserver does: the informers must re-list and still see the
// StatefulSet become ready.
func TestSurvivesDroppedWatch(t *testing.T) {
	c := fake.NewClientset(sts("mongo", 1, 0))
	var mu sync.Mutex
	var watchers []*watch.RaceFreeFakeWatcher
	lists := 0
	c.PrependWatchReactor("statefulsets", func(a k8stesting.Action) (bool, watch.Interface, error) {
		w := watch.NewRaceFreeFake()
		mu.Lock()
		watchers = append(watchers, w)
		mu.Unlock()
		return true, w, nil
	})
	c.PrependReactor("list", "statefulsets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		lists++
		if lists == 2 {
			// A restarting apiserver answers "forbidden" until its authorizer has loaded RBAC.
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "statefulsets"}, "", errors.New("RBAC: not loaded yet"))
		}
		return false, nil, nil
	})
	go func() {
		time.Sleep(150 * time.Millisecond)
		mu.Lock()
		for _, w := range watchers {
			w.Stop() // the "apiserver restart"
		}
		mu.Unlock()
		// The status changes while no watch is open: only a re-list can see it.
		if _, err := c.AppsV1().StatefulSets(ns).UpdateStatus(context.Background(), sts("mongo", 1, 1), metav1.UpdateOptions{}); err != nil {
			t.Error(err)
		}
	}()
	snap, err := Run(t.Context(), c, Options{Namespace: ns, Timeout: 10 * time.Second})
	if err != nil || !snap.Done {
		t.Fatalf("Run = %+v, %v", snap, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if lists < 3 {
		t.Errorf("%d lists, want re-lists after the watch dropped (one of them forbidden)", lists)
	}
}

func TestForbidden(t *testing.T) {
	c := fake.NewClientset()
	c.PrependReactor("list", "statefulsets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "statefulsets"}, "", errors.New("no"))
	})
	_, err := Run(t.Context(), c, Options{Namespace: ns, Timeout: 5 * time.Second})
	if err == nil || !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "cannot watch workloads") {
		t.Fatalf("err = %v, want forbidden", err)
	}
}

func TestBadInput(t *testing.T) {
	c := fake.NewClientset()
	if _, err := Run(t.Context(), c, Options{Namespace: ns, Selector: "a in (("}); err == nil || !strings.Contains(err.Error(), "label selector") {
		t.Errorf("bad selector: %v", err)
	}
	if _, err := Run(t.Context(), c, Options{Namespace: ns, For: "complete"}); err == nil || !strings.Contains(err.Error(), `unknown condition "complete"`) {
		t.Errorf("bad --for: %v", err)
	}
}

// BenchmarkRun measures a wait on a namespace with 10, 1000 and 5000 pods (fake clientset): the
// requests it makes (one list and one watch per kind, whatever the pods) and the latency between
// the last workload becoming ready and Run returning.
func BenchmarkRun(b *testing.B) {
	for _, n := range []int{10, 1000, 5000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			objs := []runtime.Object{sts("mongo", 1, 0), deploy("twa", 1, 1)}
			for i := 0; i < n; i++ {
				objs = append(objs, waitingPod(fmt.Sprintf("twa-%d", i), "twa", "CrashLoopBackOff"))
			}
			var requests int
			var latency time.Duration
			for b.Loop() {
				c := fake.NewClientset(objs...)
				started := make(chan struct{})
				var once sync.Once
				var readyAt time.Time
				go func() {
					<-started
					readyAt = time.Now()
					if _, err := c.AppsV1().StatefulSets(ns).UpdateStatus(context.Background(), sts("mongo", 1, 1), metav1.UpdateOptions{}); err != nil {
						b.Error(err)
					}
				}()
				_, err := Run(context.Background(), c, Options{Namespace: ns, Timeout: time.Minute, Progress: func(s Snapshot) {
					if !s.Done {
						once.Do(func() { close(started) })
					}
				}})
				latency += time.Since(readyAt)
				if err != nil {
					b.Fatal(err)
				}
				requests = len(c.Actions()) - 1 // minus the benchmark's own UpdateStatus
			}
			b.ReportMetric(float64(requests), "requests/op")
			b.ReportMetric(float64(latency.Microseconds())/1000/float64(b.N), "ready-to-return-ms")
		})
	}
}

func TestTimeoutBeforeListing(t *testing.T) {
	c := fake.NewClientset()
	c.PrependReactor("list", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection refused")
	})
	_, err := Run(t.Context(), c, Options{Namespace: ns, Timeout: 200 * time.Millisecond})
	var te *TimeoutError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "before the workloads could be listed") {
		t.Fatalf("err = %v", err)
	}
}

func TestWatchSharedAcrossWaits(t *testing.T) {
	c := fake.NewClientset(sts("mongo", 1, 1), deploy("twa", 1, 1))
	w := NewWatch(c, WatchConfig{Namespace: ns})
	defer w.Stop()
	for i := range 3 {
		if snap, err := w.Wait(t.Context(), Options{Namespace: ns, Timeout: 5 * time.Second}); err != nil || !snap.Done {
			t.Fatalf("wait %d = %+v, %v; want done", i, snap, err)
		}
	}
	kinds := []string{"statefulsets", "deployments", "pods", "persistentvolumeclaims", "events"}
	count := func() map[string]int {
		lists := map[string]int{}
		for _, a := range c.Actions() {
			if a.GetVerb() == "list" || a.GetVerb() == "watch" {
				lists[a.GetVerb()+" "+a.GetResource().Resource]++
			}
		}
		return lists
	}
	// The waits need only the workloads listed; the informers that explain reasons (pods, PVCs,
	// events) start with them but may list after the waits are done. Give them time to start,
	// then check that three waits started each one once.
	lists := count()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); lists = count() {
		started := true
		for _, r := range kinds {
			started = started && lists["list "+r] > 0 && lists["watch "+r] > 0
		}
		if started {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, r := range kinds {
		if lists["list "+r] != 1 || lists["watch "+r] != 1 {
			t.Errorf("%s: %d list(s), %d watch(es) for 3 waits; want 1 and 1", r, lists["list "+r], lists["watch "+r])
		}
	}
}

func TestWatchWaitsForWrittenVersion(t *testing.T) {
	d := deploy("twa", 1, 1)
	d.ResourceVersion = "5"
	c := fake.NewClientset(d)
	w := NewWatch(c, WatchConfig{Namespace: ns})
	defer w.Stop()
	if _, err := w.Wait(t.Context(), Options{Namespace: ns, Timeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	after := []Written{{Kind: "Deployment", Namespace: ns, Name: "twa", ResourceVersion: "7"}}
	// The watch still holds version 5, ready: the wait must not take it for the written state.
	_, err := w.Wait(t.Context(), Options{Namespace: ns, Timeout: 300 * time.Millisecond, After: after})
	var te *TimeoutError
	if !errors.As(err, &te) || len(te.NotReady) != 1 || !strings.Contains(te.Error(), "not yet seen") {
		t.Fatalf("wait before the write is seen = %v; want a timeout naming twa", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := w.Wait(t.Context(), Options{Namespace: ns, Timeout: 5 * time.Second, After: after})
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	d = d.DeepCopy()
	d.ResourceVersion = "7"
	if _, err := c.AppsV1().Deployments(ns).Update(t.Context(), d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("wait after the write is seen = %v; want done", err)
	}
	// Objects of other namespaces are not the watch's business.
	other := []Written{{Kind: "Deployment", Namespace: "elsewhere", Name: "x", ResourceVersion: "9"}}
	if _, err := w.Wait(t.Context(), Options{Namespace: ns, Timeout: 5 * time.Second, After: other}); err != nil {
		t.Fatal(err)
	}
}

func TestWatchExplainsOnlyOnTimeout(t *testing.T) {
	c := fake.NewClientset(sts("kafka", 1, 0), pendingPod("kafka-0", "kafka", "0/3 nodes are available: 3 Insufficient cpu."))
	w := NewWatch(c, WatchConfig{Namespace: ns, ExplainOnTimeout: true})
	defer w.Stop()
	_, err := w.Wait(t.Context(), Options{Namespace: ns, Timeout: 300 * time.Millisecond})
	var te *TimeoutError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "Insufficient cpu") {
		t.Fatalf("err = %v; want a timeout that explains the unschedulable pod", err)
	}
	for _, a := range c.Actions() {
		if a.GetVerb() == "watch" && a.GetResource().Resource != "statefulsets" && a.GetResource().Resource != "deployments" {
			t.Errorf("watched %s; want only the workloads watched", a.GetResource().Resource)
		}
	}
}
