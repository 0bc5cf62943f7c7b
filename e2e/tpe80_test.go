//go:build e2e

package e2e

import (
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/e2e/framework"
	"github.com/thingpark-tools/kubectl-tpe/internal/configrepo"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

var charts800 = map[string]string{"tpe-data-controllers": "thingpark-data-controllers-2.2.1", "tpe-data": "thingpark-data-2.2.2",
	"tpe-controllers": "thingpark-application-controllers-2.2.0", "tpe": "thingpark-enterprise-2.0.0"}

// TestUpgradeTo80 installs v7.3.6 with 7.3-era CRDs (fixtures in the vendor's shape, served by a
// fake configuration repository) and upgrades it to v8.0.0 as the vendor asks: the plan judges
// the hop's CRD steps against the vendor's manifests ("Percona CRDs match 1.13.0; next: 1.14.0");
// as the operator, `kubectl tpe prereqs apply --to v8.0.0` names the missing permissions and
// changes nothing; as the admin the server-side dry run explains the conflict with the earlier
// owner and shows the diff; the apply, killed after 1.15.0, is resumed at 1.16.1 and ends with
// Strimzi 0.44.0 and Percona 1.17.0; a second run changes nothing; `helm tpe upgrade` then runs
// without --ack-admin-steps. The same steps are applied again from a release bundle with the
// configuration repository stopped.
func TestUpgradeTo80(t *testing.T) {
	f := newEvFixture(t)
	env.ResetController(t)
	env.SetPUM(t, "done")
	files, err := configrepo.Files()
	if err != nil {
		t.Fatal(err)
	}
	m := manifest.MustLoad()
	v800, _ := m.Get("v8.0.0")
	repo := configrepo.New([]configrepo.Ref{{Name: "v7.3.6", Versions: "x", Files: files}, {Name: v800.ConfigRef(), Versions: "y", Files: files}}, nil)
	srv := httptest.NewServer(repo)
	defer srv.Close()
	online := []string{"HELM_TPE_CONFIG_REPO_RAW=" + srv.URL + "/raw", "HELM_TPE_CONFIG_REPO_API=" + srv.URL + "/api"}
	offline := []string{"HELM_TPE_CONFIG_REPO_RAW=http://127.0.0.1:9/raw", "HELM_TPE_CONFIG_REPO_API=http://127.0.0.1:9/api"}
	era73 := func() {
		for _, file := range []string{"strimzi-crds-0.32.0.yaml", "percona-server-mongodb-operator-crds-1.13.0.yaml"} {
			adminApply(t, files["manifests/upgrade/"+file])
		}
	}
	era73()
	t0 := time.Now()
	f.install(t, "v7.3.6")
	t.Logf("install v7.3.6: %s", time.Since(t0).Round(time.Second))
	bundleFile := filepath.Join(t.TempDir(), "tpe-v8.0.0.tar.gz")
	f.mustHelmTPE(t, "", online, "bundle", "create", "--from", "v7.3.6", "--to", "v8.0.0", "-f", f.Values, "-o", bundleFile)

	type planJSON struct {
		Hops []struct {
			From, To   string
			AdminSteps []struct {
				ID, Status, Detail string
				NeedsAck           bool `json:"needsAcknowledgement"`
			}
		}
	}
	plan := func() (map[string]string, planJSON, string) {
		r := f.helmTPE(t, env.AdminKubeconfig, online, "plan", "-o", "json", "--to", "v8.0.0", "-f", f.Values)
		var p planJSON
		if err := json.Unmarshal([]byte(r.Stdout), &p); err != nil || len(p.Hops) != 1 || p.Hops[0].From != "v7.3.6" {
			t.Fatalf("plan to v8.0.0: want one hop from v7.3.6 (%v):\n%s", err, redact(r.String()))
		}
		steps := map[string]string{}
		for _, s := range p.Hops[0].AdminSteps {
			steps[s.ID] = s.Status + ": " + s.Detail
		}
		return steps, p, r.Stdout
	}
	steps, _, _ := plan()
	if steps["crd-psmdb"] != "todo: Percona CRDs match 1.13.0; next: 1.14.0" || steps["crd-strimzi"] != "todo: Strimzi CRDs match 0.32.0; next: 0.44.0" {
		t.Fatalf("plan with the 7.3-era CRDs: %v", steps)
	}
	if r := f.helmTPE(t, "", online, "upgrade", "--to", "v8.0.0", "-f", f.Values, "--yes"); r.Code != 2 {
		t.Fatalf("upgrade with the CRD steps not done: want exit 2, nothing changed: %s", redact(r.String()))
	}
	f.wantRelease(t, charts736)

	apply := func(kubeconfig string, extraEnv []string, args ...string) framework.Result {
		t.Helper()
		r := env.KubectlTPEEnv(t, kubeconfig, extraEnv, append([]string{"-n", f.NS, "prereqs", "apply", "--to", "v8.0.0", "-f", f.Values}, args...)...)
		t.Logf("prereqs apply %v: exit %d\n%s\n%s", args, r.Code, r.Stdout, r.Stderr)
		return r
	}
	psmdbSchema := func() string {
		out, err := env.KubectlOK(t, env.AdminKubeconfig, "get", "crd", "perconaservermongodbs.psmdb.percona.com", "-o", "jsonpath={.spec.versions[?(@.name==\"v1\")].schema.openAPIV3Schema.properties.spec.properties}")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := psmdbSchema()

	// the operator: the missing permissions are named, nothing is applied
	if r := apply(env.OperatorKubeconfig, online); r.Code != 1 || !strings.Contains(r.Stderr, "may not apply the cluster-admin steps: missing") ||
		!strings.Contains(r.Stderr, "customresourcedefinitions.apiextensions.k8s.io") {
		t.Fatalf("prereqs apply as the operator: want exit 1 naming the missing permissions: %s", r)
	}
	if psmdbSchema() != before {
		t.Fatal("the operator's failed run changed the Percona CRDs")
	}

	// the admin's server-side dry run: the earlier owner (kubectl apply) is explained, then the diff
	if r := apply(env.AdminKubeconfig, online, "--dry-run=server"); r.Code != 2 || !strings.Contains(r.Stdout, "owned by another field manager") {
		t.Fatalf("dry run without --force-conflicts: want exit 2 explaining the conflict: %s", r)
	}
	r := apply(env.AdminKubeconfig, online, "--dry-run=server", "--force-conflicts")
	if r.Code != 0 || !strings.Contains(r.Stdout, "would configure") || !addsLine(r.Stdout, "tls:") || !strings.Contains(r.Stdout, "Dry run (server): nothing was changed") {
		t.Fatalf("dry run with --force-conflicts: want the changes as a diff: %s", r)
	}
	if psmdbSchema() != before {
		t.Fatal("the dry run changed the Percona CRDs")
	}

	// killed after 1.15.0, the rerun continues at 1.16.1
	versions := func(out string) []string {
		var res struct {
			Steps []struct {
				ID      string
				Before  string
				Changes []struct{ Version, Kind string }
			}
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("prereqs apply -o json: %v\n%s", err, out)
		}
		var vs []string
		for _, s := range res.Steps {
			for _, c := range s.Changes {
				if c.Kind == "CustomResourceDefinition" && (len(vs) == 0 || vs[len(vs)-1] != s.ID+"@"+c.Version) {
					vs = append(vs, s.ID+"@"+c.Version)
				}
			}
		}
		return vs
	}
	r = apply(env.AdminKubeconfig, append(online, "KUBECTL_TPE_E2E_STOP_AFTER=crd-psmdb@1.15.0"), "--force-conflicts", "-o", "json")
	if r.Code != 1 || !strings.Contains(r.Stderr, "stopped after crd-psmdb 1.15.0") {
		t.Fatalf("the run stopped after 1.15.0: %s", r)
	}
	if got := strings.Join(versions(r.Stdout), " "); got != "crd-strimzi@0.44.0 crd-psmdb@1.14.0 crd-psmdb@1.15.0" {
		t.Fatalf("first run applied %s, want Strimzi 0.44.0 then Percona 1.14.0, 1.15.0", got)
	}
	if steps, _, _ := plan(); steps["crd-psmdb"] != "todo: Percona CRDs match 1.15.0; next: 1.16.1" || !strings.HasPrefix(steps["crd-strimzi"], "done") {
		t.Fatalf("plan after the interruption: %v", steps)
	}
	r = apply(env.AdminKubeconfig, online, "--force-conflicts", "-o", "json")
	if got := strings.Join(versions(r.Stdout), " "); r.Code != 0 || got != "crd-psmdb@1.16.1 crd-psmdb@1.17.0" {
		t.Fatalf("the rerun applied %q (exit %d), want Percona 1.16.1 then 1.17.0", got, r.Code)
	}

	// a second run changes nothing and makes no mutating request
	t1 := time.Now()
	if r := apply(env.AdminKubeconfig, online); r.Code != 0 || !strings.Contains(r.Stdout, "Nothing to do") {
		t.Fatalf("second run: want nothing to do: %s", r)
	}
	for _, e := range env.Audit(t, t1, "kubectl-tpe") {
		if e.Verb != "get" && e.Verb != "list" && e.Verb != "watch" {
			t.Errorf("second run made a %s request on %s %s", e.Verb, e.Resource, e.Name)
		}
	}

	// the plan sees the steps done; the upgrade needs no --ack-admin-steps
	steps, p, out := plan()
	for _, s := range p.Hops[0].AdminSteps {
		if s.Status != "done" || s.NeedsAck {
			t.Errorf("after prereqs apply, step %s is %s (needs ack %v), want done:\n%s", s.ID, s.Status, s.NeedsAck, out)
		}
	}
	if steps["crd-psmdb"] != "done: Percona CRDs match 1.17.0" || steps["crd-strimzi"] != "done: Strimzi CRDs match 0.44.0" {
		t.Errorf("plan after prereqs apply: %v", steps)
	}
	t2 := time.Now()
	// run with the admin's credentials: the operator's profile may not read CRDs, so for the
	// operator the steps stay "cannot be verified"
	f.mustHelmTPE(t, env.AdminKubeconfig, online, "upgrade", "--to", "v8.0.0", "-f", f.Values, "--yes", "--timeout", "4m", "--pum-interval", "200ms")
	t.Logf("upgrade v7.3.6 → v8.0.0 without --ack-admin-steps: %s", time.Since(t2).Round(time.Second))
	f.wantRelease(t, charts800)
	st := f.kubectlTPE(t, "", "status", "-o", "json")
	if !strings.Contains(st.Stdout, `"v8.0.0"`) {
		t.Errorf("status after the upgrade does not name v8.0.0 (exit %d):\n%s", st.Code, redact(st.String()))
	}

	// the same steps from the release bundle, the configuration repository stopped
	srv.Close()
	for _, file := range []string{"strimzi-crds-0.32.0.yaml", "percona-server-mongodb-operator-crds-1.13.0.yaml"} {
		if r := env.Run(t, nil, strings.NewReader(files["manifests/upgrade/"+file]), env.Kubectl, "--kubeconfig", env.AdminKubeconfig,
			"apply", "--server-side", "--force-conflicts", "--field-manager", "e2e-reset", "-f", "-"); r.Code != 0 {
			t.Fatalf("reset the CRDs to 7.3: %s", r)
		}
	}
	r = apply(env.AdminKubeconfig, offline, "--from", "v7.3.6", "--bundle", bundleFile, "--force-conflicts", "-o", "json")
	if got := strings.Join(versions(r.Stdout), " "); r.Code != 0 || got != "crd-strimzi@0.44.0 crd-psmdb@1.14.0 crd-psmdb@1.15.0 crd-psmdb@1.16.1 crd-psmdb@1.17.0" {
		t.Fatalf("from the bundle, offline: applied %q (exit %d)", got, r.Code)
	}
	if !strings.Contains(r.Stderr, "manifests from the release bundle") {
		t.Errorf("the run does not say it read the bundle: %s", r.Stderr)
	}
	f.noLeaks(t)

	// preflight for 8.0 on this cluster (Kubernetes 1.37, outside 8.0's 1.26–1.28): warns, and
	// --strict makes it fail, as for 7.x
	pf := env.KubectlTPE(t, env.AdminKubeconfig, "preflight", "--to", "v8.0.0", "--only", "kubernetes.version", "-o", "json")
	if pf.Code != 0 || !strings.Contains(pf.Stdout, "newer than the versions validated for TPE v8.0.0 (1.26–1.28)") {
		t.Errorf("preflight --to v8.0.0 on Kubernetes 1.37: want a warning (exit 0): %s", redact(pf.String()))
	}
	if pf := env.KubectlTPE(t, env.AdminKubeconfig, "preflight", "--to", "v8.0.0", "--only", "kubernetes.version", "--strict"); pf.Code != 2 {
		t.Errorf("preflight --to v8.0.0 --strict on Kubernetes 1.37: want exit 2: %s", redact(pf.String()))
	}

	// from v7.3.4 (offline plan), 8.0 is reached through the latest 7.3 fix
	r = f.helmTPE(t, "", nil, "plan", "--from", "v7.3.4", "--to", "v8.0.0", "-o", "json")
	var off planJSON
	if err := json.Unmarshal([]byte(r.Stdout), &off); err != nil || len(off.Hops) != 2 || off.Hops[0].To != "v7.3.6" || off.Hops[1].To != "v8.0.0" {
		t.Errorf("plan --from v7.3.4 --to v8.0.0: want v7.3.6 then v8.0.0 (%v):\n%s", err, redact(r.String()))
	}
}

var charts736 = map[string]string{"tpe-data-controllers": "thingpark-data-controllers-1.5.0", "tpe-data": "thingpark-data-1.6.0",
	"tpe-controllers": "thingpark-application-controllers-1.5.0", "tpe": "thingpark-enterprise-1.7.6"}

// addsLine reports whether a diff in out adds a line holding s.
func addsLine(out, s string) bool {
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "+") && strings.Contains(l, s) {
			return true
		}
	}
	return false
}
