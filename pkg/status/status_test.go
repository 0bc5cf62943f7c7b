package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/helmstore"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
)

const ns = "thingpark-enterprise"

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

type fakeExec struct {
	stdout string
	err    error
	calls  int
}

func (f *fakeExec) Exec(context.Context, podexec.Target, []string, io.Reader) (podexec.Result, error) {
	f.calls++
	return podexec.Result{Pod: "pum-1", Stdout: f.stdout}, f.err
}

const pumDone = "1 entrie(s)\nuid: 1\nrequestID: 'r1'\nstate: 'PROCESSED'\nerrorCounter: 0\niterationCounter: 1\n"

func ptr[T any](v T) *T { return &v }

// installation builds a healthy v7.3.1 installation with n extra ready pods.
func installation(t testing.TB, n int, mut ...func(*[]runtime.Object)) []runtime.Object {
	t.Helper()
	var objs []runtime.Object
	for _, r := range []helmstore.Release{
		{Name: "tpe-data-controllers", Chart: "thingpark-data-controllers", ChartVersion: "1.2.4"},
		{Name: "tpe-data", Chart: "thingpark-data", ChartVersion: "1.3.5"},
		{Name: "tpe-controllers", Chart: "thingpark-application-controllers", ChartVersion: "1.2.4"},
		{Name: "tpe", Chart: "thingpark-enterprise", ChartVersion: "1.4.1"},
	} {
		r.Namespace, r.Revision, r.Status = ns, 1, "deployed"
		s, err := helmstore.Secret(r, map[string]any{"installationId": "TOP-SECRET"}, "")
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, s)
	}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "mongo"}}
	objs = append(objs,
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "mongo", Namespace: ns}, Spec: appsv1.StatefulSetSpec{Replicas: ptr(int32(1)), Selector: sel},
			Status: appsv1.StatefulSetStatus{ReadyReplicas: 1, AvailableReplicas: 1}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "pum", Namespace: ns}, Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "pum"}}},
			Status: appsv1.DeploymentStatus{ReadyReplicas: 1, AvailableReplicas: 1, UpdatedReplicas: 1, Replicas: 1}},
		&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data-mongo-0", Namespace: ns}, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "tpe-controllers-ingress-nginx-controller", Namespace: ns},
			Spec:   corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 443}, {Port: 3001}, {Port: 3101}, {Port: 3002}, {Port: 2022}}},
			Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "10.1.2.3"}}}}},
		&batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "thingpark-enterprise-backup", Namespace: ns}, Spec: batchv1.CronJobSpec{Schedule: "30 2 * * *"},
			Status: batchv1.CronJobStatus{LastSuccessfulTime: &metav1.Time{Time: now.Add(-10 * time.Hour)}}},
	)
	for i := 0; i < n; i++ {
		objs = append(objs, readyPod(fmt.Sprintf("mongo-%d", i), "mongo"))
	}
	for _, m := range mut {
		m(&objs)
	}
	return objs
}

func readyPod(name, app string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": app}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
}

func client(objs []runtime.Object, canExec bool) *fake.Clientset {
	c := fake.NewClientset(objs...)
	c.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview)
		r.Status.Allowed = canExec && r.Spec.ResourceAttributes.Subresource == "exec"
		return true, r, nil
	})
	return c
}

