//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
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

// TestBench is `make bench` (issue 8): on the local cluster it measures and prints
//
//	(a) hack/manual-upgrade.sh (the TPE upgrade procedure performed literally with kubectl and helm) against
//	    `helm tpe upgrade` on the same fixture upgrade v7.2.2c → v7.3.1: wall time and API requests
//	    counted in the apiserver audit log by user agent;
//	(b) API requests and wall time of `kubectl tpe preflight`, `status` and `wait` at 10, 1,000
//	    and 5,000 pods, and the peak RSS of each;
//	(c) wait latency: from the moment a watch in this test sees a Deployment rolled out to the exit
//	    of `kubectl tpe wait` (and of `kubectl rollout status`, for reference);
//	(d) footprint: binary sizes and start-up time of `kubectl tpe version` / `helm tpe version`.
//
// It runs only with TPE_BENCH=1. Knobs: TPE_BENCH_PODS (10,1000,5000), TPE_BENCH_RUNS (runs per
// command, 3), TPE_BENCH_UPGRADE_RUNS (1), TPE_BENCH_LATENCY_RUNS (7), TPE_BENCH_PARTS (abcd),
// TPE_BENCH_BIN_DIR (release-built binaries to size, e.g. bin/), TPE_BENCH_OUT (also write the
// report to this file).
func TestBench(t *testing.T) {
	if os.Getenv("TPE_BENCH") == "" {
		t.Skip("set TPE_BENCH=1 (make bench) to run the benchmarks")
	}
	rep := newBenchReport(t)
	defer rep.close()
	parts := benchEnv("TPE_BENCH_PARTS", "abcd")
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		rep.printf("machine: %d CPUs as seen by Go, load average at start %s", runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:3], " "))
	}
	f := newEvFixture(t)
	if strings.Contains(parts, "a") {
		t.Run("upgrade", func(t *testing.T) { benchUpgrade(t, f, rep) })
	}
	if strings.ContainsAny(parts, "bc") {
		if !f.installed(t) {
			f.install(t, "v7.3.1")
		}
	}
	if strings.Contains(parts, "b") {
		t.Run("scale", func(t *testing.T) { benchScale(t, f, rep) })
	}
	if strings.Contains(parts, "c") {
		t.Run("wait latency", func(t *testing.T) { benchWaitLatency(t, f, rep) })
	}
	if strings.Contains(parts, "d") {
		t.Run("footprint", func(t *testing.T) { benchFootprint(t, rep) })
	}
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		rep.printf("load average at the end %s", strings.Join(strings.Fields(string(load))[:3], " "))
	}
}

func (f *evFixture) installed(t testing.TB) bool {
	return len(f.charts(t)) == 4
}

func benchEnv(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}

func benchInt(t testing.TB, name string, def int) int {
	v, err := strconv.Atoi(benchEnv(name, strconv.Itoa(def)))
	if err != nil || v < 1 {
		t.Fatalf("%s: want a positive number", name)
	}
	return v
}

// benchReport prints the figures (to stdout, and to TPE_BENCH_OUT when set).
type benchReport struct {
	t   *testing.T
	out io.Writer
	f   *os.File
}

func newBenchReport(t *testing.T) *benchReport {
	r := &benchReport{t: t, out: os.Stdout}
	if p := os.Getenv("TPE_BENCH_OUT"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		r.f, r.out = f, io.MultiWriter(os.Stdout, f)
	}
	return r
}

func (r *benchReport) printf(format string, args ...any) {
	fmt.Fprintf(r.out, "BENCH "+format+"\n", args...)
}

