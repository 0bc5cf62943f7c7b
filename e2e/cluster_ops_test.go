//go:build e2e

package e2e

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/e2e/framework"
)

// opsPrereqs are the cluster-wide objects the fixture charts need (cluster admin): the three
// PriorityClasses and a StorageClass that kwok provisions.
const opsPrereqs = `
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: thingpark-datapath, labels: {e2e: cluster-ops}}
value: 1000000
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: thingpark-data, labels: {e2e: cluster-ops}}
value: 999800
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: thingpark-others, labels: {e2e: cluster-ops}}
value: 999500
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: e2e-ops-sc, labels: {e2e: cluster-ops}}
provisioner: example.com/fake
volumeBindingMode: WaitForFirstConsumer
`

// installFixtureRelease installs the four fixture charts of v7.3.1 in ns with the real helm as the
// operator, and removes them (and the cluster-wide prerequisites) when the test ends.
func installFixtureRelease(t *testing.T, ns string) func(args ...string) framework.Result {
	t.Helper()
	env.GrantOperator(t, ns)
	if r := env.Run(t, nil, strings.NewReader(opsPrereqs), env.Kubectl, "--kubeconfig", env.AdminKubeconfig, "create", "-f", "-"); r.Code != 0 {
		t.Fatalf("create prerequisites: %s", r)
	}
	t.Cleanup(func() {
		_, _ = env.KubectlOK(t, env.AdminKubeconfig, "delete", "priorityclass,storageclass", "-l", "e2e=cluster-ops", "--ignore-not-found")
	})
	helm := func(args ...string) framework.Result { return env.HelmCLI(t, env.OperatorKubeconfig, args...) }
	if r := helm("repo", "add", "e2e-ops", env.RepoURL, "--username", env.InstallationID, "--password", env.InstallationID, "--force-update"); r.Code != 0 {
		t.Fatalf("helm repo add: %s", r)
	}
	t.Cleanup(func() { helm("repo", "remove", "e2e-ops") })
	sc := "e2e-ops-sc"
	charts := []struct {
		release, chart, version string
		set                     []string
	}{
		{"tpe-data-controllers", "thingpark-data-controllers", "1.2.4", nil},
		{"tpe-data", "thingpark-data", "1.3.5", []string{"mongo-replicaset.persistence.storageClass=" + sc, "kafka-cluster.kafka.persistence.storageClass=" + sc,
			"zookeeper.persistence.storageClass=" + sc, "mariadb-galera.persistence.storageClass=" + sc}},
		{"tpe-controllers", "thingpark-application-controllers", "1.2.4", nil},
		{"tpe", "thingpark-enterprise", "1.4.1", []string{"global.installationId=" + env.InstallationID, "lrc.persistence.storageClass=" + sc}},
	}
	for _, c := range charts {
		args := []string{"install", c.release, "e2e-ops/" + c.chart, "--version", c.version, "-n", ns}
		for _, s := range c.set {
			args = append(args, "--set", s)
		}
		if r := helm(args...); r.Code != 0 {
			t.Fatalf("helm install %s: %s", c.release, redact(r.String()))
		}
	}
	t.Cleanup(func() {
		for i := len(charts) - 1; i >= 0; i-- {
			helm("uninstall", charts[i].release, "-n", ns, "--wait", "--timeout", "2m")
		}
		_, _ = env.KubectlOK(t, env.AdminKubeconfig, "-n", ns, "delete", "pvc", "--all", "--wait=false")
	})
	return helm
}

func redact(s string) string { return strings.ReplaceAll(s, env.InstallationID, "<installation-id>") }