func collect(t testing.TB, c *fake.Clientset, ex podexec.Executor) *Dashboard {
	t.Helper()
	cfg := Config{Namespace: ns, Client: c, Now: func() time.Time { return now }}
	if ex != nil {
		cfg.Exec = ex
	}
	d, err := Collect(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func statusOf(t *testing.T, d *Dashboard, id string) check.Check {
	t.Helper()
	c, ok := d.Find(id)
	if !ok {
		t.Fatalf("no check %s in %+v", id, d.Checks)
	}
	return c
}

func TestHealthy(t *testing.T) {
	d := collect(t, client(installation(t, 3), true), &fakeExec{stdout: pumDone})
	if d.Release.Name != "v7.3.1" || len(d.Release.Also) != 1 || d.Release.Also[0] != "v7.3.0" {
		t.Errorf("release = %+v", d.Release)
	}
	if w := d.Worst(); w != check.Pass {
		for _, c := range d.Checks {
			t.Logf("%s %s %s %v", c.ID, c.Status, c.Message, c.Details)
		}
		t.Fatalf("worst = %s, want pass", w)
	}
	for _, id := range []string{"release.helm.tpe", "release.match", "workloads.ready", "workloads.pvcs", "workloads.pods", "workloads.events", "pum.verdict", "ingress.loadbalancer", "ingress.ports", "backup.cronjob"} {
		statusOf(t, d, id)
	}
	if m := statusOf(t, d, "ingress.loadbalancer").Message; !strings.Contains(m, "10.1.2.3") {
		t.Errorf("ingress message %q", m)
	}
	if m := statusOf(t, d, "backup.cronjob").Message; !strings.Contains(m, "10h ago") {
		t.Errorf("backup message %q", m)
	}
	js, _ := json.Marshal(d)
	for _, want := range []string{`"kind":"Status"`, `"checks":[`, `"summary":{`, `"release":{"name":"v7.3.1"`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("json lacks %s: %s", want, js)
		}
	}
	if strings.Contains(string(js), "TOP-SECRET") {
		t.Error("values leaked into the status")
	}
}

func TestUnhealthy(t *testing.T) {
	tests := []struct {
		name   string
		mut    func(*[]runtime.Object)
		exec   *fakeExec
		id     string
		status check.Status
		want   string
	}{
		{"mixed release", func(o *[]runtime.Object) {
			s, _ := helmstore.Secret(helmstore.Release{Name: "tpe-data", Namespace: ns, Revision: 2, Status: "deployed", Chart: "thingpark-data", ChartVersion: "1.2.5"}, nil, "")
			*o = append(*o, s)
		}, nil, "release.match", check.Fail, "mixed/unknown: the installed charts match no TPE release: tpe-data runs thingpark-data 1.2.5, v7.3.1 expects thingpark-data 1.3.5"},
		{"tpe rolled back, charts 1–3 stay (the vendor's rollback)", func(o *[]runtime.Object) {
			s, _ := helmstore.Secret(helmstore.Release{Name: "tpe", Namespace: ns, Revision: 9, Status: "deployed", Chart: "thingpark-enterprise", ChartVersion: "1.2.25", Description: "Rollback to 2"}, nil, "")
			*o = append(*o, s)
		}, nil, "release.match", check.Warn, "rolled back to v7.2.2c after an upgrade to v7.3.1; charts 1–3 stay at v7.3.1, as the vendor's rollback leaves them"},
		{"tpe behind without a rollback: an upgrade stopped before tpe", func(o *[]runtime.Object) {
			s, _ := helmstore.Secret(helmstore.Release{Name: "tpe", Namespace: ns, Revision: 9, Status: "deployed", Chart: "thingpark-enterprise", ChartVersion: "1.2.25", Description: "Upgrade complete"}, nil, "")
			*o = append(*o, s)
		}, nil, "release.match", check.Fail, "mixed/unknown: the installed charts match no TPE release: tpe runs thingpark-enterprise 1.2.25"},
		{"failed helm release", func(o *[]runtime.Object) {
			s, _ := helmstore.Secret(helmstore.Release{Name: "tpe", Namespace: ns, Revision: 2, Status: "failed", Chart: "thingpark-enterprise", ChartVersion: "1.4.1", Description: "Upgrade failed: timed out"}, nil, "")
			*o = append(*o, s)
		}, nil, "release.helm.tpe", check.Fail, "revision 2, failed"},
		{"broken workload", func(o *[]runtime.Object) {
			*o = append(*o, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "lrc", Namespace: ns},
				Spec: appsv1.StatefulSetSpec{Replicas: ptr(int32(2)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "lrc"}}}},
				&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "lrc-0", Namespace: ns, Labels: map[string]string{"app": "lrc"}},
					Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "0/3 nodes are available: 3 Insufficient cpu."}}}})
		}, nil, "workloads.ready", check.Fail, "StatefulSet/lrc 0/2: 0 of 2 ready; pod lrc-0 pending, unschedulable: 0/3 nodes are available"},
		{"pod not ready", func(o *[]runtime.Object) {
			*o = append(*o, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: ns}, Status: corev1.PodStatus{Phase: corev1.PodRunning,
				ContainerStatuses: []corev1.ContainerStatus{{Name: "c", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}, RestartCount: 4}}}})
		}, nil, "workloads.pods", check.Fail, "container c in crash loop"},
		{"unbound pvc", func(o *[]runtime.Object) {
			*o = append(*o, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data-x", Namespace: ns}, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}})
		}, nil, "workloads.pvcs", check.Fail, "1/2 PVCs bound"},
		{"recent warning", func(o *[]runtime.Object) {
			*o = append(*o, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: ns}, Type: corev1.EventTypeWarning, Reason: "BackOff",
				InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "x"}, LastTimestamp: metav1.Time{Time: now.Add(-5 * time.Minute)}, Message: "Back-off restarting"})
		}, nil, "workloads.events", check.Warn, "1 warning event(s)"},
		{"a FailedScheduling event of a pod ready since is history, a conflict is dropped", func(o *[]runtime.Object) {
			*o = append(*o, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e1", Namespace: ns}, Type: corev1.EventTypeWarning, Reason: "FailedScheduling",
				InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "mongo-0"}, LastTimestamp: metav1.Time{Time: now.Add(-5 * time.Minute)}, Message: "0/1 nodes are available: 1 Insufficient cpu."},
				&corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e2", Namespace: ns}, Type: corev1.EventTypeWarning, Reason: "FailedUpdate",
					InvolvedObject: corev1.ObjectReference{Kind: "Lease", Name: "x"}, LastTimestamp: metav1.Time{Time: now.Add(-4 * time.Minute)},
					Message: `Operation cannot be fulfilled on leases "x": the object has been modified; please apply your changes to the latest version and try again`})
		}, nil, "workloads.events", check.Pass, "no warning event in the last 1h0m0s (1 earlier one(s) of objects healthy now, not counted) 5m ago Pod/mongo-0 FailedScheduling: 0/1 nodes are available: 1 Insufficient cpu. (history: healthy now)"},
		{"pum aborted", nil, &fakeExec{stdout: strings.Replace(pumDone, "PROCESSED", "ABORTED", 1)}, "pum.verdict", check.Fail, "post-upgrade procedure failed"},
		{"pum in progress", nil, &fakeExec{stdout: strings.Replace(pumDone, "PROCESSED", "INIT", 1)}, "pum.verdict", check.Warn, "in progress: 0/1"},
		{"pum unreadable", nil, &fakeExec{err: errors.New("boom")}, "pum.verdict", check.Fail, "cannot read"},
		{"no lb address", func(o *[]runtime.Object) {
			for _, x := range *o {
				if s, ok := x.(*corev1.Service); ok {
					s.Status.LoadBalancer.Ingress = nil
				}
			}
		}, nil, "ingress.loadbalancer", check.Fail, "no load balancer address"},
		{"missing ports", func(o *[]runtime.Object) {
			for _, x := range *o {
				if s, ok := x.(*corev1.Service); ok {
					s.Spec.Ports = s.Spec.Ports[:1]
				}
			}
		}, nil, "ingress.ports", check.Warn, "but not 3001, 3101, 3002, 2022"},
		{"old backup", func(o *[]runtime.Object) {
			for _, x := range *o {
				if c, ok := x.(*batchv1.CronJob); ok {
					c.Status.LastSuccessfulTime = &metav1.Time{Time: now.Add(-80 * time.Hour)}
				}
			}
		}, nil, "backup.cronjob", check.Warn, "3d ago"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := tt.exec
			if ex == nil {
				ex = &fakeExec{stdout: pumDone}
			}
			var muts []func(*[]runtime.Object)
			if tt.mut != nil {
				muts = append(muts, tt.mut)
			}
			d := collect(t, client(installation(t, 1, muts...), true), ex)
			c := statusOf(t, d, tt.id)
			full := c.Message + " " + strings.Join(c.Details, " ")
			if c.Status != tt.status || !strings.Contains(full, tt.want) {
				t.Errorf("%s = %s %q, want %s containing %q", tt.id, c.Status, full, tt.status, tt.want)
			}
		})
	}
}

