//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/e2e/framework"
)

var charts713a = map[string]string{"tpe-data-controllers": "thingpark-data-controllers-1.0.3", "tpe-data": "thingpark-data-1.1.2",
	"tpe-controllers": "thingpark-enterprise-controllers-1.0.3", "tpe": "thingpark-enterprise-1.1.7"}

// TestHopBackups: helm tpe upgrade v7.1.3a → v7.2.2c → v7.3.1 takes a backup before each hop; the
// post-upgrade procedure of hop 2 aborts; helm tpe rollback proposes the backup taken before hop 2
// (v7.2.2c data, the release tpe returns to) and restores it; kubectl tpe status names the state
// the vendor's rollback leaves; the upgrade then runs again to the end.
func TestHopBackups(t *testing.T) {
	f := newEvFixture(t)
	env.ResetController(t)
	env.SetPUM(t, "done")
	t0 := time.Now()
	f.install(t, "v7.1.3a")
	f.wantRelease(t, charts713a)
	t.Logf("install v7.1.3a: %s", time.Since(t0).Round(time.Second))

	r := f.helmTPE(t, env.AdminKubeconfig, nil, "plan", "--to", "v7.3.1", "-f", f.Values, "-o", "json")
	var pl struct {
		Hops []struct {
			N      int
			Backup bool
		}
		Checks []struct{ ID, Message string }
	}
	if err := json.Unmarshal([]byte(r.Stdout), &pl); err != nil || len(pl.Hops) != 2 || !pl.Hops[0].Backup || !pl.Hops[1].Backup {
		t.Errorf("plan -o json: want two hops, each with a backup (%v): %s", err, redact(r.String()))
	}
	said := false
	for _, c := range pl.Checks {
		said = said || c.ID == "backup.hops" && strings.Contains(c.Message, "upgrade backup before hop 1 (v7.1.3a → v7.2.2c), before hop 2 (v7.2.2c → v7.3.1)")
	}
	if !said {
		t.Errorf("the plan does not say before which hops it takes a backup: %+v", pl.Checks)
	}

	// the upgrade, with the post-upgrade procedure of hop 2 aborting: set once the backup before
	// hop 2 exists (hop 1's verdict is in by then, hop 2's comes after its four charts)
	t1 := time.Now()
	done := make(chan framework.Result, 1)
	go func() {
		done <- f.helmTPE(t, "", nil, "upgrade", "--to", "v7.3.1", "-f", f.Values, "--yes", "--timeout", "4m", "--pum-interval", "200ms", "--pum-timeout", "30s")
	}()
	framework.Eventually(t, 10*time.Minute, 100*time.Millisecond, "the backup before hop 2", func() bool { return len(env.Backups(t)) >= 2 })
	env.SetPUM(t, "aborted")
	r = <-done
	t.Logf("upgrade failing in hop 2 (exit %d) after %s:\n%s", r.Code, time.Since(t1).Round(time.Second), redact(r.Stderr))
	if r.Code != 2 || !strings.Contains(r.Stderr, "ABORTED") {
		t.Fatalf("want exit 2 and the ABORTED verdict: %s", redact(r.String()))
	}
	f.wantRelease(t, charts731)
	p, raw := f.progress(t)
	if p == nil || p.State != "failed" || len(p.Backups) != 2 {
		t.Fatalf("progress record: want a failed run with two backups:\n%s", raw)
	}
	backups := env.Backups(t)
	if len(backups) != 2 {
		t.Fatalf("backups on the controller: %v, want two", backups)
	}
	for i, want := range []struct{ from, to string }{{"v7.1.3a", "v7.2.2c"}, {"v7.2.2c", "v7.3.1"}} {
		b := p.Backups[i]
		if b.Hop != i+1 || b.From != want.from || b.To != want.to || b.Name != backups[i] {
			t.Errorf("recorded backup %d: %+v, want hop %d %s → %s named %s", i, b, i+1, want.from, want.to, backups[i])
		}
	}
	hop2 := backups[1]
	if p.Backup != hop2 {
		t.Errorf("the record's backup is %q, want the latest, %s", p.Backup, hop2)
	}

	// the rollback proposes hop 2's backup and says why
	r = f.mustHelmTPE(t, "", nil, "rollback", "--dry-run", "-o", "json")
	var rp struct {
		ToChart      string `json:"toChart"`
		ToRelease    string `json:"toRelease"`
		BackupReason string `json:"backupReason"`
		Backup       struct{ Name, Chart string }
	}
	if err := json.Unmarshal([]byte(r.Stdout), &rp); err != nil {
		t.Fatalf("rollback --dry-run -o json: %v: %s", err, r.Stdout)
	}
	if rp.ToChart != charts722c["tpe"] || rp.ToRelease != "v7.2.2c" || rp.Backup.Name != hop2 || rp.Backup.Chart != charts722c["tpe"] {
		t.Fatalf("rollback plan: to %s (%s) with %s (%s), want %s with %s", rp.ToRelease, rp.ToChart, rp.Backup.Name, rp.Backup.Chart, charts722c["tpe"], hop2)
	}
	for _, want := range []string{"failed in hop 2", "taken before hop 2 (v7.2.2c → v7.3.1)", "holds the data of v7.2.2c", backups[0] + " (taken before hop 1: it holds the data of v7.1.3a)"} {
		if !strings.Contains(rp.BackupReason, want) {
			t.Errorf("the reason does not say %q: %s", want, rp.BackupReason)
		}
	}
	r = f.mustHelmTPE(t, "", nil, "rollback", "--dry-run")
	t.Logf("what the user sees:\n%s", r.Stdout)
	t2 := time.Now()
	f.mustHelmTPE(t, "", nil, "rollback", "--backup", hop2, "--yes")
	t.Logf("rollback: %s", time.Since(t2).Round(time.Second))
	if restores := env.Restores(t); len(restores) != 1 || restores[0] != hop2 {
		t.Errorf("restores: %v, want %s", restores, hop2)
	}
	got := f.charts(t)
	for n, c := range charts731 {
		if n == "tpe" {
			c = charts722c["tpe"]
		}
		if got[n] != c+" deployed" {
			t.Errorf("after the rollback %s is %q, want %s deployed", n, got[n], c)
		}
	}
	if p, raw := f.progress(t); p == nil || p.State != "rolled-back" {
		t.Errorf("progress record after the rollback:\n%s", raw)
	}

	// kubectl tpe status names the state
	st := f.kubectlTPE(t, "", "status")
	t.Logf("kubectl tpe status (exit %d):\n%s", st.Code, st.Stdout)
	st = f.kubectlTPE(t, "", "status", "-o", "json")
	var sd struct {
		Release struct{ Name, RolledBackFrom string }
		Checks  []struct{ ID, Status, Message, Remediation string }
	}
	if err := json.Unmarshal([]byte(st.Stdout), &sd); err != nil || sd.Release.Name != "v7.2.2c" || sd.Release.RolledBackFrom != "v7.3.1" {
		t.Errorf("status -o json: release %+v (%v): %s", sd.Release, err, st.Stdout)
	}
	named := false
	for _, c := range sd.Checks {
		named = named || c.ID == "release.match" && c.Status == "warn" &&
			c.Message == "rolled back to v7.2.2c after an upgrade to v7.3.1; charts 1–3 stay at v7.3.1, as the vendor's rollback leaves them" &&
			strings.Contains(c.Remediation, "helm tpe upgrade --to v7.3.1")
	}
	if !named {
		t.Errorf("status does not name the rolled-back state with the next command: %+v", sd.Checks)
	}

	// the upgrade again, to the end: tpe alone, after its own backup
	env.SetPUM(t, "done")
	t3 := time.Now()
	r = f.mustHelmTPE(t, "", nil, "upgrade", "--to", "v7.3.1", "-f", f.Values, "--yes", "--timeout", "4m", "--pum-interval", "200ms")
	t.Logf("upgrade again: %s", time.Since(t3).Round(time.Second))
	f.wantRelease(t, charts731)
	p, raw = f.progress(t)
	if backups = env.Backups(t); p == nil || p.State != "done" || len(p.Backups) != 1 || p.Backups[0].From != "v7.2.2c" || len(backups) != 3 || p.Backup != backups[2] {
		t.Errorf("after the upgrade again: backups %v, record:\n%s", backups, raw)
	}
	if st := f.kubectlTPE(t, "", "status", "-o", "json"); !strings.Contains(st.Stdout, `"name": "v7.3.1"`) {
		t.Errorf("status after the upgrade: %s", st.Stdout)
	}
	f.noLeaks(t)
	t.Logf("whole test: %s", time.Since(t0).Round(time.Second))
}