// TestClusterOpsWaitAndStatus installs the fixture release, waits for it, reads its status, breaks
// a StatefulSet (fixture.unschedulable), checks that wait times out naming the reason and that
// status flags it, then checks that a wait in progress survives an API server restart.
func TestClusterOpsWaitAndStatus(t *testing.T) {
	const ns = "e2e-ops"
	helm := installFixtureRelease(t, ns)
	tpe := func(args ...string) framework.Result {
		return env.KubectlTPE(t, env.OperatorKubeconfig, append([]string{"-n", ns}, args...)...)
	}
	assertNoSecret := func(r framework.Result) {
		t.Helper()
		if strings.Contains(r.Stdout+r.Stderr, env.InstallationID) {
			t.Fatal("the installation ID appears in the output")
		}
	}

	t0 := time.Now()
	r := tpe("wait", "--timeout", "4m")
	assertNoSecret(r)
	if r.Code != 0 || !strings.Contains(r.Stdout, "workloads ready") {
		t.Fatalf("wait for the fixture release: %s", r)
	}
	t.Logf("kubectl tpe wait: fixture release ready after %s: %s", time.Since(t0).Round(time.Millisecond), strings.TrimSpace(r.Stdout))
	for _, w := range []string{"StatefulSet/lrc", "Deployment/pum", "StatefulSet/mariadb-galera"} {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("wait progress does not mention %s:\n%s", w, r.Stderr)
		}
	}

	env.SetPUM(t, "done")
	r = tpe("status", "-o", "json")
	assertNoSecret(r)
	var d struct {
		Kind    string `json:"kind"`
		Release struct {
			Name string   `json:"name"`
			Also []string `json:"also"`
			Helm []struct {
				Name, Chart, ChartVersion, Status string
				Revision                          int
			} `json:"helm"`
		} `json:"release"`
		Checks []struct{ ID, Status, Message string } `json:"checks"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &d); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, r)
	}
	if d.Kind != "Status" || d.Release.Name != "v7.3.1" || len(d.Release.Helm) != 4 {
		t.Errorf("status names %q (also %v), %d Helm releases; want v7.3.1 and 4\n%s", d.Release.Name, d.Release.Also, len(d.Release.Helm), r.Stdout)
	}
	checks := map[string]string{}
	for _, c := range d.Checks {
		checks[c.ID] = c.Status + " " + c.Message
	}
	for id, want := range map[string][2]string{
		"workloads.ready": {"pass", "ready"}, "pum.verdict": {"pass", "done"}, "ingress.loadbalancer": {"pass", "192.0.2.10"},
		"workloads.pvcs": {"pass", "bound"}, "release.match": {"pass", "v7.3.1"}, "ingress.ports": {"pass", "443"},
	} {
		if got := checks[id]; !strings.HasPrefix(got, want[0]+" ") || !strings.Contains(got, want[1]) {
			t.Errorf("check %s = %q, want %s containing %q", id, got, want[0], want[1])
		}
	}
	if r.Code != 0 {
		t.Errorf("status of a healthy release exits %d:\n%s", r.Code, r.Stdout)
	}
	table := tpe("status")
	t.Logf("kubectl tpe status of the fixture release:\n%s", table.Stdout)
	if !strings.Contains(table.Stdout, "release v7.3.1") || !strings.Contains(table.Stdout, "thingpark-enterprise") {
		t.Errorf("status table:\n%s", table)
	}

	// A user with the built-in "view" role (no Secrets, no exec): those sections say so and the
	// rest still works.
	env.KubectlAdmin(t, "-n", ns, "create", "rolebinding", "e2e-ops-viewer", "--clusterrole=view", "--user=e2e-ops-viewer")
	t.Cleanup(func() {
		_, _ = env.KubectlOK(t, env.AdminKubeconfig, "-n", ns, "delete", "rolebinding", "e2e-ops-viewer", "--ignore-not-found")
	})
	viewer := env.KubectlTPE(t, env.AdminKubeconfig, "-n", ns, "--as", "e2e-ops-viewer", "status")
	t.Logf("kubectl tpe status as a viewer:\n%s", viewer.Stdout)
	if viewer.Code != 0 {
		t.Errorf("status as a viewer exits %d:\n%s", viewer.Code, viewer)
	}
	for _, w := range []string{"SKIP     release.helm", "you may not list secrets (Helm's release storage) in namespace " + ns,
		"SKIP     pum.verdict", "you may not exec into pods", "PASS     workloads.ready"} {
		if !strings.Contains(viewer.Stdout, w) {
			t.Errorf("viewer status lacks %q", w)
		}
	}

	// Break the lrc StatefulSet: its updated pod can never be scheduled.
	if r := helm("upgrade", "tpe", "e2e-ops/thingpark-enterprise", "--version", "1.4.1", "-n", ns, "--reuse-values", "--set", "fixture.unschedulable=true"); r.Code != 0 {
		t.Fatalf("helm upgrade (unschedulable): %s", redact(r.String()))
	}
	r = tpe("wait", "--timeout", "20s")
	if r.Code != 2 {
		t.Fatalf("wait on an unschedulable StatefulSet exits %d, want 2:\n%s", r.Code, r)
	}
	if !strings.Contains(r.Stderr, "StatefulSet/lrc") || !strings.Contains(r.Stderr, "unschedulable") || !strings.Contains(r.Stderr, "Insufficient cpu") {
		t.Errorf("timeout does not give the reason:\n%s", r.Stderr)
	}
	r = tpe("status")
	if r.Code != 2 || !strings.Contains(r.Stdout, "StatefulSet/lrc") || !strings.Contains(r.Stdout, "FAIL") {
		t.Errorf("status does not flag the broken StatefulSet (exit %d):\n%s", r.Code, r.Stdout)
	}
	if !strings.Contains(r.Stdout, "release v7.3.1") {
		t.Errorf("status no longer names the release:\n%s", r.Stdout)
	}

	// A wait in progress survives an API server restart, then returns once lrc is fixed.
	type res struct {
		r   framework.Result
		end time.Time
	}
	done := make(chan res, 1)
	go func() {
		r := env.KubectlTPE(t, env.OperatorKubeconfig, "-n", ns, "wait", "--timeout", "4m")
		done <- res{r, time.Now()}
	}()
	time.Sleep(2 * time.Second)
	env.RestartAPIServer(t)
	select {
	case x := <-done:
		t.Fatalf("wait returned during the restart: %s", x.r)
	default:
	}
	if r := helm("upgrade", "tpe", "e2e-ops/thingpark-enterprise", "--version", "1.4.1", "-n", ns, "--reuse-values", "--set", "fixture.unschedulable=false"); r.Code != 0 {
		t.Fatalf("helm upgrade (fix): %s", redact(r.String()))
	}
	select {
	case x := <-done:
		if x.r.Code != 0 {
			t.Fatalf("wait across an API server restart: %s", x.r)
		}
		t.Logf("wait across the restart: %s", strings.TrimSpace(x.r.Stdout))
	case <-time.After(5 * time.Minute):
		t.Fatal("wait did not return after the StatefulSet was fixed")
	}
}

// TestClusterOpsPUM drives `kubectl tpe pum` against the fake post-upgrade manager.
func TestClusterOpsPUM(t *testing.T) {
	const ns = "e2e-ops-pum"
	env.GrantOperator(t, ns)
	op := func(args ...string) (string, error) {
		return env.KubectlOK(t, env.OperatorKubeconfig, append([]string{"-n", ns}, args...)...)
	}
	if _, err := op("create", "deployment", "pum", "--image=example/post-upgrade:1"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = op("delete", "deployment", "pum", "--ignore-not-found") })
	if r := env.KubectlTPE(t, env.OperatorKubeconfig, "-n", ns, "wait", "-l", "app=pum", "--timeout", "90s"); r.Code != 0 {
		t.Fatalf("wait for deploy/pum: %s", r)
	}
	tpe := func(args ...string) framework.Result {
		return env.KubectlTPE(t, env.OperatorKubeconfig, append([]string{"-n", ns, "pum"}, args...)...)
	}
	tests := []struct {
		scenario string
		args     []string
		code     int
		out      []string
		errOut   []string
	}{
		{"done", []string{"status"}, 0, []string{"Verdict: done", "PROCESSED", "SKIPPED"}, nil},
		{"progress", []string{"status"}, 0, []string{"Verdict: in progress", "INIT", "TRANSIENT_ERROR"}, nil},
		{"aborted", []string{"status"}, 2, []string{"Verdict: failed", "ABORTED", `"status":500`, "pum restart"}, nil},
		{"sample", []string{"status"}, 0, []string{"Verdict: in progress", "RDTP-18480-alarm-email-notification-migration-for-tpe-ocp", "unknown", "PROCESSED"}, []string{"no state line"}},
		{"progress", []string{"status", "--wait", "--timeout", "4s", "--interval", "1s"}, 2, []string{"Verdict: in progress"}, []string{"timed out"}},
		{"progress:2", []string{"status", "--wait", "--timeout", "60s", "--interval", "300ms"}, 0, []string{"Verdict: done"}, []string{"post-upgrade procedure in progress"}},
		{"aborted", []string{"status", "--wait", "--timeout", "60s"}, 2, []string{"Verdict: failed"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.scenario+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			env.SetPUM(t, tt.scenario)
			r := tpe(tt.args...)
			if r.Code != tt.code {
				t.Errorf("exit %d, want %d:\n%s", r.Code, tt.code, r)
			}
			for _, w := range tt.out {
				if !strings.Contains(r.Stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r)
				}
			}
			for _, w := range tt.errOut {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r)
				}
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		env.SetPUM(t, "sample")
		r := tpe("status", "-o", "json")
		var st struct {
			Verdict string `json:"verdict"`
			Entries []struct {
				UID          string          `json:"uid"`
				State        string          `json:"state"`
				LastResponse json.RawMessage `json:"lastResponse"`
			} `json:"entries"`
			Warnings []string `json:"warnings"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
			t.Fatalf("%v\n%s", err, r)
		}
		if st.Verdict != "in progress" || len(st.Entries) != 2 || st.Entries[1].State != "" || len(st.Warnings) != 1 || !json.Valid(st.Entries[0].LastResponse) {
			t.Errorf("sample as JSON: %+v", st)
		}
	})
	t.Run("restart", func(t *testing.T) {
		env.SetPUM(t, "done")
		before := env.PUMRestarts(t)
		r := tpe("restart")
		if r.Code != 1 || !strings.Contains(r.Stderr, "--yes") || env.PUMRestarts(t) != before {
			t.Errorf("restart without a terminal and without --yes: %s", r)
		}
		// The fake re-queues every request: the status right after shows them in progress, the next
		// one done.
		r = tpe("restart", "--yes")
		if r.Code != 0 || !strings.Contains(r.Stdout, "Verdict: in progress") || !strings.Contains(r.Stderr, "restarted") {
			t.Errorf("restart --yes: %s", r)
		}
		if r := tpe("status"); r.Code != 0 || !strings.Contains(r.Stdout, "Verdict: done") {
			t.Errorf("status after restart: %s", r)
		}
		if got := env.PUMRestarts(t); got != before+1 {
			t.Errorf("fake restart ran %d times, want 1", got-before)
		}
	})
	t.Run("support bundle", func(t *testing.T) {
		env.SetPUM(t, "aborted")
		file := filepath.Join(t.TempDir(), "bundle.tar.gz")
		r := env.KubectlTPE(t, env.OperatorKubeconfig, "-n", ns, "support-bundle", "--output-file", file)
		if r.Code != 0 || !strings.Contains(r.Stdout, "wrote "+file) {
			t.Fatalf("support-bundle: %s", r)
		}
		files := readTarGz(t, file)
		for _, want := range []string{"manifest.json", "status.json", "preflight.json", "pum/status.txt", "pum/status.json", "events.json", "helm/releases.json", "workloads.json"} {
			if _, ok := files[want]; !ok {
				t.Errorf("bundle lacks %s", want)
			}
		}
		if !strings.Contains(files["pum/status.json"], `"verdict": "failed"`) || !strings.Contains(files["manifest.json"], `"part": "cluster/nodes.json"`) {
			t.Errorf("pum status or the skipped (forbidden) nodes part missing:\n%s", files["manifest.json"])
		}
		for name, content := range files {
			if strings.Contains(content, env.InstallationID) {
				t.Errorf("%s contains the installation ID", name)
			}
		}
		if r := env.KubectlTPE(t, env.OperatorKubeconfig, "-n", ns, "support-bundle", "--output-file", file); r.Code != 1 || !strings.Contains(r.Stderr, "exists") {
			t.Errorf("support-bundle over an existing file: %s", r)
		}
	})
	t.Run("logs without the job", func(t *testing.T) {
		r := tpe("logs")
		if r.Code != 1 || !strings.Contains(r.Stderr, fmt.Sprintf("job pum-process not found in namespace %s", ns)) {
			t.Errorf("logs: %s", r)
		}
	})
}

func readTarGz(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = string(b)
	}
}
