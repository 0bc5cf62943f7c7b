//go:build e2e

package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/e2e/framework"
)

// TestPluginsAnswerVersionAndHelp checks both binaries built from this checkout answer `version`
// (also as JSON) and `--help`.
func TestPluginsAnswerVersionAndHelp(t *testing.T) {
	for _, p := range []struct {
		name string
		run  func(args ...string) framework.Result
	}{
		{"kubectl-tpe", func(args ...string) framework.Result { return env.KubectlTPE(t, env.AdminKubeconfig, args...) }},
		{"helm-tpe", func(args ...string) framework.Result { return env.HelmTPE(t, env.AdminKubeconfig, nil, args...) }},
	} {
		t.Run(p.name, func(t *testing.T) {
			for _, args := range [][]string{{"version"}, {"version", "-o", "json"}, {"--help"}} {
				r := p.run(args...)
				if r.Code != 0 || strings.TrimSpace(r.Stdout) == "" {
					t.Errorf("%s %s: %s", p.name, strings.Join(args, " "), r)
				}
			}
			if r := p.run("version", "-o", "json"); !strings.HasPrefix(strings.TrimSpace(r.Stdout), "{") {
				t.Errorf("%s version -o json is not JSON: %q", p.name, r.Stdout)
			}
		})
	}
}

// TestClusterUsers checks the two users: the admin may create cluster-wide objects; the operator may
// manage workloads in thingpark-enterprise only, and its denied requests show up in the audit log.
func TestClusterUsers(t *testing.T) {
	sc := `{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"e2e-foundation-sc"},"provisioner":"example.com/fake","volumeBindingMode":"WaitForFirstConsumer"}`
	t.Run("admin creates a StorageClass", func(t *testing.T) {
		r := env.Run(t, nil, strings.NewReader(sc), env.Kubectl, "--kubeconfig", env.AdminKubeconfig, "create", "-f", "-")
		if r.Code != 0 {
			t.Fatalf("admin create StorageClass: %s", r)
		}
		env.KubectlAdmin(t, "delete", "storageclass", "e2e-foundation-sc")
	})
	t.Run("operator creates a Deployment in thingpark-enterprise", func(t *testing.T) {
		t0 := time.Now()
		if _, err := env.KubectlOK(t, env.OperatorKubeconfig, "-n", env.Namespace, "create", "deployment", "e2e-foundation", "--image=example/app:1"); err != nil {
			t.Fatal(err)
		}
		defer func() {
			_, _ = env.KubectlOK(t, env.OperatorKubeconfig, "-n", env.Namespace, "delete", "deployment", "e2e-foundation", "--wait=false")
		}()
		if _, err := env.KubectlOK(t, env.OperatorKubeconfig, "-n", env.Namespace, "rollout", "status", "deployment/e2e-foundation", "--timeout=90s"); err != nil {
			t.Fatal(err)
		}
		t.Logf("Deployment available %s after create", time.Since(t0).Round(time.Millisecond))
	})
	since := time.Now()
	t.Run("operator is denied a StorageClass", func(t *testing.T) {
		r := env.Run(t, nil, strings.NewReader(sc), env.Kubectl, "--kubeconfig", env.OperatorKubeconfig, "create", "-f", "-")
		if r.Code == 0 || !strings.Contains(r.Stderr, "Forbidden") {
			_, _ = env.KubectlOK(t, env.AdminKubeconfig, "delete", "storageclass", "e2e-foundation-sc", "--ignore-not-found")
			t.Fatalf("operator create StorageClass: want Forbidden, got %s", r)
		}
	})
	t.Run("operator is denied secrets in kube-system", func(t *testing.T) {
		out, err := env.KubectlOK(t, env.OperatorKubeconfig, "-n", "kube-system", "get", "secrets")
		if err == nil || !strings.Contains(err.Error(), "Forbidden") {
			t.Fatalf("operator list secrets in kube-system: want Forbidden, got %v %s", err, out)
		}
	})
	t.Run("operator may use the data operators' CRs", func(t *testing.T) {
		// SelfSubjectAccessReview directly: the CRDs need not be installed for RBAC to allow them
		for _, tc := range []struct {
			group, resource, ns string
			want                string
		}{
			{"kafka.strimzi.io", "kafkas", env.Namespace, "true"},
			{"psmdb.percona.com", "perconaservermongodbs", env.Namespace, "true"},
			{"kafka.strimzi.io", "kafkas", "default", "false"},
		} {
			ssar := fmt.Sprintf(`{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"namespace":%q,"verb":"delete","group":%q,"resource":%q}}}`, tc.ns, tc.group, tc.resource)
			r := env.Run(t, nil, strings.NewReader(ssar), env.Kubectl, "--kubeconfig", env.OperatorKubeconfig, "create", "--validate=false", "-f", "-", "-o", "jsonpath={.status.allowed}")
			if got := strings.TrimSpace(r.Stdout); got != tc.want && !(tc.want == "false" && got == "") {
				t.Errorf("operator may delete %s.%s in %s: %q, want %s (%s)", tc.resource, tc.group, tc.ns, got, tc.want, r)
			}
		}
	})
	t.Run("denied requests are audited", func(t *testing.T) {
		var denied []framework.AuditEvent
		for _, ev := range env.Audit(t, since, "kubectl") {
			if ev.User == "tpe-operator" && ev.Code == http.StatusForbidden {
				denied = append(denied, ev)
			}
		}
		var sawSC, sawSecrets bool
		for _, ev := range denied {
			sawSC = sawSC || (ev.Verb == "create" && ev.Resource == "storageclasses")
			sawSecrets = sawSecrets || (ev.Verb == "list" && ev.Resource == "secrets" && ev.Namespace == "kube-system")
		}
		if !sawSC || !sawSecrets {
			t.Errorf("audit log lacks the denied requests (storageclass %v, secrets %v): %+v", sawSC, sawSecrets, denied)
		}
	})
}

