//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/e2e/framework"
	"github.com/thingpark-tools/kubectl-tpe/internal/chartrepo"
)

// Fault injection (issue 8). Every test asserts what the user sees (exit code, message) and that
// nothing was lost (Helm releases, progress record, workloads). docs/reliability.md lists them.

// noCrash fails when a command output looks like a Go panic or a stack trace.
func noCrash(t *testing.T, r framework.Result) {
	t.Helper()
	for _, s := range []string{"panic:", "goroutine ", "runtime error", "SIGSEGV"} {
		if strings.Contains(r.Stdout+r.Stderr, s) {
			t.Errorf("the command crashed (%q in its output):\n%s", s, redact(r.String()))
		}
	}
}

// oneErrorLine checks that stderr holds one "error: ..." line containing every want.
func oneErrorLine(t *testing.T, r framework.Result, want ...string) {
	t.Helper()
	noCrash(t, r)
	if n := strings.Count(r.Stderr, "error: "); n != 1 {
		t.Errorf("want exactly one \"error: \" line, got %d:\n%s", n, redact(r.Stderr))
	}
	for _, w := range want {
		if !strings.Contains(strings.ToLower(r.Stderr), strings.ToLower(w)) {
			t.Errorf("the error does not say %q:\n%s", w, redact(r.Stderr))
		}
	}
}