func TestForbiddenSectionsAreSkipped(t *testing.T) {
	c := client(installation(t, 1), false)
	for _, res := range []string{"secrets", "events", "cronjobs"} {
		c.PrependReactor("list", res, func(a k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: res}, "", errors.New("denied"))
		})
	}
	ex := &fakeExec{stdout: pumDone}
	d := collect(t, c, ex)
	for _, id := range []string{"release.helm", "workloads.events", "backup.cronjob", "pum.verdict"} {
		if got := statusOf(t, d, id); got.Status != check.Skip || !strings.Contains(got.Message, "not") {
			t.Errorf("%s = %s %q, want skip", id, got.Status, got.Message)
		}
	}
	if ex.calls != 0 {
		t.Error("exec attempted although the SSAR denied it")
	}
	if d.Release.Name != NotReadable || d.Release.Readable {
		t.Errorf("release = %+v", d.Release)
	}
	if got := statusOf(t, d, "workloads.ready"); got.Status != check.Pass {
		t.Errorf("readable sections must still work: %+v", got)
	}
}

// TestFixedRequestCount checks that the number of API requests does not depend on the pods.
func TestFixedRequestCount(t *testing.T) {
	var counts []int
	for _, n := range []int{10, 1000} {
		c := client(installation(t, n), true)
		collect(t, c, &fakeExec{stdout: pumDone})
		counts = append(counts, len(c.Actions()))
	}
	if counts[0] != counts[1] || counts[0] != 10 {
		t.Errorf("requests at 10 and 1000 pods: %v, want 10 each (9 lists + 1 SSAR)", counts)
	}
}