func (r *benchReport) close() {
	if r.f != nil {
		_ = r.f.Close()
	}
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

type durations []time.Duration

func (d durations) stats() (minv, med, maxv time.Duration) {
	s := append(durations(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0, 0, 0
	}
	med = s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[0], med, s[len(s)-1]
}

// benchUpgrade installs v7.2.2c, upgrades it to v7.3.1 with hack/manual-upgrade.sh, uninstalls,
// installs v7.2.2c again and upgrades it with helm tpe; per run, in alternating order.
func benchUpgrade(t *testing.T, f *evFixture, rep *benchReport) {
	runs := benchInt(t, "TPE_BENCH_UPGRADE_RUNS", 1)
	env.SetPUM(t, "done")
	var manualWall, tpeWall durations
	var manualReq, tpeReq []auditCount
	var tpeSDK, tpeOwn []int
	manual := func() {
		f.uninstall(t)
		f.install(t, "v7.2.2c")
		e := procEnv(env.OperatorKubeconfig, "NAMESPACE="+f.NS, "RELEASE=v7.3.1", "CONFIG_DIR="+filepath.Join(env.ReleasesDir, "v7.3.1"),
			"REPO_URL="+env.RepoURL, "INSTALLATION_ID_FILE="+env.InstallationIDFile, "VALUES="+f.Values,
			"HELM="+env.Helm, "KUBECTL="+env.Kubectl, "HELM_REPOSITORY_CONFIG="+filepath.Join(t.TempDir(), "repositories.yaml"),
			"HELM_REPOSITORY_CACHE="+t.TempDir())
		m := runMeasured(t, e, 30*time.Minute, "bash", filepath.Join(env.Root, "hack", "manual-upgrade.sh"))
		if m.Code != 0 {
			t.Fatalf("manual-upgrade.sh: %s", redact(m.Result.String()))
		}
		c := countAudit(t, m.Start, m.End, "kubectl/", "Helm/", "helm/")
		manualWall, manualReq = append(manualWall, m.Wall), append(manualReq, c)
		f.wantRelease(t, charts731)
		rep.printf("upgrade v7.2.2c→v7.3.1 manual (hack/manual-upgrade.sh): wall %s, API requests %s, mutating %d", secs(m.Wall), c, c.Mutating)
	}
	withTPE := func() {
		f.uninstall(t)
		f.install(t, "v7.2.2c")
		m := runMeasured(t, procEnv(env.OperatorKubeconfig, "HELM_NAMESPACE="+f.NS), 30*time.Minute, env.HelmTPEBin,
			"upgrade", "--to", "v7.3.1", "-f", f.Values, "--yes")
		f.outputs = append(f.outputs, m.Stdout, m.Stderr)
		if m.Code != 0 {
			t.Fatalf("helm tpe upgrade: %s", redact(m.Result.String()))
		}
		c := countAudit(t, m.Start, m.End, "helm-tpe/")
		tpeWall, tpeReq = append(tpeWall, m.Wall), append(tpeReq, c)
		helmSDK, own := benchBreakdown(t, rep, m.Start, m.End)
		tpeSDK, tpeOwn = append(tpeSDK, helmSDK), append(tpeOwn, own)
		var steps []string
		for _, l := range strings.Split(m.Stderr, "\n") {
			if strings.HasPrefix(l, "[") && strings.Contains(l, "done (") {
				steps = append(steps, l)
			}
		}
		rep.printf("upgrade helm tpe steps: %s", strings.Join(steps, " | "))
		f.wantRelease(t, charts731)
		rep.printf("upgrade v7.2.2c→v7.3.1 helm tpe upgrade --to v7.3.1 -f values.yaml --yes: wall %s, API requests %s, mutating %d", secs(m.Wall), c, c.Mutating)
	}
	for i := 0; i < runs; i++ {
		if i%2 == 0 {
			manual()
			withTPE()
		} else {
			withTPE()
			manual()
		}
	}
	_, mw, _ := manualWall.stats()
	_, tw, _ := tpeWall.stats()
	mr, tr := medianCount(manualReq), medianCount(tpeReq)
	rep.printf("upgrade summary over %d run(s): manual median wall %s, %d requests; helm tpe median wall %s, %d requests; wall ratio helm tpe/manual %.2f; request ratio %.2f",
		runs, secs(mw), mr, secs(tw), tr, tw.Seconds()/mw.Seconds(), float64(tr)/float64(mr))
	sort.Ints(tpeSDK)
	sort.Ints(tpeOwn)
	own := tpeOwn[len(tpeOwn)/2]
	rep.printf("upgrade summary: helm tpe median %d requests by the Helm SDK's install/upgrade actions (user agent %q), %d added by helm tpe itself",
		tpeSDK[len(tpeSDK)/2], helmSDKAgent, own)
	// The request budget of a one-hop upgrade: helm tpe's own part (plan, permission check,
	// backup, waits, post-upgrade gate, progress record) and its total against the manual procedure.
	if own > 40 {
		t.Errorf("helm tpe adds %d requests to the Helm SDK's for one hop; the budget is 40", own)
	}
	if ratio := float64(tr) / float64(mr); ratio > 0.6 {
		t.Errorf("helm tpe makes %.2f× the requests of the manual procedure; the budget is 0.6×", ratio)
	}
}

// helmSDKAgent marks the user agent of the Helm SDK's clients in helm tpe (pkg/cmd/helmtpe).
const helmSDKAgent = "(helm-sdk)"

// benchBreakdown prints where helm tpe's requests of one run went: the Helm SDK's clients (their
// user agent ends with helmSDKAgent) and helm tpe's own, each by what they are for, and returns
// both totals.
func benchBreakdown(t testing.TB, r *benchReport, from, to time.Time) (helmSDK, own int) {
	groups := map[string]map[string]int{}
	for _, e := range env.Audit(t, from, "") {
		if e.Time.After(to) || !strings.HasPrefix(e.UserAgent, "helm-tpe/") {
			continue
		}
		who := "helm tpe"
		if strings.Contains(e.UserAgent, helmSDKAgent) {
			who = "Helm SDK"
			helmSDK++
		} else {
			own++
		}
		if groups[who] == nil {
			groups[who] = map[string]int{}
		}
		groups[who][benchPurpose(e)]++
		groups[who+" detail"] = benchAdd(groups[who+" detail"], benchRequest(e))
	}
	for _, who := range []string{"Helm SDK", "helm tpe"} {
		rep := fmt.Sprintf("%s: %d", who, helmSDK)
		if who == "helm tpe" {
			rep = fmt.Sprintf("%s: %d", who, own)
		}
		r.printf("upgrade helm tpe requests, %s (%s)", rep, benchGroups(groups[who]))
		t.Logf("%s requests: %s", who, benchGroups(groups[who+" detail"]))
	}
	return helmSDK, own
}

func benchAdd(m map[string]int, k string) map[string]int {
	if m == nil {
		m = map[string]int{}
	}
	m[k]++
	return m
}

func benchGroups(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// benchRequest is "verb resource/subresource name" or the path of a non-resource request.
func benchRequest(e framework.AuditEvent) string {
	if e.Resource == "" {
		path, _, _ := strings.Cut(e.URI, "?")
		return e.Verb + " " + path
	}
	r := e.Resource
	if e.Subresource != "" {
		r += "/" + e.Subresource
	}
	if e.Name != "" {
		r += " " + e.Name
	}
	if strings.Contains(e.URI, "owner%3Dhelm") || strings.Contains(e.URI, "owner=helm") {
		r += " (Helm releases)"
	}
	return e.Verb + " " + r
}

// benchPurpose sorts a request of helm tpe by what it is for.
func benchPurpose(e framework.AuditEvent) string {
	switch {
	case e.Resource == "":
		return "discovery"
	case e.Resource == "secrets" && (strings.HasPrefix(e.Name, "sh.helm.release.") || strings.Contains(e.URI, "owner%3Dhelm") || strings.Contains(e.URI, "owner=helm")):
		return "Helm releases"
	case e.Resource == "configmaps" && e.Name == "tpe-upgrade-progress":
		return "progress record"
	case e.Subresource == "exec" || e.Resource == "pods" && strings.Contains(e.URI, "labelSelector") && e.Verb == "list":
		return "exec"
	case strings.HasSuffix(e.Resource, "reviews") || e.Resource == "clusterroles":
		return "permissions"
	case e.Verb == "watch" || e.Verb == "list":
		return "list/watch " + e.Resource
	}
	return e.Verb + " " + e.Resource
}

func medianCount(cs []auditCount) int {
	var n []int
	for _, c := range cs {
		n = append(n, c.Total)
	}
	sort.Ints(n)
	return n[len(n)/2]
}

// wantRelease checks the four charts are deployed at the versions of want.
func (f *evFixture) wantRelease(t testing.TB, want map[string]string) {
	t.Helper()
	got := f.charts(t)
	for name, chart := range want {
		if got[name] != chart+" deployed" {
			t.Fatalf("%s is %q, want %s deployed (all: %v)", name, got[name], chart, got)
		}
	}
}

// benchClient is a client-go clientset as cluster admin, fast enough to create thousands of pods.
func benchClient(t testing.TB) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", env.AdminKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst, cfg.UserAgent = 2000, 4000, "tpe-bench-filler"
	return kubernetes.NewForConfigOrDie(cfg)
}

const benchNode = "tpe-bench-node"

// benchScale adds kwok pods to the TPE namespace (bound to one big fake node, no scheduler in the
// way) up to each size and runs preflight, status and wait there.
func benchScale(t *testing.T, f *evFixture, rep *benchReport) {
	var sizes []int
	for _, s := range strings.Split(benchEnv("TPE_BENCH_PODS", "10,1000,5000"), ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 {
			t.Fatalf("TPE_BENCH_PODS: bad size %q", s)
		}
		sizes = append(sizes, n)
	}
	runs := benchInt(t, "TPE_BENCH_RUNS", 3)
	c := benchClient(t)
	ctx := context.Background()
	big := resource.MustParse("20000")
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: benchNode,
		Annotations: map[string]string{"node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake"},
		Labels: map[string]string{"kubernetes.io/hostname": benchNode, "type": "kwok", "topology.kubernetes.io/zone": "zone-a",
			"thingpark.enterprise.actility.com/nodegroup-name": "tpe"}},
		Status: corev1.NodeStatus{
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1000"), corev1.ResourceMemory: resource.MustParse("4Ti"), corev1.ResourcePods: big},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1000"), corev1.ResourceMemory: resource.MustParse("4Ti"), corev1.ResourcePods: big},
			NodeInfo:    corev1.NodeSystemInfo{Architecture: "amd64", OperatingSystem: "linux", KubeletVersion: "fake"}}}
	if _, err := c.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		zero := int64(0)
		_ = c.CoreV1().Pods(f.NS).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{LabelSelector: "tpe-bench=filler"})
		framework.Eventually(t, 5*time.Minute, time.Second, "filler pods deleted", func() bool {
			l, err := c.CoreV1().Pods(f.NS).List(ctx, metav1.ListOptions{LabelSelector: "tpe-bench=filler", Limit: 1})
			return err == nil && len(l.Items) == 0
		})
		_ = c.CoreV1().Nodes().Delete(ctx, benchNode, metav1.DeleteOptions{})
	})
	base, err := c.CoreV1().Pods(f.NS).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	existing := len(base.Items)
	rep.printf("scale: the fixture release v7.3.1 has %d pods in %s; filler pods are added on one kwok node", existing, f.NS)
	filler := 0
	type cmdSpec struct {
		name, kubeconfig string
		args             []string
	}
	cmds := []cmdSpec{
		{"preflight", env.AdminKubeconfig, []string{"preflight", "-n", f.NS, "--to", "v7.3.1", "-f", f.Values}},
		{"status", env.OperatorKubeconfig, []string{"status", "-n", f.NS}},
		{"wait", env.OperatorKubeconfig, []string{"wait", "-n", f.NS, "--timeout", "5m"}},
	}
	// the request count of each command must not grow with the pods
	counts := map[string][]int{}
	defer func() {
		for name, c := range counts {
			sort.Ints(c)
			if len(c) > 0 && c[len(c)-1] > c[0] {
				t.Errorf("kubectl tpe %s: the API request count grows with the pods: %v", name, c)
			}
		}
	}()
	for _, size := range sizes {
		want := max(0, size-existing)
		t0 := time.Now()
		benchCreatePods(t, c, f.NS, filler, want)
		filler = max(filler, want)
		framework.Eventually(t, 20*time.Minute, 2*time.Second, fmt.Sprintf("%d filler pods ready", filler), func() bool {
			return benchReadyFillers(c, f.NS) >= filler
		})
		total := existing + filler
		rep.printf("scale: %d pods in the namespace (%d filler) created and made ready by kwok in %s", total, filler, secs(time.Since(t0)))
		for _, cs := range cmds {
			var walls durations
			var reqs []int
			var rss []int64
			var code int
			for i := 0; i < runs; i++ {
				m := runMeasured(t, procEnv(cs.kubeconfig), 10*time.Minute, env.KubectlTPEBin, cs.args...)
				f.outputs = append(f.outputs, m.Stdout, m.Stderr)
				if m.Code == 1 {
					t.Fatalf("kubectl tpe %s: %s", cs.name, redact(m.Result.String()))
				}
				code = m.Code
				walls = append(walls, m.Wall)
				reqs = append(reqs, countAudit(t, m.Start, m.End, "kubectl-tpe/").Total)
				rss = append(rss, m.MaxRSSKB)
			}
			mn, md, mx := walls.stats()
			counts[cs.name] = append(counts[cs.name], reqs...)
			sort.Ints(reqs)
			sort.Slice(rss, func(i, j int) bool { return rss[i] < rss[j] })
			rep.printf("scale: pods=%d kubectl tpe %s: exit %d, API requests min %d max %d, wall min %s median %s max %s, peak RSS median %.1f MiB max %.1f MiB",
				total, strings.Join(cs.args, " "), code, reqs[0], reqs[len(reqs)-1], secs(mn), secs(md), secs(mx),
				float64(rss[len(rss)/2])/1024, float64(rss[len(rss)-1])/1024)
		}
	}
}