// TestFaultWaitSurvivesAPIServerRestart: `kubectl tpe wait` on a Deployment that cannot schedule;
// the API server restarts; the Deployment is fixed; the same wait returns success.
func TestFaultWaitSurvivesAPIServerRestart(t *testing.T) {
	const ns = "e2e-fault-wait"
	env.GrantOperator(t, ns)
	op := func(args ...string) string {
		out, err := env.KubectlOK(t, env.OperatorKubeconfig, append([]string{"-n", ns}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	op("create", "deployment", "blocked", "--image=example/blocked:1", "--replicas=2")
	op("patch", "deployment", "blocked", "-p", `{"spec":{"template":{"spec":{"nodeSelector":{"e2e-fault":"nowhere"}}}}}`)
	done := make(chan framework.Result, 1)
	go func() { done <- env.KubectlTPE(t, env.OperatorKubeconfig, "-n", ns, "wait", "--timeout", "4m") }()
	time.Sleep(3 * time.Second)
	t0 := time.Now()
	env.RestartAPIServer(t)
	t.Logf("apiserver restarted in %s", time.Since(t0).Round(time.Millisecond))
	select {
	case r := <-done:
		t.Fatalf("wait returned during the API server restart: %s", r)
	case <-time.After(2 * time.Second):
	}
	op("patch", "deployment", "blocked", "--type=json", "-p", `[{"op":"remove","path":"/spec/template/spec/nodeSelector"}]`)
	select {
	case r := <-done:
		noCrash(t, r)
		if r.Code != 0 || !strings.Contains(r.Stdout, "ready") {
			t.Fatalf("wait across an API server restart: %s", r)
		}
		t.Logf("wait carried on across the restart: stdout %q; stderr:\n%s", strings.TrimSpace(r.Stdout), r.Stderr)
	case <-time.After(5 * time.Minute):
		t.Fatal("wait did not return after the Deployment was fixed")
	}
}

// TestFaultUpgrade drives helm tpe upgrade v7.2.2c → v7.3.1 into a chart that does not render, a
// workload that never becomes ready and an API server restart, and resumes each.
func TestFaultUpgrade(t *testing.T) {
	f := newEvFixture(t)
	env.SetPUM(t, "done")
	upgrade := func(t *testing.T, values string, extra ...string) framework.Result {
		return f.helmTPE(t, "", nil, append([]string{"upgrade", "--to", "v7.3.1", "-f", values, "--yes", "--pum-interval", "1s"}, extra...)...)
	}
	fresh := func(t *testing.T) {
		f.uninstall(t)
		env.ResetController(t)
		f.install(t, "v7.2.2c")
		f.wantRelease(t, charts722c)
	}
	finish := func(t *testing.T) {
		t.Helper()
		r := upgrade(t, f.Values, "--resume")
		if r.Code != 0 {
			t.Fatalf("--resume: %s", redact(r.String()))
		}
		f.wantRelease(t, charts731)
		if p, _ := f.progress(t); p == nil || p.State != "done" {
			t.Errorf("after --resume the progress record is %+v, want state done", p)
		}
		if r := f.kubectlTPE(t, "", "wait", "--timeout", "3m"); r.Code != 0 {
			t.Errorf("workloads after --resume: %s", r)
		}
	}

	t.Run("a chart fails to render", func(t *testing.T) {
		fresh(t)
		bad := writeFile(t, "fail-render.yaml", evValues(f.Secrets, "fixture: {failRender: true}\n"))
		r := upgrade(t, bad)
		t.Logf("what the user sees (exit %d):\n%s", r.Code, redact(r.Stderr))
		if r.Code == 0 {
			t.Fatalf("upgrade with a chart that does not render succeeded: %s", redact(r.String()))
		}
		noCrash(t, r)
		if !strings.Contains(r.Stderr, "failRender") || !strings.Contains(r.Stderr, "thingpark-data-controllers") {
			t.Errorf("the error does not name the chart and the render failure:\n%s", redact(r.Stderr))
		}
		// nothing changed: the render failure of the first chart stops everything before any change
		f.wantRelease(t, charts722c)
		if p, raw := f.progress(t); p != nil {
			t.Logf("progress record: state %s, tpe-data-controllers %s", p.State, p.step("tpe-data-controllers"))
			if p.State == "done" || p.step("tpe-data-controllers") == "done" || p.step("tpe-data") != "pending" {
				t.Errorf("progress record after the render failure:\n%s", raw)
			}
		}
		finish(t)
	})

	t.Run("a workload never becomes ready", func(t *testing.T) {
		fresh(t)
		stuck := writeFile(t, "unschedulable.yaml", evValues(f.Secrets, "fixture: {unschedulable: true}\n"))
		r := upgrade(t, stuck, "--timeout", "40s")
		t.Logf("what the user sees (exit %d):\n%s", r.Code, redact(r.Stderr))
		if r.Code == 0 {
			t.Fatalf("upgrade with an unschedulable workload succeeded: %s", redact(r.String()))
		}
		noCrash(t, r)
		for _, w := range []string{"tpe-data-controllers", "strimzi-cluster-operator", "Insufficient cpu", "--resume"} {
			if !strings.Contains(r.Stderr, w) {
				t.Errorf("the error does not say %q:\n%s", w, redact(r.Stderr))
			}
		}
		got := f.charts(t)
		for _, n := range []string{"tpe-data", "tpe-controllers", "tpe"} {
			if got[n] != charts722c[n]+" deployed" {
				t.Errorf("%s was touched: %q, want %s deployed", n, got[n], charts722c[n])
			}
		}
		p, raw := f.progress(t)
		if p == nil || p.State != "failed" || p.step("tpe-data-controllers") != "failed" || p.step("tpe-data") != "pending" || p.step("tpe") != "pending" {
			t.Errorf("progress record: want run failed at tpe-data-controllers, the rest pending:\n%s", raw)
		}
		if p != nil && p.Backup == "" {
			t.Errorf("the progress record has no backup name:\n%s", raw)
		}
		finish(t)
	})

	t.Run("the post-upgrade status is garbage", func(t *testing.T) {
		fresh(t)
		env.SetPUM(t, "garbage")
		r := upgrade(t, f.Values, "--pum-timeout", "15s")
		t.Logf("what the user sees (exit %d):\n%s", r.Code, redact(r.Stderr))
		noCrash(t, r)
		if r.Code == 0 || strings.Contains(r.Stdout, "upgrade of v7.3.1 done") {
			t.Fatalf("the upgrade reported success while pum printed garbage: %s", redact(r.String()))
		}
		if !strings.Contains(r.Stderr, "IllegalStateException") {
			t.Errorf("the error does not show what pum printed:\n%s", redact(r.Stderr))
		}
		f.wantRelease(t, charts731)
		if p, raw := f.progress(t); p == nil || p.State == "done" {
			t.Errorf("progress record after the post-upgrade failure:\n%s", raw)
		}
		env.SetPUM(t, "done")
		finish(t)
	})

	t.Run("the API server restarts in the middle of the upgrade", func(t *testing.T) {
		fresh(t)
		done := make(chan framework.Result, 1)
		go func() { done <- upgrade(t, f.Values) }()
		// restart once the first chart is upgraded
		framework.Eventually(t, 3*time.Minute, 200*time.Millisecond, "tpe-data-controllers upgraded", func() bool {
			return strings.HasPrefix(f.charts(t)["tpe-data-controllers"], charts731["tpe-data-controllers"])
		})
		env.RestartAPIServer(t)
		var r framework.Result
		select {
		case r = <-done:
		case <-time.After(10 * time.Minute):
			t.Fatal("the upgrade did not return after the API server restart")
		}
		t.Logf("what the user sees (exit %d):\n%s", r.Code, redact(r.Stderr))
		noCrash(t, r)
		if r.Code == 0 {
			f.wantRelease(t, charts731)
			if p, raw := f.progress(t); p == nil || p.State != "done" {
				t.Errorf("the upgrade carried on but the progress record is not done:\n%s", raw)
			}
			return
		}
		if !strings.Contains(r.Stderr, "--resume") {
			t.Errorf("the upgrade stopped without saying how to resume:\n%s", redact(r.Stderr))
		}
		if p, raw := f.progress(t); p == nil || p.State == "done" {
			t.Errorf("the upgrade stopped but the progress record does not say so:\n%s", raw)
		}
		finish(t)
	})
}

// TestFaultPUMExec: the post-upgrade manager cannot be read — no ready pod, no pods/exec
// permission, output that is not the PUM format: one clear error, exit 1, no crash.
func TestFaultPUMExec(t *testing.T) {
	const ns = "e2e-fault-pum"
	env.GrantOperator(t, ns)
	op := func(args ...string) {
		t.Helper()
		if _, err := env.KubectlOK(t, env.OperatorKubeconfig, append([]string{"-n", ns}, args...)...); err != nil {
			t.Fatal(err)
		}
	}
	pum := func(kubeconfig string, args ...string) framework.Result {
		return env.KubectlTPE(t, kubeconfig, append([]string{"-n", ns, "pum", "status"}, args...)...)
	}
	t.Run("no deployment", func(t *testing.T) {
		r := pum(env.OperatorKubeconfig)
		t.Logf("user sees: %s", strings.TrimSpace(r.Stderr))
		if r.Code != 1 {
			t.Errorf("exit %d, want 1: %s", r.Code, r)
		}
		oneErrorLine(t, r, "pum", "does not exist")
	})
	op("create", "deployment", "pum", "--image=example/post-upgrade:1")
	t.Cleanup(func() {
		_, _ = env.KubectlOK(t, env.OperatorKubeconfig, "-n", ns, "delete", "deployment", "pum", "--ignore-not-found")
	})
	op("rollout", "status", "deployment/pum", "--timeout=90s")

	t.Run("garbage output", func(t *testing.T) {
		env.SetPUM(t, "garbage")
		for _, args := range [][]string{nil, {"-o", "json"}, {"--wait", "--timeout", "5s", "--interval", "1s"}} {
			r := pum(env.OperatorKubeconfig, args...)
			t.Logf("pum status %v → exit %d, user sees: %s", args, r.Code, strings.TrimSpace(r.Stderr))
			if r.Code != 1 && r.Code != 2 {
				t.Errorf("pum status %v on garbage: exit %d, want 1 or 2: %s", args, r.Code, r)
			}
			noCrash(t, r)
			if !strings.Contains(r.Stderr, "IllegalStateException") && !strings.Contains(r.Stdout, "IllegalStateException") {
				t.Errorf("the raw output is not shown to the user:\n%s", r)
			}
		}
	})

	t.Run("forbidden: a user without pods/exec", func(t *testing.T) {
		// tpe-viewer gets the built-in `view` role: it may read pods and deployments, not exec.
		const viewer = "tpe-viewer"
		binding := fmt.Sprintf("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: e2e-fault-viewer, namespace: %s}\n"+
			"roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: %s}]\n", ns, viewer)
		adminApply(t, binding)
		r := env.KubectlTPE(t, env.AdminKubeconfig, "-n", ns, "--as", viewer, "pum", "status")
		t.Logf("user sees: %s", strings.TrimSpace(r.Stderr))
		if r.Code != 1 {
			t.Errorf("exit %d, want 1: %s", r.Code, r)
		}
		oneErrorLine(t, r, "pods/exec")
		// status shows the section as skipped instead of failing
		s := env.KubectlTPE(t, env.AdminKubeconfig, "-n", ns, "--as", viewer, "status", "-o", "json")
		noCrash(t, s)
		if s.Code == 1 || !strings.Contains(s.Stdout, `"pum.`) {
			t.Errorf("status as a user without pods/exec: %s", s)
		}
	})

	t.Run("no ready pod", func(t *testing.T) {
		op("scale", "deployment", "pum", "--replicas=0")
		framework.Eventually(t, time.Minute, time.Second, "pum pods gone", func() bool {
			out, _ := env.KubectlOK(t, env.OperatorKubeconfig, "-n", ns, "get", "pods", "-l", "app=pum", "-o", "name")
			return strings.TrimSpace(out) == ""
		})
		r := pum(env.OperatorKubeconfig)
		t.Logf("user sees: %s", strings.TrimSpace(r.Stderr))
		if r.Code != 1 {
			t.Errorf("exit %d, want 1: %s", r.Code, r)
		}
		oneErrorLine(t, r, "pum", "ready")
		w := pum(env.OperatorKubeconfig, "--wait", "--timeout", "4s", "--interval", "1s")
		noCrash(t, w)
		if w.Code == 0 {
			t.Errorf("pum status --wait without a pod succeeded: %s", w)
		}
	})
}

// TestFaultRepoAdd: the chart repository answers 401 (wrong installation ID), 404, 500 or a
// truncated index; `helm tpe repo add` gives one clear error each and leaves repositories.yaml alone.
func TestFaultRepoAdd(t *testing.T) {
	wrongID := writeFile(t, "wrong-id", "not-the-installation-id-4711\n")
	for _, tc := range []struct {
		name  string
		fault chartrepo.Fault
		idf   string
		want  []string
	}{
		{"401", chartrepo.FaultNone, wrongID, []string{"installation ID rejected", "401"}},
		{"404", chartrepo.FaultNotFound, "", []string{"404", "--repo-url"}},
		{"500", chartrepo.FaultServerError, "", []string{"500", "try again later"}},
		{"truncated index", chartrepo.FaultTruncatedIndex, "", []string{"invalid or truncated"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env.SetRepoFault(t, tc.fault)
			idf := tc.idf
			if idf == "" {
				idf = env.InstallationIDFile
			}
			cfg := filepath.Join(t.TempDir(), "repositories.yaml")
			r := env.HelmTPE(t, "", nil, "repo", "add", "--repo-url", env.RepoURL, "--installation-id-file", idf, "--to", "v7.3.1",
				"--repository-config", cfg, "--repository-cache", t.TempDir())
			t.Logf("user sees (exit %d): %s", r.Code, strings.TrimSpace(redact(r.Stderr)))
			if r.Code != 1 {
				t.Errorf("exit %d, want 1", r.Code)
			}
			oneErrorLine(t, r, tc.want...)
			if strings.Contains(r.Stdout+r.Stderr, env.InstallationID) || strings.Contains(r.Stdout+r.Stderr, "not-the-installation-id-4711") {
				t.Error("an installation ID appears in the output")
			}
			if b, err := os.ReadFile(cfg); err == nil && strings.Contains(string(b), env.RepoURL) {
				t.Errorf("a failed repo add wrote the repository:\n%s", b)
			}
		})
	}
}

// TestFaultMissingPermission: the operator profile lacks delete on psmdb.percona.com; preflight
// names the verb and the group before anything is changed.
func TestFaultMissingPermission(t *testing.T) {
	const ns = "e2e-fault-rbac"
	env.GrantOperator(t, ns)
	adminApply(t, fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: tpe-operator-data-crs, namespace: %s, labels: {tpe.test/harness: operator}}
rules:
- apiGroups: [kafka.strimzi.io]
  resources: ["*"]
  verbs: ["*"]
- apiGroups: [psmdb.percona.com]
  resources: ["*"]
  verbs: [get, list, watch, create, update, patch]
`, ns))
	since := time.Now()
	r := env.KubectlTPE(t, env.OperatorKubeconfig, "-n", ns, "preflight", "--profile", "operator")
	t.Logf("preflight (exit %d):\n%s", r.Code, r.Stdout)
	noCrash(t, r)
	if r.Code != 2 {
		t.Errorf("preflight with a missing psmdb verb: exit %d, want 2", r.Code)
	}
	for _, w := range []string{"psmdb.percona.com", "delete"} {
		if !strings.Contains(r.Stdout, w) {
			t.Errorf("preflight does not name %q:\n%s", w, r.Stdout)
		}
	}
	if c := countAudit(t, since, time.Now(), "kubectl-tpe/"); c.Mutating > 0 {
		t.Errorf("preflight changed something: %v", c.Mutations)
	}
	// helm tpe plan, as the same operator, names it too (install and upgrade refuse a failed plan).
	since = time.Now()
	p := env.HelmTPE(t, env.OperatorKubeconfig, []string{"HELM_NAMESPACE=" + ns}, "plan", "--to", "v7.3.1")
	noCrash(t, p)
	if p.Code != 2 {
		t.Errorf("helm tpe plan with a missing psmdb verb: exit %d, want 2\n%s", p.Code, p.Stdout)
	}
	for _, w := range []string{"permissions.operator", "psmdb.percona.com", "delete"} {
		if !strings.Contains(p.Stdout, w) {
			t.Errorf("helm tpe plan does not name %q:\n%s", w, p.Stdout)
		}
	}
	if c := countAudit(t, since, time.Now(), "helm-tpe/"); c.Mutating > 0 {
		t.Errorf("plan changed something: %v", c.Mutations)
	}
}