// BenchmarkCollect measures the dashboard at 10, 1000 and 5000 pods on a fake clientset and
// reports the API requests per run, which must not grow with the pods.
func BenchmarkCollect(b *testing.B) {
	for _, n := range []int{10, 1000, 5000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			objs := installation(b, n)
			var requests int
			for b.Loop() {
				c := client(objs, true)
				collect(b, c, &fakeExec{stdout: pumDone})
				requests = len(c.Actions())
			}
			b.ReportMetric(float64(requests), "requests/op")
		})
	}
}

// TestRelease80 recognises an installation of the four 8.0.0 charts, and a missing deploy/pum is
// then reported as a release without a post-upgrade manager, not as "not installed".
func TestRelease80(t *testing.T) {
	to80 := func(objs *[]runtime.Object) {
		v80 := map[string]string{"tpe-data-controllers": "2.2.1", "tpe-data": "2.2.2", "tpe-controllers": "2.2.0", "tpe": "2.0.0"}
		for i, o := range *objs {
			s, ok := o.(*corev1.Secret)
			if !ok {
				continue
			}
			r, err := helmstore.FromSecret(s)
			if err != nil {
				t.Fatal(err)
			}
			r.ChartVersion = v80[r.Name]
			ns, err := helmstore.Secret(r, nil, "")
			if err != nil {
				t.Fatal(err)
			}
			(*objs)[i] = ns
		}
	}
	d := collect(t, client(installation(t, 3, to80), true), &fakeExec{stdout: pumDone})
	if d.Release.Name != "v8.0.0" {
		t.Errorf("release = %+v", d.Release)
	}
	if c := statusOf(t, d, "release.match"); c.Status != check.Pass {
		t.Errorf("release.match = %s %s", c.Status, c.Message)
	}
	noPUM := func(objs *[]runtime.Object) {
		out := (*objs)[:0]
		for _, o := range *objs {
			if dep, ok := o.(*appsv1.Deployment); ok && dep.Name == "pum" {
				continue
			}
			out = append(out, o)
		}
		*objs = out
	}
	d = collect(t, client(installation(t, 3, to80, noPUM), true), &fakeExec{stdout: pumDone})
	if c := statusOf(t, d, "pum.verdict"); c.Status != check.Skip || !strings.Contains(c.Message, "thingpark-enterprise-2.0.0) ships no post-upgrade manager") {
		t.Errorf("pum.verdict = %s %s", c.Status, c.Message)
	}
}
