//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var charts800 = map[string]string{"tpe-data-controllers": "thingpark-data-controllers-2.2.1", "tpe-data": "thingpark-data-2.2.2",
	"tpe-controllers": "thingpark-application-controllers-2.2.0", "tpe": "thingpark-enterprise-2.0.0"}

// TestUpgradeTo80 installs v7.3.6 and upgrades it to v8.0.0 as the vendor asks (7.3 → 8.0 only
// from the latest 7.3 fix): the plan names the hop's cluster-admin steps, which block until the
// admin upgrades the CRDs; the steps are inferred from the vendor's repository, so the upgrade
// also needs --ack-admin-steps; then status shows v8.0.0. A plan from v7.3.4 goes through v7.3.6.
func TestUpgradeTo80(t *testing.T) {
	f := newEvFixture(t)
	env.ResetController(t)
	env.SetPUM(t, "done")
	t0 := time.Now()
	f.install(t, "v7.3.6")
	t.Logf("install v7.3.6: %s", time.Since(t0).Round(time.Second))

	type planJSON struct {
		Hops []struct {
			From, To   string
			AdminSteps []struct {
				ID, Status string
				NeedsAck   bool `json:"needsAcknowledgement"`
			}
		}
	}
	// the plan as the cluster admin, who may read the CRDs (the operator may not: steps unknown)
	plan := func(args ...string) (planJSON, int, string) {
		r := f.helmTPE(t, env.AdminKubeconfig, nil, append([]string{"plan", "-o", "json"}, args...)...)
		var p planJSON
		if err := json.Unmarshal([]byte(r.Stdout), &p); err != nil {
			t.Fatalf("plan %v -o json: %v\n%s", args, err, redact(r.String()))
		}
		return p, r.Code, r.Stdout
	}
	p, code, out := plan("--to", "v8.0.0", "-f", f.Values)
	if code != 2 || len(p.Hops) != 1 || p.Hops[0].From != "v7.3.6" || p.Hops[0].To != "v8.0.0" {
		t.Fatalf("plan to v8.0.0 before the CRD upgrade: want exit 2 and one hop v7.3.6 → v8.0.0, got exit %d:\n%s", code, out)
	}
	steps := map[string]string{}
	for _, s := range p.Hops[0].AdminSteps {
		steps[s.ID] = s.Status
		if !s.NeedsAck {
			t.Errorf("step %s of the 8.0 hop is not marked as needing an acknowledgement", s.ID)
		}
	}
	if steps["crd-strimzi"] != "todo" || steps["crd-psmdb"] != "todo" {
		t.Errorf("8.0 CRD steps before the admin ran them: %v, want todo", steps)
	}
	if r := f.helmTPE(t, "", nil, "upgrade", "--to", "v8.0.0", "-f", f.Values, "--yes"); r.Code != 2 || !strings.Contains(r.Stderr, "--ack-admin-steps") {
		t.Fatalf("upgrade with the CRD steps not done: want exit 2 naming --ack-admin-steps, nothing changed: %s", redact(r.String()))
	}
	f.wantRelease(t, charts736)

	// the cluster admin upgrades the CRDs as the 8.0 manifests do
	adminApply(t, crd("kafka.strimzi.io", "kafkas", "Kafka", "0.44.0")+crd("core.strimzi.io", "strimzipodsets", "StrimziPodSet", "0.44.0")+
		crd("kafka.strimzi.io", "kafkanodepools", "KafkaNodePool", "0.44.0")+
		crd("psmdb.percona.com", "perconaservermongodbs", "PerconaServerMongoDB", "1.17.0")+
		crd("psmdb.percona.com", "perconaservermongodbbackups", "PerconaServerMongoDBBackup", "1.17.0")+
		crd("psmdb.percona.com", "perconaservermongodbrestores", "PerconaServerMongoDBRestore", "1.17.0"))
	p, _, out = plan("--to", "v8.0.0", "-f", f.Values)
	for _, s := range p.Hops[0].AdminSteps {
		if (s.ID == "crd-strimzi" || s.ID == "crd-psmdb") && s.Status != "done" {
			t.Errorf("after the CRD upgrade, step %s is %s, want done:\n%s", s.ID, s.Status, out)
		}
	}
	r := f.helmTPE(t, "", nil, "upgrade", "--to", "v8.0.0", "-f", f.Values, "--yes", "--timeout", "4m", "--pum-interval", "200ms")
	if r.Code != 2 || !strings.Contains(r.Stderr, "--ack-admin-steps") {
		t.Fatalf("upgrade without --ack-admin-steps: want exit 2 naming the flag: %s", redact(r.String()))
	}
	t1 := time.Now()
	f.mustHelmTPE(t, "", nil, "upgrade", "--to", "v8.0.0", "-f", f.Values, "--yes", "--ack-admin-steps", "--timeout", "4m", "--pum-interval", "200ms")
	t.Logf("upgrade v7.3.6 → v8.0.0: %s", time.Since(t1).Round(time.Second))
	f.wantRelease(t, charts800)
	st := f.kubectlTPE(t, "", "status", "-o", "json")
	if !strings.Contains(st.Stdout, `"v8.0.0"`) {
		t.Errorf("status after the upgrade does not name v8.0.0 (exit %d):\n%s", st.Code, redact(st.String()))
	}

	// preflight for 8.0 on this cluster (Kubernetes 1.37, outside 8.0's 1.26–1.28): warns, and
	// --strict makes it fail, as for 7.x
	pf := env.KubectlTPE(t, env.AdminKubeconfig, "preflight", "--tpe-version", "v8.0.0", "--only", "kubernetes.version", "-o", "json")
	if pf.Code != 0 || !strings.Contains(pf.Stdout, "newer than the versions validated for TPE v8.0.0 (1.26–1.28)") {
		t.Errorf("preflight --tpe-version v8.0.0 on Kubernetes 1.37: want a warning (exit 0): %s", redact(pf.String()))
	}
	if pf := env.KubectlTPE(t, env.AdminKubeconfig, "preflight", "--tpe-version", "v8.0.0", "--only", "kubernetes.version", "--strict"); pf.Code != 2 {
		t.Errorf("preflight --tpe-version v8.0.0 --strict on Kubernetes 1.37: want exit 2: %s", redact(pf.String()))
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