// benchCreatePods creates filler pods from index `from` up to `to` (exclusive), 64 at a time.
func benchCreatePods(t *testing.T, c kubernetes.Interface, ns string, from, to int) {
	t.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	var mu sync.Mutex
	var firstErr error
	for i := from; i < to; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("tpe-bench-filler-%05d", i), Labels: map[string]string{"tpe-bench": "filler"}},
				Spec: corev1.PodSpec{NodeName: benchNode, Containers: []corev1.Container{{Name: "c", Image: "example/filler:1"}}}}
			if _, err := c.CoreV1().Pods(ns).Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatalf("create filler pods: %v", firstErr)
	}
}

func benchReadyFillers(c kubernetes.Interface, ns string) int {
	l, err := c.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{ResourceVersion: "0", LabelSelector: "tpe-bench=filler"})
	if err != nil {
		return 0
	}
	n := 0
	for _, p := range l.Items {
		for _, cnd := range p.Status.Conditions {
			if cnd.Type == corev1.PodReady && cnd.Status == corev1.ConditionTrue {
				n++
			}
		}
	}
	return n
}

// benchWaitLatency restarts a 3-replica Deployment (template annotation), starts `kubectl tpe
// wait` (or `kubectl rollout status`) right after, and measures from the moment a watch in this
// process sees the rollout complete to the exit of the waiting process.
func benchWaitLatency(t *testing.T, f *evFixture, rep *benchReport) {
	runs := benchInt(t, "TPE_BENCH_LATENCY_RUNS", 7)
	c := benchClient(t)
	ctx := context.Background()
	const name = "tpe-bench-latency"
	three := int32(3)
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.NS, Labels: labels},
		Spec: appsv1.DeploymentSpec{Replicas: &three, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example/latency:1"}}}}}}
	if _, err := c.AppsV1().Deployments(f.NS).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.AppsV1().Deployments(f.NS).Delete(ctx, name, metav1.DeleteOptions{}) })
	if r := env.KubectlTPE(t, env.OperatorKubeconfig, "-n", f.NS, "wait", "-l", "app="+name, "--timeout", "3m"); r.Code != 0 {
		t.Fatalf("first wait: %s", r)
	}
	rolledOut := func(d *appsv1.Deployment) bool {
		s := d.Status
		return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == three && s.Replicas == three &&
			s.ReadyReplicas == three && s.AvailableReplicas == three
	}
	measure := func(i int, bin string, args ...string) (time.Duration, bool) {
		w, err := c.AppsV1().Deployments(f.NS).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"tpe-bench/run":"%d-%d"}}}}}`, i, time.Now().UnixNano())
		dep, err := c.AppsV1().Deployments(f.NS).Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		gen := dep.Generation
		done := make(chan measured, 1)
		go func() { done <- runMeasured(t, procEnv(env.OperatorKubeconfig), 5*time.Minute, bin, args...) }()
		var readyAt time.Time
		timeout := time.After(4 * time.Minute)
		for readyAt.IsZero() {
			select {
			case ev, ok := <-w.ResultChan():
				if !ok {
					t.Fatal("watch closed")
				}
				if d, ok := ev.Object.(*appsv1.Deployment); ok && d.Generation >= gen && rolledOut(d) {
					readyAt = time.Now()
				}
			case <-timeout:
				t.Fatal("the Deployment never rolled out")
			}
		}
		m := <-done
		if m.Code != 0 {
			t.Fatalf("%s: %s", filepath.Base(bin), m.Result)
		}
		return m.End.Sub(readyAt), m.End.After(readyAt)
	}
	var tpe, kubectl durations
	early := 0
	for i := 0; i < runs; i++ {
		if l, ok := measure(i, env.KubectlTPEBin, "-n", f.NS, "wait", "-l", "app="+name, "--timeout", "3m"); ok {
			tpe = append(tpe, l)
		} else {
			early++
		}
		if l, ok := measure(i, env.Kubectl, "-n", f.NS, "rollout", "status", "deployment/"+name, "--timeout=3m"); ok {
			kubectl = append(kubectl, l)
		}
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0fms", float64(d.Microseconds())/1000) }
	mn, md, mx := tpe.stats()
	rep.printf("wait latency (rollout of a 3-replica Deployment seen by a watch → exit), %d runs: kubectl tpe wait min %s median %s max %s (%d runs returned before the test's watch saw the rollout)",
		len(tpe), ms(mn), ms(md), ms(mx), early)
	mn, md, mx = kubectl.stats()
	rep.printf("wait latency reference, %d runs: kubectl rollout status min %s median %s max %s", len(kubectl), ms(mn), ms(md), ms(mx))
}

// benchFootprint reports binary sizes and the start-up time of `version`.
func benchFootprint(t *testing.T, rep *benchReport) {
	dir := benchEnv("TPE_BENCH_BIN_DIR", filepath.Dir(env.KubectlTPEBin))
	kind := "release build (make build: -trimpath -s -w)"
	if dir == filepath.Dir(env.KubectlTPEBin) {
		kind = "test build (go build, with symbols)"
	}
	for _, b := range []string{"kubectl-tpe", "helm-tpe"} {
		p := filepath.Join(dir, b)
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%v (run make build, or unset TPE_BENCH_BIN_DIR)", err)
		}
		var walls durations
		var rss int64
		for i := 0; i < 21; i++ {
			m := runMeasured(t, procEnv(""), time.Minute, p, "version")
			if m.Code != 0 {
				t.Fatalf("%s version: %s", b, m.Result)
			}
			if i > 0 { // the first run warms the page cache
				walls = append(walls, m.Wall)
			}
			rss = max(rss, m.MaxRSSKB)
		}
		mn, md, mx := walls.stats()
		rep.printf("footprint: %s %s: %.1f MiB; `%s version` start-up over 20 runs min %.1fms median %.1fms max %.1fms, peak RSS %.1f MiB",
			b, kind, float64(fi.Size())/(1<<20), b, ms1(mn), ms1(md), ms1(mx), float64(rss)/1024)
	}
}

func ms1(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