// TestFakeInPodCommands checks the fake post-upgrade manager and thingpark-enterprise-controller
// commands that kwok runs for `kubectl exec`.
func TestFakeInPodCommands(t *testing.T) {
	const ns = "e2e-foundation-exec"
	env.GrantOperator(t, ns)
	op := func(args ...string) (string, error) {
		return env.KubectlOK(t, env.OperatorKubeconfig, append([]string{"-n", ns}, args...)...)
	}
	if _, err := op("create", "deployment", "pum", "--image=example/post-upgrade:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := op("rollout", "status", "deployment/pum", "--timeout=90s"); err != nil {
		t.Fatal(err)
	}
	status := func(t *testing.T) string {
		out, err := op("exec", "deploy/pum", "--", "status")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Run("pum status scenarios", func(t *testing.T) {
		for _, tc := range []struct {
			scenario, first string
			want, not       []string
		}{
			{"done", "3 entrie(s)", []string{"'PROCESSED'", "'SKIPPED'"}, []string{"INIT", "IN_PROGRESS", "ABORTED", "ERROR"}},
			{"progress", "5 entrie(s)", []string{"'INIT'", "'IN_PROGRESS'", "'PARTIALLY_PROCESSED'", "'TRANSIENT_ERROR'"}, []string{"ABORTED"}},
			{"aborted", "3 entrie(s)", []string{"state: 'ABORTED'", `lastResponse: '{"status":500`}, []string{"INIT", "IN_PROGRESS"}},
		} {
			t.Run(tc.scenario, func(t *testing.T) {
				env.SetPUM(t, tc.scenario)
				out := status(t)
				if first, _, _ := strings.Cut(out, "\n"); first != tc.first {
					t.Errorf("first line %q, want %q", first, tc.first)
				}
				for _, w := range tc.want {
					if !strings.Contains(out, w) {
						t.Errorf("output lacks %q:\n%s", w, out)
					}
				}
				for _, n := range tc.not {
					if strings.Contains(out, n) {
						t.Errorf("output has %q:\n%s", n, out)
					}
				}
				entries := strings.Count(out, "\nuid: ")
				for _, field := range []string{"creationTimestamp: '", "scope: '", "serviceID: '", "requestID: '", "requestPath: '", "requestBody: '", "state: '", "stateTimestamp: '", "lastResponse: '{", "errorCounter: ", "iterationCounter: "} {
					if n := strings.Count(out, "\n"+field); n != entries {
						t.Errorf("field %q on %d of %d entries:\n%s", field, n, entries, out)
					}
				}
				if want := fmt.Sprintf("%d entrie(s)", entries); tc.first != want {
					t.Errorf("%d entries listed, header says %q", entries, tc.first)
				}
			})
		}
		t.Run("sample", func(t *testing.T) {
			env.SetPUM(t, "sample")
			want, err := os.ReadFile(filepath.Join(env.Root, "hack", "cluster", "fakedata", "pum-status-sample.txt"))
			if err != nil {
				t.Fatal(err)
			}
			if got := status(t); got != string(want) {
				t.Errorf("sample scenario differs from the TPE upgrade procedure's sample:\n got %q\nwant %q", got, want)
			}
			if !strings.HasPrefix(string(want), "2 entrie(s)\nuid: 2\n") || strings.Count(string(want), "state: ") != 1 {
				t.Errorf("pum-status-sample.txt is not the TPE upgrade procedure's sample")
			}
		})
	})
	t.Run("pum restart", func(t *testing.T) {
		env.SetPUM(t, "done")
		before := env.PUMRestarts(t)
		out, err := op("exec", "deploy/pum", "--", "restart")
		if err != nil || !strings.Contains(out, "restarted") {
			t.Fatalf("restart: %v %q", err, out)
		}
		if got := env.PUMRestarts(t); got != before+1 {
			t.Errorf("restarts = %d, want %d", got, before+1)
		}
		if out := status(t); !strings.Contains(out, "'IN_PROGRESS'") {
			t.Errorf("first status after restart is not in progress:\n%s", out)
		}
		if out := status(t); !strings.HasPrefix(out, "3 entrie(s)") || strings.Contains(out, "IN_PROGRESS") {
			t.Errorf("second status after restart is not done:\n%s", out)
		}
	})
	t.Run("controller backup, list, metadata, restore", func(t *testing.T) {
		env.ResetController(t)
		defer env.ResetController(t)
		if _, err := env.KubectlOK(t, env.AdminKubeconfig, "-n", env.Namespace, "get", "configmap", "tpe-release-info"); err == nil {
			t.Fatalf("a tpe-release-info ConfigMap was left in %s by another test", env.Namespace)
		}
		if _, err := op("create", "configmap", "tpe-release-info", "--from-literal=chart=thingpark-enterprise",
			"--from-literal=version=1.2.25", "--from-literal=appVersion=7.2.2c", "--from-literal=revision=4",
			"--from-literal=namespace="+ns, "--from-literal=releaseName=tpe"); err != nil {
			t.Fatal(err)
		}
		out, err := op("exec", "deploy/pum", "--", "backup")
		if err != nil || !strings.Contains(out, "successfully pushed to remote storage") {
			t.Fatalf("backup: %v\n%s", err, out)
		}
		backups := env.Backups(t)
		if len(backups) != 1 || !strings.HasPrefix(backups[0], "thingpark-enterprise-backup-") || len(backups[0]) != len("thingpark-enterprise-backup-20060102150405") {
			t.Fatalf("backups = %v", backups)
		}
		name := backups[0]
		if out, _ := op("exec", "deploy/pum", "--", "list-backups"); !strings.Contains(out, `"`+name+`"`) {
			t.Errorf("list-backups lacks %s:\n%s", name, out)
		}
		out, err = op("exec", "deploy/pum", "--", "get-backup-metadatas", "-e", "backup_name="+name)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{`"    appVersion: 7.2.2c"`, `"    chart: thingpark-enterprise-1.2.25"`, `"    releaseName: tpe"`,
			`"    releaseNamespace: ` + ns + `"`, `"    revision: '4'"`, `"id: ` + name + `"`, `"type: on-demand"`} {
			if !strings.Contains(out, w) {
				t.Errorf("metadata lacks %s:\n%s", w, out)
			}
		}
		// restore without confirmation (no stdin) aborts; with "yes" on stdin it restores
		if out, err := op("exec", "deploy/pum", "--", "restore", "-e", "backup_name="+name); err == nil || !strings.Contains(out, "Are you sure you want to delete current datas? (yes/no)") {
			t.Errorf("restore without confirmation: err %v\n%s", err, out)
		}
		if got := env.Restores(t); len(got) != 0 {
			t.Errorf("restores after an unconfirmed restore: %v", got)
		}
		r := env.Run(t, nil, strings.NewReader("yes\n"), env.Kubectl, "--kubeconfig", env.OperatorKubeconfig, "-n", ns, "exec", "-i", "deploy/pum", "--", "restore", "-e", "backup_name="+name)
		if r.Code != 0 || !strings.Contains(r.Stdout, "successfully restored") {
			t.Errorf("confirmed restore: %s", r)
		}
		if got := env.Restores(t); len(got) != 1 || got[0] != name {
			t.Errorf("restores = %v, want [%s]", got, name)
		}
		env.FailController(t, "backup", "remote storage unreachable")
		if out, err := op("exec", "deploy/pum", "--", "backup"); err == nil || !strings.Contains(out, "remote storage unreachable") {
			t.Errorf("injected backup failure: err %v\n%s", err, out)
		}
	})
}

// TestChartRepo checks the repository's basic auth: user = password = installation ID.
func TestChartRepo(t *testing.T) {
	get := func(user, pass string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, env.RepoURL+"/index.yaml", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("not-the-id", "not-the-id"); code != http.StatusUnauthorized {
		t.Errorf("wrong installation ID: status %d, want 401", code)
	}
	if code, _ := get(env.InstallationID, "wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong password: status %d, want 401", code)
	}
	code, body := get(env.InstallationID, env.InstallationID)
	if code != http.StatusOK || !strings.Contains(body, "thingpark-enterprise:") || !strings.Contains(body, "version: 1.4.1") {
		t.Errorf("right installation ID: status %d\n%s", code, body)
	}
	if strings.Contains(body, env.InstallationID) {
		t.Errorf("index.yaml contains the installation ID")
	}
}

// TestHelmInstallsFixtureAsOperator installs the fixture v7.2.2c thingpark-data chart from the chart
// repository with the real helm as the operator and waits for its StatefulSets.
func TestHelmInstallsFixtureAsOperator(t *testing.T) {
	const ns = "e2e-foundation-helm"
	env.GrantOperator(t, ns)
	// cluster prerequisites (cluster admin): the documented PriorityClasses and a default StorageClass
	prereqs := `
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: thingpark-datapath, labels: {e2e: foundation}}
value: 1000000
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: thingpark-data, labels: {e2e: foundation}}
value: 999800
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: thingpark-others, labels: {e2e: foundation}}
value: 999500
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: e2e-foundation-default, labels: {e2e: foundation}}
provisioner: example.com/fake
volumeBindingMode: WaitForFirstConsumer
`
	for _, name := range []string{"thingpark-datapath", "thingpark-data", "thingpark-others"} {
		if _, err := env.KubectlOK(t, env.AdminKubeconfig, "get", "priorityclass", name); err == nil {
			t.Fatalf("PriorityClass %s exists before the test (left by another test?)", name)
		}
	}
	if r := env.Run(t, nil, strings.NewReader(prereqs), env.Kubectl, "--kubeconfig", env.AdminKubeconfig, "create", "-f", "-"); r.Code != 0 {
		t.Fatalf("create prerequisites: %s", r)
	}
	t.Cleanup(func() {
		_, _ = env.KubectlOK(t, env.AdminKubeconfig, "delete", "priorityclass,storageclass", "-l", "e2e=foundation", "--ignore-not-found")
	})
	helm := func(args ...string) framework.Result { return env.HelmCLI(t, env.OperatorKubeconfig, args...) }
	if r := helm("repo", "add", "e2e-foundation", env.RepoURL, "--username", env.InstallationID, "--password", env.InstallationID, "--force-update"); r.Code != 0 {
		t.Fatalf("helm repo add: %s", r)
	}
	if r := helm("repo", "add", "e2e-foundation-bad", env.RepoURL, "--username", "wrong", "--password", "wrong"); r.Code == 0 || !strings.Contains(r.Stderr, "401") {
		t.Errorf("helm repo add with a wrong installation ID: %s", r)
	}
	defer helm("repo", "remove", "e2e-foundation")
	t0 := time.Now()
	r := helm("install", "tpe-data", "e2e-foundation/thingpark-data", "--version", "1.2.5", "-n", ns,
		"--set", "mongo-replicaset.persistence.storageClass=e2e-foundation-default",
		"--set", "kafka-cluster.kafka.persistence.storageClass=e2e-foundation-default",
		"--set", "zookeeper.persistence.storageClass=e2e-foundation-default",
		"--set", "mariadb-galera.persistence.storageClass=e2e-foundation-default",
		"--wait", "--timeout", "3m")
	if r.Code != 0 {
		t.Fatalf("helm install as operator: %s", r)
	}
	t.Logf("helm install --wait of thingpark-data 1.2.5 took %s", time.Since(t0).Round(time.Millisecond))
	defer helm("uninstall", "tpe-data", "-n", ns, "--wait")
	out := env.KubectlAdmin(t, "-n", ns, "get", "statefulsets", "-o", `jsonpath={range .items[*]}{.metadata.name}={.status.readyReplicas}/{.spec.replicas} {.spec.template.spec.priorityClassName}{"\n"}{end}`)
	want := map[string]string{
		"mongo-replicaset-rs0": "2/2 thingpark-data", "mongo-replicaset-rs0-arbiter": "1/1 thingpark-others",
		"kafka-cluster-kafka": "2/2 thingpark-datapath", "zookeeper": "3/3 thingpark-datapath", "mariadb-galera": "3/3 thingpark-data",
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, v, _ := strings.Cut(line, "=")
		got[name] = v
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("StatefulSet %s: %q, want %q (all: %s)", name, got[name], w, out)
		}
	}
	if pvcs := env.KubectlAdmin(t, "-n", ns, "get", "pvc", "-o", "jsonpath={.items[*].status.phase}"); strings.Count(pvcs, "Bound") != 10 {
		t.Errorf("PVCs: %q, want 10 Bound", pvcs)
	}
}

// TestRestartAPIServer checks the apiserver comes back with its data after a restart.
func TestRestartAPIServer(t *testing.T) {
	t0 := time.Now()
	env.RestartAPIServer(t)
	t.Logf("apiserver restarted in %s", time.Since(t0).Round(time.Millisecond))
	if out := env.KubectlAdmin(t, "get", "namespace", env.Namespace, "-o", "name"); strings.TrimSpace(out) != "namespace/"+env.Namespace {
		t.Errorf("after restart: %q", out)
	}
}
