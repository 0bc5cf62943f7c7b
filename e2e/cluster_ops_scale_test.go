package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/thingpark-tools/kubectl-tpe/e2e/framework"
)

// ScaleResult is one measurement of TestClusterOpsScale (written as JSON lines to
// $TPE_E2E_SCALE_OUT for docs/benchmarks.md).
type ScaleResult struct {
	Pods int `json:"pods"`
	// StatusSeconds is the wall time of `kubectl tpe status` (process start to exit).
	StatusSeconds float64 `json:"statusSeconds"`
	// StatusRequests is the number of API requests status made (its own -v=1 count).
	StatusRequests int `json:"statusRequests"`
	// WaitLatencyMS is the median time between the last workload becoming ready (seen by a
	// watch in the test) and the exit of `kubectl tpe wait`, over WaitRuns runs; WaitLatencyMaxMS
	// is the worst.
	WaitLatencyMS    float64 `json:"waitLatencyMs"`
	WaitLatencyMaxMS float64 `json:"waitLatencyMaxMs"`
	WaitRuns         int     `json:"waitRuns"`
	// WaitRequests is the number of API requests of the wait (apiserver audit log).
	WaitRequests int `json:"waitRequests"`
}

// TestClusterOpsScale measures `kubectl tpe status` and `kubectl tpe wait` on a namespace with
// many kwok pods. It runs only when TPE_E2E_SCALE lists the pod counts, e.g.
// TPE_E2E_SCALE=10,1000,5000 go test ./e2e -run TestClusterOpsScale -v. TPE_E2E_SCALE_RUNS sets
// how many waits are measured per count (default 3); TPE_E2E_SCALE_OUT names a JSON-lines file
// for the results.
func TestClusterOpsScale(t *testing.T) {
	spec := os.Getenv("TPE_E2E_SCALE")
	if spec == "" {
		t.Skip("set TPE_E2E_SCALE=10,1000,5000 to run the scale measurements")
	}
	var counts []int
	for _, s := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 {
			t.Fatalf("TPE_E2E_SCALE: bad count %q", s)
		}
		counts = append(counts, n)
	}
	const ns = "e2e-ops-scale"
	const node = "e2e-ops-scale-node"
	cfg, err := clientcmd.BuildConfigFromFlags("", env.AdminKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	c := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	env.GrantOperator(t, ns)

	// One big kwok node takes every pod, bound directly (no scheduler in the way).
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node,
		Annotations: map[string]string{"node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake"},
		Labels:      map[string]string{"kubernetes.io/hostname": node, "type": "kwok", "e2e-ops-scale": "true"}},
		Status: corev1.NodeStatus{
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1000"), corev1.ResourceMemory: resource.MustParse("4Ti"), corev1.ResourcePods: resource.MustParse("20000")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1000"), corev1.ResourceMemory: resource.MustParse("4Ti"), corev1.ResourcePods: resource.MustParse("20000")},
			NodeInfo:    corev1.NodeSystemInfo{Architecture: "amd64", OperatingSystem: "linux", KubeletVersion: "fake"}}}
	if _, err := c.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
		framework.Eventually(t, 5*time.Minute, time.Second, "namespace "+ns+" deleted", func() bool {
			_, err := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			return err != nil
		})
		_ = c.CoreV1().Nodes().Delete(ctx, node, metav1.DeleteOptions{})
	})

	runs := 3
	if v := os.Getenv("TPE_E2E_SCALE_RUNS"); v != "" {
		if runs, err = strconv.Atoi(v); err != nil || runs < 1 {
			t.Fatalf("TPE_E2E_SCALE_RUNS: bad value %q", v)
		}
	}
	var out *os.File
	if p := os.Getenv("TPE_E2E_SCALE_OUT"); p != "" {
		if out, err = os.Create(p); err != nil {
			t.Fatal(err)
		}
		defer out.Close()
	}
	created := 0
	reqRe := regexp.MustCompile(`status: (\d+) API requests`)
	for _, want := range counts {
		// Add pods up to the count, 32 at a time.
		var wg sync.WaitGroup
		sem := make(chan struct{}, 32)
		t0 := time.Now()
		for i := created; i < want; i++ {
			wg.Add(1)
			sem <- struct{}{}
			go func(i int) {
				defer wg.Done()
				defer func() { <-sem }()
				p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("scale-%05d", i), Labels: map[string]string{"app": "scale"}},
					Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "example/scale:1"}}}}
				if _, err := c.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
					t.Error(err)
				}
			}(i)
		}
		wg.Wait()
		created = want
		framework.Eventually(t, 5*time.Minute, 2*time.Second, fmt.Sprintf("%d pods running", want), func() bool {
			l, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{ResourceVersion: "0", LabelSelector: "app=scale"})
			if err != nil {
				return false
			}
			running := 0
			for _, p := range l.Items {
				if p.Status.Phase == corev1.PodRunning {
					running++
				}
			}
			return running == want
		})
		t.Logf("%d pods created and running in %s", want, time.Since(t0).Round(time.Millisecond))

		res := ScaleResult{Pods: want}
		// status: best of three runs (the machine is shared).
		for i := 0; i < 3; i++ {
			start := time.Now()
			r := env.KubectlTPE(t, env.OperatorKubeconfig, "-n", ns, "status", "-o", "json", "-v=1")
			d := time.Since(start).Seconds()
			if r.Code != 0 && r.Code != 2 {
				t.Fatalf("status: %s", r)
			}
			m := reqRe.FindStringSubmatch(r.Stderr)
			if m == nil {
				t.Fatalf("status printed no request count:\n%s", r.Stderr)
			}
			reqs, _ := strconv.Atoi(m[1])
			if res.StatusSeconds == 0 || d < res.StatusSeconds {
				res.StatusSeconds = d
			}
			res.StatusRequests = reqs
		}
		var lat []float64
		for i := 0; i < runs; i++ {
			ms, reqs := measureWait(t, c, ns, fmt.Sprintf("gate-%d-%d", want, i))
			lat = append(lat, ms)
			res.WaitRequests = reqs
		}
		sort.Float64s(lat)
		res.WaitRuns, res.WaitLatencyMS, res.WaitLatencyMaxMS = runs, lat[len(lat)/2], lat[len(lat)-1]
		t.Logf("pods=%d: status %.3fs, %d requests; wait returned %.1f ms (median of %d, max %.1f ms) after the last workload became ready, %d requests",
			res.Pods, res.StatusSeconds, res.StatusRequests, res.WaitLatencyMS, runs, res.WaitLatencyMaxMS, res.WaitRequests)
		if out != nil {
			b, _ := json.Marshal(res)
			fmt.Fprintln(out, string(b))
		}
	}
}

