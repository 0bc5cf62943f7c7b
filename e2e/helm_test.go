//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/e2e/framework"
	"github.com/thingpark-tools/kubectl-tpe/internal/chartrepo"
	"github.com/thingpark-tools/kubectl-tpe/internal/configrepo"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// helmTPE wraps the plugin runs of one test: it keeps every output, so that the test can check at
// the end that no secret appears in any of them.
type helmTPE struct {
	t       *testing.T
	outputs []string
}

// at returns the runner for a subtest (t.Fatal must be called on the subtest's t).
func (h *helmTPE) at(t *testing.T) *helmTPE {
	h.t = t
	return h
}

func (h *helmTPE) run(kubeconfig string, extraEnv []string, args ...string) framework.Result {
	h.t.Helper()
	t0 := time.Now()
	extraEnv = append([]string{"HELM_NAMESPACE=" + env.Namespace}, extraEnv...)
	r := env.HelmTPE(h.t, kubeconfig, extraEnv, args...)
	h.t.Logf("helm tpe %s → exit %d in %s", strings.Join(args, " "), r.Code, time.Since(t0).Round(time.Millisecond))
	h.outputs = append(h.outputs, r.Stdout, r.Stderr)
	return r
}

func (h *helmTPE) mustRun(kubeconfig string, extraEnv []string, args ...string) framework.Result {
	h.t.Helper()
	r := h.run(kubeconfig, extraEnv, args...)
	if r.Code != 0 {
		h.t.Fatalf("helm tpe %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// helmRelease is one entry of the real helm's `helm list -o json`.
type helmRelease struct {
	Name, Chart, Status, AppVersion string
	Revision                        string
}

func helmList(t *testing.T) map[string]helmRelease {
	t.Helper()
	r := env.HelmCLI(t, env.AdminKubeconfig, "list", "-n", env.Namespace, "-a", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("helm list: %s", r)
	}
	var list []struct {
		Name       string `json:"name"`
		Chart      string `json:"chart"`
		Status     string `json:"status"`
		AppVersion string `json:"app_version"`
		Revision   string `json:"revision"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		t.Fatalf("helm list -o json: %v: %s", err, r.Stdout)
	}
	out := map[string]helmRelease{}
	for _, l := range list {
		out[l.Name] = helmRelease{Name: l.Name, Chart: l.Chart, Status: l.Status, AppVersion: l.AppVersion, Revision: l.Revision}
	}
	return out
}

// wantCharts checks the four releases (real helm binary) against a release manifest.
func wantCharts(t *testing.T, want map[string]string) {
	t.Helper()
	got := helmList(t)
	for name, chart := range want {
		if got[name].Chart != chart || got[name].Status != "deployed" {
			t.Errorf("helm list: %s is %q (%s), want %s deployed", name, got[name].Chart, got[name].Status, chart)
		}
	}
}

var (
	charts722c = map[string]string{"tpe-data-controllers": "thingpark-data-controllers-1.1.1", "tpe-data": "thingpark-data-1.2.5",
		"tpe-controllers": "thingpark-application-controllers-1.1.6", "tpe": "thingpark-enterprise-1.2.25"}
	charts731 = map[string]string{"tpe-data-controllers": "thingpark-data-controllers-1.2.4", "tpe-data": "thingpark-data-1.3.5",
		"tpe-controllers": "thingpark-application-controllers-1.2.4", "tpe": "thingpark-enterprise-1.4.1"}
)

// The cluster-admin prerequisites of 7.3 (and of the fixture 7.2 charts' pods): the PriorityClasses
// and the CRDs of the data operators, as minimal objects.
const storageClassName = "thingpark-csi-e2e-xfs"

const priorityClasses = `
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: thingpark-csi-e2e-xfs}
provisioner: example.com/fake
volumeBindingMode: Immediate
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: thingpark-datapath}
value: 1000000
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: thingpark-data}
value: 999800
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: thingpark-others}
value: 999500
`

func crd(group, plural, kind, version string) string {
	return fmt.Sprintf(`---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %[2]s.%[1]s
  labels: {app.kubernetes.io/version: "%[4]s", e2e-helm-tpe: "true"}
spec:
  group: %[1]s
  scope: Namespaced
  names: {plural: %[2]s, singular: %[5]s, kind: %[3]s}
  versions:
  - name: %[6]s
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`, group, plural, kind, version, strings.ToLower(kind), map[bool]string{true: "v1", false: "v1beta2"}[strings.Contains(group, "percona")])
}

func dataOperatorCRDs() string {
	return crd("kafka.strimzi.io", "kafkas", "Kafka", "0.32.0") +
		crd("core.strimzi.io", "strimzipodsets", "StrimziPodSet", "0.32.0") +
		crd("psmdb.percona.com", "perconaservermongodbs", "PerconaServerMongoDB", "1.13.0") +
		crd("psmdb.percona.com", "perconaservermongodbbackups", "PerconaServerMongoDBBackup", "1.13.0") +
		crd("psmdb.percona.com", "perconaservermongodbrestores", "PerconaServerMongoDBRestore", "1.13.0")
}

func adminApply(t *testing.T, manifest string) {
	t.Helper()
	r := env.Run(t, nil, strings.NewReader(manifest), env.Kubectl, "--kubeconfig", env.AdminKubeconfig, "apply", "-f", "-")
	if r.Code != 0 {
		t.Fatalf("kubectl apply (admin): %s", r)
	}
}

// requests summarises helm tpe's API requests since t0 from the audit log.
func requests(t *testing.T, t0 time.Time) string {
	t.Helper()
	events := env.Audit(t, t0, "helm-tpe")
	byVerb := map[string]int{}
	for _, e := range events {
		byVerb[e.Verb]++
	}
	return fmt.Sprintf("%d API requests %v", len(events), byVerb)
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHelmTPE is the life cycle of issue 6 on the local cluster, against the basic-auth fixture
// repository and the fake in-pod tools: repo add (wrong and right ID), install 7.2.2c, plan to
// 7.3.1, a dry run with zero mutating requests, an upgrade interrupted after the second chart and
// resumed, a rerun that changes nothing, and the rollback with the restore of the upgrade backup.
func TestHelmTPE(t *testing.T) {
	h := &helmTPE{t: t}
	op, admin := env.OperatorKubeconfig, env.AdminKubeconfig
	const wrongID = "wrong-installation-id-4242"
	values := writeFile(t, "values.yaml", fmt.Sprintf(`global:
  installationId: %q
  dnsHostname: tpe.example.com
  lora: {ismBand: [eu868], netId: "000001"}
  backup:
    s3Compat: {url: "http://minio.tools.svc:9000", accessKey: minio, secretAccessKey: minio-secret-e2e, bucket: thingpark-enterprise-backup}
kafka-cluster: {kafka: {persistence: {storageClass: %[2]s}}}
mongo-replicaset: {persistence: {storageClass: %[2]s}}
zookeeper: {persistence: {storageClass: %[2]s}}
mariadb-galera: {persistence: {storageClass: %[2]s}}
lrc: {persistence: {storageClass: %[2]s}}
`, env.InstallationID, storageClassName))
	wrongValues := writeFile(t, "wrong.yaml", fmt.Sprintf("global:\n  installationId: %q\n  backup:\n    s3Compat: {url: \"http://m:9000\", accessKey: a, secretAccessKey: b, bucket: c}\n", wrongID))
	wrongIDFile := writeFile(t, "wrong-id", wrongID+"\n")

	// The plan judges the CRD steps against the vendor's manifests: a fake configuration repository
	// serves the project's fixtures in the vendor's shape (no version labels) at v7.3.1's ref.
	files, err := configrepo.Files()
	if err != nil {
		t.Fatal(err)
	}
	v731, _ := manifest.MustLoad().Get("v7.3.1")
	cfgRepo := httptest.NewServer(configrepo.New([]configrepo.Ref{{Name: v731.ConfigRef(), Versions: "x", Files: files}}, nil))
	defer cfgRepo.Close()
	online := []string{"HELM_TPE_CONFIG_REPO_RAW=" + cfgRepo.URL + "/raw", "HELM_TPE_CONFIG_REPO_API=" + cfgRepo.URL + "/api"}
	era73 := []string{"manifests/upgrade/strimzi-crds-0.32.0.yaml", "manifests/upgrade/percona-server-mongodb-operator-crds-1.13.0.yaml"}
	deleteOperatorCRDs := func() {
		_, _ = env.KubectlOK(t, admin, "delete", "crd", "-l", "e2e-helm-tpe=true", "--ignore-not-found")
		for _, f := range era73 {
			_, _ = env.KubectlOK(t, admin, "delete", "-f", writeFile(t, filepath.Base(f), files[f]), "--ignore-not-found")
		}
	}
	deleteOperatorCRDs()

	adminApply(t, priorityClasses)
	t.Cleanup(func() {
		for _, n := range []string{"tpe", "tpe-controllers", "tpe-data", "tpe-data-controllers"} {
			env.HelmCLI(t, admin, "uninstall", "-n", env.Namespace, n, "--wait=false")
		}
		_, _ = env.KubectlOK(t, admin, "-n", env.Namespace, "delete", "configmap", "tpe-upgrade-progress", "--ignore-not-found")
		_, _ = env.KubectlOK(t, admin, "delete", "priorityclass", "thingpark-datapath", "thingpark-data", "thingpark-others", "--ignore-not-found")
		_, _ = env.KubectlOK(t, admin, "delete", "storageclass", storageClassName, "--ignore-not-found")
		_, _ = env.KubectlOK(t, admin, "-n", env.Namespace, "delete", "pvc", "--all", "--wait=false")
		deleteOperatorCRDs()
		env.ResetController(t)
	})

	t.Run("releases and manifest", func(t *testing.T) {
		h.at(t)
		r := h.mustRun("", nil, "releases", "-o", "json")
		if !strings.Contains(r.Stdout, `"v7.2.2c"`) {
			t.Errorf("releases -o json lacks v7.2.2c: %s", r.Stdout)
		}
		r = h.mustRun("", nil, "manifest", "v7.3.1", "--manifest", filepath.Join(env.Root, "testdata/releases/v7.3.1/VERSIONS"), "-o", "versions")
		if !strings.Contains(r.Stdout, "THINGPARK_ENTERPRISE_VERSION=1.4.1") {
			t.Errorf("manifest -o versions: %s", r.Stdout)
		}
	})

	t.Run("a wrong installation ID is rejected clearly", func(t *testing.T) {
		h.at(t)
		r := h.run("", nil, "repo", "add", "--repo-url", env.RepoURL, "--installation-id-file", wrongIDFile, "--to", "v7.2.2c")
		if r.Code == 0 || !strings.Contains(r.Stderr, "installation ID rejected") {
			t.Fatalf("repo add with a wrong ID: want \"installation ID rejected\", got %s", r)
		}
		r = h.run("", []string{"HELM_TPE_INSTALLATION_ID=" + wrongID}, "repo", "add", "--repo-url", env.RepoURL, "--to", "v7.2.2c")
		if r.Code == 0 || !strings.Contains(r.Stderr, "installation ID rejected") {
			t.Fatalf("repo add with a wrong ID from the environment: %s", r)
		}
		// install straight from the URL, the ID from the values: refused before any change
		r = h.run(op, nil, "install", "--to", "v7.2.2c", "-f", wrongValues, "--repo-url", env.RepoURL, "--yes")
		if r.Code == 0 || !strings.Contains(r.Stderr, "installation ID rejected") {
			t.Fatalf("install with a wrong ID: %s", r)
		}
		if len(helmList(t)) != 0 {
			t.Fatalf("install with a wrong ID changed the namespace: %v", helmList(t))
		}
		if out, err := env.KubectlOK(t, admin, "-n", env.Namespace, "get", "configmap", "tpe-upgrade-progress", "--ignore-not-found", "-o", "name"); err != nil || out != "" {
			t.Fatalf("install with a wrong ID left a progress ConfigMap: %q %v", out, err)
		}
	})

	t.Run("repository failures are clear", func(t *testing.T) {
		h.at(t)
		for _, f := range []struct {
			fault chartrepo.Fault
			want  string
		}{
			{chartrepo.FaultNotFound, "HTTP 404"},
			{chartrepo.FaultServerError, "HTTP 500"},
			{chartrepo.FaultTruncatedIndex, "invalid or truncated"},
		} {
			env.SetRepoFault(t, f.fault)
			r := h.run("", nil, "repo", "add", "--repo-url", env.RepoURL, "--installation-id-file", env.InstallationIDFile, "--to", "v7.2.2c")
			if r.Code == 0 || !strings.Contains(r.Stderr, f.want) {
				t.Errorf("repo add with fault %v: want %q, got %s", f.fault, f.want, r)
			}
		}
		env.SetRepoFault(t, chartrepo.FaultNone)
	})

	t.Run("repo add", func(t *testing.T) {
		h.at(t)
		r := h.mustRun("", nil, "repo", "add", "--repo-url", env.RepoURL, "--installation-id-file", env.InstallationIDFile, "--to", "v7.3.1")
		if !strings.Contains(r.Stdout, "has been added") || !strings.Contains(r.Stdout, env.InstallationID[len(env.InstallationID)-4:]) {
			t.Errorf("repo add output: %s", r)
		}
		fi, err := os.Stat(filepath.Join(env.HelmHome, "config", "repositories.yaml"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("repositories.yaml: %v, mode %v; want 0600", err, fi)
		}
		if r := env.HelmCLI(t, "", "search", "repo", "actility/thingpark-enterprise", "--versions"); r.Code != 0 || !strings.Contains(r.Stdout, "1.4.1") {
			t.Errorf("the real helm does not see the repository helm tpe added: %s", r)
		}
	})

	t.Run("install v7.2.2c", func(t *testing.T) {
		h.at(t)
		t0 := time.Now()
		r := h.mustRun(op, nil, "install", "--to", "v7.2.2c", "-f", values, "--yes", "--timeout", "3m")
		t.Logf("install wall time %s, %s", time.Since(t0).Round(time.Millisecond), requests(t, t0))
		for _, want := range []string{"step 1/6", "step 5/6", "fresh install"} {
			if !strings.Contains(r.Stderr+r.Stdout, want) {
				t.Errorf("install output lacks %q: %s", want, r)
			}
		}
		wantCharts(t, charts722c)
	})

	t.Run("plan to v7.3.1", func(t *testing.T) {
		h.at(t)
		// as cluster admin, the admin steps are read: the CRDs are missing → exit 2
		r := h.run(admin, online, "plan", "--to", "v7.3.1", "-f", values, "-o", "json")
		if r.Code != 2 {
			t.Fatalf("plan before the CRD upgrade: want exit 2, got %s", r)
		}
		var p struct {
			Installed string `json:"installed"`
			Action    string `json:"action"`
			Hops      []struct {
				From, To, Kind string
				Charts         []struct{ ReleaseName, FromVersion, Version, Action string }
				AdminSteps     []struct{ ID, Status string }
			} `json:"hops"`
			Downtime []string                               `json:"downtime"`
			Checks   []struct{ ID, Status, Message string } `json:"checks"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &p); err != nil {
			t.Fatalf("plan -o json: %v\n%s", err, r.Stdout)
		}
		if p.Installed != "v7.2.2c" || p.Action != "upgrade" || len(p.Hops) != 1 || p.Hops[0].From != "v7.2.2c" || p.Hops[0].To != "v7.3.1" || p.Hops[0].Kind != "major" {
			t.Fatalf("plan: installed %q action %q hops %+v", p.Installed, p.Action, p.Hops)
		}
		steps := map[string]string{}
		for _, s := range p.Hops[0].AdminSteps {
			steps[s.ID] = s.Status
		}
		if steps["crd-strimzi"] != "todo" || steps["crd-psmdb"] != "todo" || steps["priorityclasses"] != "done" || steps["storageclasses"] != "done" {
			t.Errorf("admin steps: %v", steps)
		}
		if len(p.Downtime) != 5 {
			t.Errorf("downtime impacts: %v", p.Downtime)
		}
		for _, c := range p.Hops[0].Charts {
			if c.Action != "upgrade" || c.FromVersion == "" {
				t.Errorf("chart %+v", c)
			}
		}
		// 7.3.1 moved the fixture's PriorityClasses out and added a schema; an old 7.2 values file fails it
		old := writeFile(t, "old.yaml", "global:\n  installationId: x1234567890\n  lora: {ismBand: eu868}\n  legacyKey: 1\nbackup: {schedule: x}\n")
		r = h.run(admin, nil, "plan", "--to", "v7.3.1", "-f", old)
		for _, want := range []string{"values.schema.json", "global.legacyKey", "backup"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("plan with 7.2 values: output lacks %q:\n%s", want, r.Stdout)
			}
		}
		// the cluster admin upgrades the CRDs: the plan can run
		for _, f := range era73 {
			adminApply(t, files[f])
			if _, err := env.KubectlOK(t, admin, "wait", "--for=condition=Established", "--timeout=30s", "-f", writeFile(t, filepath.Base(f), files[f])); err != nil {
				t.Fatal(err)
			}
		}
		r = h.run(admin, online, "plan", "--to", "v7.3.1", "-f", values)
		if r.Code != 0 || !strings.Contains(r.Stdout, "v7.2.2c → v7.3.1") {
			t.Fatalf("plan after the CRD upgrade: %s", r)
		}
		t.Logf("plan:\n%s", r.Stdout)
		// backwards is a rollback
		if r := h.run(op, nil, "plan", "--to", "v7.1.3a"); r.Code != 2 || !strings.Contains(r.Stdout, "rollback") {
			t.Errorf("plan backwards: %s", r)
		}
	})

	t.Run("dry run makes no mutating request", func(t *testing.T) {
		h.at(t)
		since := time.Now()
		r := h.mustRun(op, nil, "upgrade", "--to", "v7.3.1", "-f", values, "--dry-run")
		for _, want := range []string{"=== hop 1: tpe-data-controllers", "=== hop 1: tpe thingpark-enterprise 1.4.1", "nothing was changed"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("dry run output lacks %q:\n%s", want, r.Stdout)
			}
		}
		// Access reviews are POSTs that change nothing: countAudit does not count them as mutating.
		c := countAudit(t, since, time.Now(), "helm-tpe/")
		if c.Total == 0 {
			t.Fatal("no helm-tpe request in the audit log: is the user agent set?")
		}
		t.Logf("dry run: %d API requests, %d mutating", c.Total, c.Mutating)
		if c.Mutating > 0 {
			t.Errorf("dry run made mutating requests: %v", c.Mutations)
		}
		wantCharts(t, charts722c)
	})

	var backup string
	t.Run("upgrade interrupted after the second chart, then resumed", func(t *testing.T) {
		h.at(t)
		t0 := time.Now()
		r := h.run(op, []string{"HELM_TPE_TEST_STOP_AFTER=tpe-data"}, "upgrade", "--to", "v7.3.1", "-f", values, "--yes", "--timeout", "3m")
		if r.Code != 2 || !strings.Contains(r.Stderr, "--resume") {
			t.Fatalf("interrupted upgrade: want exit 2 naming --resume, got %s", r)
		}
		got := helmList(t)
		if got["tpe-data"].Chart != charts731["tpe-data"] || got["tpe"].Chart != charts722c["tpe"] {
			t.Fatalf("after the interruption: %v", got)
		}
		cm, err := env.KubectlOK(t, admin, "-n", env.Namespace, "get", "configmap", "tpe-upgrade-progress", "-o", "json")
		if err != nil {
			t.Fatal(err)
		}
		h.outputs = append(h.outputs, cm)
		var obj struct{ Data map[string]string }
		_ = json.Unmarshal([]byte(cm), &obj)
		backup = obj.Data["backup"]
		if obj.Data["state"] != "failed" || !strings.HasPrefix(backup, "thingpark-enterprise-backup-") {
			t.Fatalf("progress ConfigMap: state %q backup %q", obj.Data["state"], backup)
		}
		found := false
		for _, b := range env.Backups(t) {
			found = found || b == backup
		}
		if !found {
			t.Errorf("backup %s is not on the fake controller (%v)", backup, env.Backups(t))
		}
		// a plain rerun refuses to start over
		if r := h.run(op, nil, "upgrade", "--to", "v7.3.1", "-f", values, "--yes", "--timeout", "3m"); r.Code == 0 || !strings.Contains(r.Stderr, "--resume") {
			t.Errorf("rerun without --resume: %s", r)
		}
		revData := helmList(t)["tpe-data"].Revision
		r = h.mustRun(op, nil, "upgrade", "--to", "v7.3.1", "-f", values, "--yes", "--resume", "--timeout", "3m")
		t.Logf("interrupted + resumed upgrade wall time %s, %s", time.Since(t0).Round(time.Millisecond), requests(t, t0))
		wantCharts(t, charts731)
		if got := helmList(t)["tpe-data"].Revision; got != revData {
			t.Errorf("--resume upgraded tpe-data again (revision %s → %s)", revData, got)
		}
		if !strings.Contains(r.Stdout, "upgrade of v7.3.1 done") {
			t.Errorf("resume summary: %s", r.Stdout)
		}
	})

	t.Run("a finished upgrade run again changes nothing", func(t *testing.T) {
		h.at(t)
		before := helmList(t)
		since := time.Now()
		r := h.mustRun(op, nil, "upgrade", "--to", "v7.3.1", "-f", values, "--yes", "-o", "json")
		if !strings.Contains(r.Stdout, `"changed": false`) {
			t.Errorf("rerun: %s", r.Stdout)
		}
		after := helmList(t)
		for n := range before {
			if before[n].Revision != after[n].Revision {
				t.Errorf("%s: revision %s → %s", n, before[n].Revision, after[n].Revision)
			}
		}
		for _, e := range env.Audit(t, since, "helm-tpe") {
			if e.Verb == "create" || e.Verb == "update" || e.Verb == "patch" || e.Verb == "delete" {
				t.Errorf("rerun made a mutating request: %s %s %s", e.Verb, e.Resource, e.Name)
			}
		}
	})

	t.Run("rollback to the 7.2.2c revision with the restore", func(t *testing.T) {
		h.at(t)
		r := h.mustRun(op, nil, "rollback", "--dry-run", "-o", "json")
		var p struct {
			ToChart string `json:"toChart"`
			Backup  struct{ Name string }
		}
		if err := json.Unmarshal([]byte(r.Stdout), &p); err != nil {
			t.Fatalf("rollback --dry-run -o json: %v: %s", err, r.Stdout)
		}
		if p.ToChart != charts722c["tpe"] || p.Backup.Name != backup {
			t.Fatalf("rollback plan: to %s with backup %q, want %s with %s", p.ToChart, p.Backup.Name, charts722c["tpe"], backup)
		}
		if r := h.run(op, nil, "rollback", "--yes"); r.Code == 0 || !strings.Contains(r.Stderr, "--backup") {
			t.Errorf("rollback --yes without --backup: %s", r)
		}
		r = h.mustRun(op, nil, "rollback", "--backup", backup, "--yes")
		if got := helmList(t)["tpe"]; got.Chart != charts722c["tpe"] || got.Status != "deployed" {
			t.Errorf("after rollback tpe is %+v", got)
		}
		restores := env.Restores(t)
		if len(restores) == 0 || restores[len(restores)-1] != backup {
			t.Errorf("restores on the fake controller: %v, want %s", restores, backup)
		}
	})

	t.Run("upgrade again after the rollback of tpe alone: PUM ABORTED stops, --resume finishes", func(t *testing.T) {
		h.at(t)
		env.SetPUM(t, "aborted")
		t0 := time.Now()
		r := h.run(op, nil, "upgrade", "--to", "v7.3.1", "-f", values, "--yes", "--timeout", "3m", "--pum-interval", "200ms")
		t.Logf("upgrade of tpe (charts 1–3 already at 7.3.1) wall time %s, %s", time.Since(t0).Round(time.Millisecond), requests(t, t0))
		if !strings.Contains(r.Stderr, "partly upgraded") {
			t.Errorf("the plan does not say the namespace is partly upgraded: %s", r.Stderr)
		}
		for _, want := range []string{"ABORTED", "RDTP-18480", "kubectl tpe pum restart", "--resume"} {
			if r.Code != 2 || !strings.Contains(r.Stderr, want) {
				t.Errorf("PUM aborted: want exit 2 and %q, got %s", want, r)
			}
		}
		env.SetPUM(t, "done")
		h.mustRun(op, nil, "upgrade", "--to", "v7.3.1", "-f", values, "--yes", "--resume", "--pum-interval", "200ms")
		wantCharts(t, charts731)
		// kubectl tpe status (issue 5) agrees
		if st := env.KubectlTPE(t, op, "status", "-n", env.Namespace, "-o", "json"); !strings.Contains(st.Stdout, `"name": "v7.3.1"`) {
			t.Errorf("kubectl tpe status does not say v7.3.1: %s", st)
		}
	})

	h.at(t)
	for _, out := range h.outputs {
		for _, secret := range []string{env.InstallationID, wrongID, "minio-secret-e2e"} {
			if strings.Contains(out, secret) {
				t.Errorf("a secret appears in an output:\n%s", out)
			}
		}
	}
}