// measureWait starts `kubectl tpe wait` on a namespace whose only workload cannot schedule, then
// lets it schedule, and returns how long after its Deployment became ready the wait exited, and
// how many API requests the wait made.
func measureWait(t *testing.T, c kubernetes.Interface, ns, name string) (float64, int) {
	t.Helper()
	ctx := context.Background()
	one := int32(1)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{NodeSelector: map[string]string{"e2e-ops-scale": "never"}, Containers: []corev1.Container{{Name: "c", Image: "example/gate:1"}}}}}}
	if _, err := c.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.AppsV1().Deployments(ns).Delete(ctx, name, metav1.DeleteOptions{}) }()

	w, err := c.AppsV1().Deployments(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	since := time.Now()
	type res struct {
		r   framework.Result
		end time.Time
	}
	done := make(chan res, 1)
	go func() {
		r := env.KubectlTPE(t, env.OperatorKubeconfig, "-n", ns, "wait", "--timeout", "3m")
		done <- res{r, time.Now()}
	}()
	time.Sleep(3 * time.Second) // let the wait list and watch
	patch := []byte(`{"spec":{"template":{"spec":{"nodeSelector":{"e2e-ops-scale":"true"}}}}}`)
	if _, err := c.AppsV1().Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	var readyAt time.Time
	timeout := time.After(3 * time.Minute)
	for readyAt.IsZero() {
		select {
		case ev := <-w.ResultChan():
			if dep, ok := ev.Object.(*appsv1.Deployment); ok && dep.Generation <= dep.Status.ObservedGeneration &&
				dep.Status.UpdatedReplicas == 1 && dep.Status.ReadyReplicas == 1 && dep.Status.AvailableReplicas == 1 && dep.Status.Replicas == 1 {
				readyAt = time.Now()
			}
		case <-timeout:
			t.Fatalf("Deployment %s never became ready", name)
		}
	}
	x := <-done
	if x.r.Code != 0 {
		t.Fatalf("wait: %s", x.r)
	}
	requests := 0
	for _, e := range env.Audit(t, since, "kubectl-tpe") {
		if e.Namespace == ns || e.Namespace == "" {
			requests++
		}
	}
	return float64(x.end.Sub(readyAt).Microseconds()) / 1000, requests
}
