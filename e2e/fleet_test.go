//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/thingpark-tools/kubectl-tpe/e2e/framework"
)

// brokenWorkload is a Deployment of the TPE namespace that never becomes ready (a cluster without
// nodes schedules none of its pods).
const brokenWorkload = `apiVersion: apps/v1
kind: Deployment
metadata: {name: twa, namespace: thingpark-enterprise}
spec:
  replicas: 1
  selector: {matchLabels: {app: twa}}
  template:
    metadata: {labels: {app: twa}}
    spec: {containers: [{name: twa, image: example.com/twa:1}]}
`

// fleetSites is the fleet of the fleet tests: contexts of one kubeconfig.
type fleetSites struct {
	Kubeconfig string
	Contexts   []string // in order: the clusters, then "silent" and "refused"
	FleetFile  string
}

// fleetKubeconfig writes one kubeconfig with a context per cluster (site-1, site-2, ...: the
// clusters' admin credentials), plus "silent" (a server that never answers) and "refused" (the
// first cluster's server with a token it does not accept), and a fleet file listing them all.
func fleetKubeconfig(t *testing.T, admins []string) fleetSites {
	t.Helper()
	out := clientcmdapi.NewConfig()
	var sites fleetSites
	for i, kc := range admins {
		c, err := clientcmd.LoadFromFile(kc)
		if err != nil {
			t.Fatal(err)
		}
		cur := c.Contexts[c.CurrentContext]
		name := fmt.Sprintf("site-%d", i+1)
		out.Clusters[name] = c.Clusters[cur.Cluster]
		out.AuthInfos[name] = c.AuthInfos[cur.AuthInfo]
		out.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: cur.Namespace}
		sites.Contexts = append(sites.Contexts, name)
	}
	first := out.Clusters["site-1"]
	out.Clusters["silent"] = &clientcmdapi.Cluster{Server: deadServers(t)["silent"], InsecureSkipTLSVerify: true}
	out.AuthInfos["silent"] = out.AuthInfos["site-1"]
	out.Contexts["silent"] = &clientcmdapi.Context{Cluster: "silent", AuthInfo: "silent", Namespace: env.Namespace}
	out.Clusters["refused"] = first
	out.AuthInfos["refused"] = &clientcmdapi.AuthInfo{Token: "not-a-token-this-cluster-knows"}
	out.Contexts["refused"] = &clientcmdapi.Context{Cluster: "refused", AuthInfo: "refused", Namespace: env.Namespace}
	out.CurrentContext = "site-1"
	sites.Contexts = append(sites.Contexts, "silent", "refused")
	dir := t.TempDir()
	sites.Kubeconfig = filepath.Join(dir, "fleet.kubeconfig")
	if err := clientcmd.WriteToFile(*out, sites.Kubeconfig); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("installations:\n")
	for _, c := range sites.Contexts {
		fmt.Fprintf(&b, "- {name: %s, kubeconfig: fleet.kubeconfig, context: %s, namespace: %s}\n", "tpe-"+c, c, env.Namespace)
	}
	sites.FleetFile = filepath.Join(dir, "fleet.yaml")
	if err := os.WriteFile(sites.FleetFile, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return sites
}

// kubectlApply applies manifest with the cluster-admin kubeconfig kc.
func kubectlApply(t testing.TB, kc, manifest string) {
	t.Helper()
	if r := env.Run(t, nil, strings.NewReader(manifest), env.Kubectl, "--kubeconfig", kc, "apply", "-f", "-"); r.Code != 0 {
		t.Fatalf("kubectl apply: %s", r)
	}
}

// fleetSetup starts the fleet: the run's cluster with TPE v7.3.1, another with TPE v7.2.2c, and
// `broken` more without nodes whose TPE namespace holds a Deployment that never gets ready.
func fleetSetup(t *testing.T, broken int) (*evFixture, fleetSites) {
	t.Helper()
	f := newEvFixture(t)
	second := env.StartCluster(t, true)
	var extra []*framework.Cluster
	for range broken {
		extra = append(extra, env.StartCluster(t, false))
	}
	f.install(t, "v7.3.1")
	kubectlApply(t, second.AdminKubeconfig, evPrereqs+dataOperatorCRDs())
	if r := env.HelmTPE(t, second.AdminKubeconfig, []string{"HELM_NAMESPACE=" + env.Namespace},
		"install", "--to", "v7.2.2c", "-f", f.Values, "--yes", "--timeout", "4m"); r.Code != 0 {
		t.Fatalf("helm tpe install on the second cluster: %s", redact(r.String()))
	}
	admins := []string{env.AdminKubeconfig, second.AdminKubeconfig}
	for _, c := range extra {
		kubectlApply(t, c.AdminKubeconfig, brokenWorkload)
		admins = append(admins, c.AdminKubeconfig)
	}
	return f, fleetKubeconfig(t, admins)
}

// fleetRow is what the tests read of a row of -o json.
type fleetRow struct {
	Name, Context, Namespace, Cluster string
	KubernetesVersion                 string
	APIRequests                       int64
	Seconds                           float64
	Error                             *struct{ Kind, Message string }
	// status
	Release, Health, PostUpgrade string
	// preflight
	Verdict string
	// plan
	Installed, Action, Next string
	Path                    []string
}

func fleetRows(t testing.TB, r framework.Result) []fleetRow {
	t.Helper()
	var doc struct {
		Kind          string
		Installations []fleetRow
		Line          string
	}
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil {
		t.Fatalf("-o json: %v\n%s", err, r)
	}
	return doc.Installations
}

func rowErr(r fleetRow) string {
	if r.Error == nil {
		return ""
	}
	return r.Error.Kind
}

// TestFleet is issue 21: status, plan and preflight over five installations at once: the run's
// cluster with TPE v7.3.1, a second cluster with TPE v7.2.2c, a third whose workload never gets
// ready, a context whose server accepts connections and never answers, and one whose credentials
// are refused. Each gives its own row, within the time limit, and the exit code is the worst (1).
func TestFleet(t *testing.T) {
	f, sites := fleetSetup(t, 1)
	const reqTimeout, limit = "5s", 40 * time.Second
	common := []string{"--request-timeout", reqTimeout, "--timeout-per-installation", limit.String()}
	ctxArgs := func() []string {
		var a []string
		for _, c := range sites.Contexts {
			a = append(a, "--context", c)
		}
		return a
	}
	wantErr := map[string]string{"silent": "unreachable", "refused": "unauthorized"}

	t.Run("status --context x5", func(t *testing.T) {
		t0 := time.Now()
		r := env.KubectlTPE(t, sites.Kubeconfig, append(append([]string{"status", "-o", "json"}, ctxArgs()...), common...)...)
		took := time.Since(t0)
		f.outputs = append(f.outputs, r.Stdout, r.Stderr)
		if r.Code != 1 {
			t.Errorf("exit code %d, want 1 (an installation could not be read): %s", r.Code, r)
		}
		if took > limit {
			t.Errorf("status over 5 installations took %s, more than the time limit of one (%s)", took, limit)
		}
		rows := fleetRows(t, r)
		if len(rows) != 5 {
			t.Fatalf("%d rows, want 5: %s", len(rows), r)
		}
		for i, row := range rows {
			if row.Name != sites.Contexts[i] {
				t.Errorf("row %d is %q, want %q", i, row.Name, sites.Contexts[i])
			}
			if got := rowErr(row); got != wantErr[row.Name] {
				t.Errorf("%s: error %q (%+v), want %q", row.Name, got, row.Error, wantErr[row.Name])
			}
		}
		want := []struct{ release, health string }{{"v7.3.1", ""}, {"v7.2.2c", ""}, {"", "fail"}}
		for i, w := range want {
			row := rows[i]
			if w.release != "" && row.Release != w.release {
				t.Errorf("%s: release %q, want %q", row.Name, row.Release, w.release)
			}
			if w.health != "" && row.Health != w.health {
				t.Errorf("%s: health %q, want %q", row.Name, row.Health, w.health)
			}
			if row.KubernetesVersion == "" || row.APIRequests == 0 {
				t.Errorf("%s: no Kubernetes version or request count: %+v", row.Name, row)
			}
		}
		if rows[0].Health == "fail" || rows[1].Health == "fail" {
			t.Errorf("a TPE installation is unhealthy: %s", r.Stdout)
		}
		t.Logf("status over 5 installations: %s", took.Round(time.Millisecond))
	})

	t.Run("status table", func(t *testing.T) {
		r := env.KubectlTPE(t, sites.Kubeconfig, append(append([]string{"status"}, ctxArgs()...), common...)...)
		f.outputs = append(f.outputs, r.Stdout, r.Stderr)
		for _, s := range []string{"INSTALLATION", "TPE RELEASE", "POST-UPGRADE", "LAST BACKUP", "KUBERNETES", "ERROR (unreachable)",
			"ERROR (unauthorized)", "== site-3", "workloads.ready", "5 installation(s): 2 healthy or with warnings, 1 unhealthy, 2 could not be read"} {
			if !strings.Contains(r.Stdout, s) {
				t.Errorf("the table lacks %q:\n%s", s, r.Stdout)
			}
		}
		if r.Code != 1 || !strings.Contains(r.Stderr, "2 of 5 installation(s) could not be read") {
			t.Errorf("exit code %d, stderr %q", r.Code, r.Stderr)
		}
		t.Logf("kubectl tpe status --context x5:\n%s", r.Stdout)
	})

	t.Run("time limit", func(t *testing.T) {
		// The request timeout is longer than the limit: the silent installation is cut by the limit.
		t0 := time.Now()
		r := env.KubectlTPE(t, sites.Kubeconfig, "status", "-o", "json", "--context", "site-1", "--context", "silent",
			"--request-timeout", "1m", "--timeout-per-installation", "3s")
		took := time.Since(t0)
		rows := fleetRows(t, r)
		if r.Code != 1 || len(rows) != 2 || rowErr(rows[0]) != "" || rowErr(rows[1]) != "timeout" {
			t.Errorf("want site-1 read and silent timed out, exit 1: %s", r)
		}
		if took > 15*time.Second {
			t.Errorf("took %s with a limit of 3s per installation", took)
		}
	})

	t.Run("forbidden", func(t *testing.T) {
		// The operator's own credentials, in a namespace they may read nothing of.
		kc, err := clientcmd.LoadFromFile(sites.Kubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		op, err := clientcmd.LoadFromFile(env.OperatorKubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		kc.AuthInfos["operator"] = op.AuthInfos[op.Contexts[op.CurrentContext].AuthInfo]
		kc.Contexts["forbidden"] = &clientcmdapi.Context{Cluster: "site-1", AuthInfo: "operator", Namespace: "kube-public"}
		path := filepath.Join(t.TempDir(), "kubeconfig")
		if err := clientcmd.WriteToFile(*kc, path); err != nil {
			t.Fatal(err)
		}
		r := env.KubectlTPE(t, path, "status", "-o", "json", "--context", "site-1", "--context", "forbidden")
		rows := fleetRows(t, r)
		if r.Code != 1 || len(rows) != 2 || rowErr(rows[0]) != "" || rowErr(rows[1]) != "forbidden" {
			t.Errorf("want site-1 read and the forbidden namespace an error row, exit 1: %s", r)
		}
	})

	t.Run("one --context is the single-cluster status", func(t *testing.T) {
		r := env.KubectlTPE(t, sites.Kubeconfig, "status", "--context", "site-2")
		if !strings.HasPrefix(r.Stdout, "TPE in namespace "+env.Namespace+": release v7.2.2c") {
			t.Errorf("not the single-cluster dashboard: %s", r)
		}
	})

	t.Run("plan --fleet", func(t *testing.T) {
		t0 := time.Now()
		r := f.helmTPE(t, sites.Kubeconfig, nil, append([]string{"plan", "--to", "v7.3.1", "--fleet", sites.FleetFile, "-o", "json"}, common...)...)
		took := time.Since(t0)
		if r.Code != 1 {
			t.Errorf("exit code %d, want 1: %s", r.Code, r)
		}
		if took > limit {
			t.Errorf("plan took %s", took)
		}
		rows := fleetRows(t, r)
		if len(rows) != 5 {
			t.Fatalf("%d rows: %s", len(rows), r)
		}
		byCtx := map[string]fleetRow{}
		for _, row := range rows {
			byCtx[row.Context] = row
			if row.Name != "tpe-"+row.Context {
				t.Errorf("row %q of context %q: the fleet file's name is not used", row.Name, row.Context)
			}
			if got := rowErr(row); got != wantErr[row.Context] {
				t.Errorf("%s: error %q (%+v), want %q", row.Name, got, row.Error, wantErr[row.Context])
			}
		}
		if a := byCtx["site-1"]; a.Installed != "v7.3.1" || a.Verdict != "up-to-date" {
			t.Errorf("site-1: %+v", a)
		}
		if b := byCtx["site-2"]; b.Installed != "v7.2.2c" || strings.Join(b.Path, ",") != "v7.3.1" {
			t.Errorf("site-2: %+v", b)
		}
		if c := byCtx["site-3"]; c.Installed != "" || c.Action != "install" {
			t.Errorf("site-3: %+v", c)
		}
		tbl := f.helmTPE(t, sites.Kubeconfig, nil, append([]string{"plan", "--to", "v8.0.0", "--fleet", sites.FleetFile}, common...)...)
		if !regexp.MustCompile(`\d of 5 can go to v8\.0\.0 now; .*2 unreachable or unreadable`).MatchString(tbl.Stdout) {
			t.Errorf("no summary line:\n%s", tbl)
		}
		t.Logf("helm tpe plan --to v8.0.0 --fleet:\n%s", tbl.Stdout)
	})

	t.Run("preflight --all-contexts", func(t *testing.T) {
		r := env.KubectlTPE(t, sites.Kubeconfig, append([]string{"preflight", "--all-contexts", "--to", "v7.3.1", "-o", "json"}, common...)...)
		f.outputs = append(f.outputs, r.Stdout, r.Stderr)
		if r.Code != 1 {
			t.Errorf("exit code %d, want 1: %s", r.Code, r)
		}
		rows := fleetRows(t, r)
		if len(rows) != 5 {
			t.Fatalf("%d rows: %s", len(rows), r)
		}
		tbl := env.KubectlTPE(t, sites.Kubeconfig, append([]string{"preflight", "--all-contexts", "--to", "v7.3.1"}, common...)...)
		t.Logf("kubectl tpe preflight --all-contexts:\n%s", tbl.Stdout)
		for _, row := range rows { // --all-contexts: sorted by name
			if got := rowErr(row); got != wantErr[row.Name] {
				t.Errorf("%s: error %q (%+v), want %q", row.Name, got, row.Error, wantErr[row.Name])
			}
			if row.Name == "site-3" && row.Verdict != "fail" {
				t.Errorf("site-3 (no node): verdict %q, want fail", row.Verdict)
			}
			if strings.HasPrefix(row.Name, "site-") && row.Verdict == "" {
				t.Errorf("%s: no verdict", row.Name)
			}
		}
	})

	t.Run("bad input", func(t *testing.T) {
		bad := writeFile(t, "fleet.yaml", "installations:\n- {name: a, context: x}\n- {name: a, context: y}\n")
		r := env.KubectlTPE(t, sites.Kubeconfig, "status", "--fleet", bad)
		if r.Code != 1 || !strings.Contains(r.Stderr, "--fleet") || !strings.Contains(r.Stderr, "both named") {
			t.Errorf("a fleet file with a duplicate name: %s", r)
		}
		r = env.KubectlTPE(t, sites.Kubeconfig, "status", "--all-contexts", "--watch")
		if r.Code != 1 || !strings.Contains(r.Stderr, "--watch") {
			t.Errorf("--watch with several installations: %s", r)
		}
	})
	f.noLeaks(t)
}

// TestBenchFleet is the benchmark of issue 21 (TPE_BENCH=1, as make bench): `kubectl tpe status`
// over 1, 3 and 5 local clusters plus a server that never answers, against each installation
// alone: the wall time of the fleet run against the slowest single run, and the API requests of
// each installation in the fleet run against the single-cluster command's (its -v 1 count).
func TestBenchFleet(t *testing.T) {
	if os.Getenv("TPE_BENCH") == "" {
		t.Skip("set TPE_BENCH=1 (make bench) to run the benchmarks")
	}
	rep := newBenchReport(t)
	defer rep.close()
	_, sites := fleetSetup(t, 3) // 5 clusters: TPE v7.3.1, TPE v7.2.2c, 3 without nodes
	clusters := sites.Contexts[:5]
	const reqTimeout = "5s"
	runs := benchInt(t, "TPE_BENCH_RUNS", 3)
	single := map[string]time.Duration{}
	singleReq := map[string]int{}
	reqLine := regexp.MustCompile(`status: (\d+) API requests`)
	for _, c := range append(append([]string(nil), clusters...), "silent") {
		var ds durations
		for range runs {
			t0 := time.Now()
			r := env.KubectlTPE(t, sites.Kubeconfig, "status", "--context", c, "--request-timeout", reqTimeout, "-v", "1")
			ds = append(ds, time.Since(t0))
			if m := reqLine.FindStringSubmatch(r.Stderr); m != nil {
				singleReq[c], _ = strconv.Atoi(m[1])
			}
		}
		_, med, _ := ds.stats()
		single[c] = med
		rep.printf("fleet: single-cluster status --context %s: median %s of %d runs, %d API requests", c, secs(med), runs, singleReq[c])
	}
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		rep.printf("fleet: load average %s", strings.Join(strings.Fields(string(load))[:3], " "))
	}
	for _, silent := range []bool{true, false} {
		for _, n := range []int{1, 3, 5} {
			ctxs := append([]string(nil), clusters[:n]...)
			what := fmt.Sprintf("%d cluster(s)", n)
			if silent {
				ctxs = append(ctxs, "silent")
				what += " + the unresponsive one"
			}
			// A fleet file, so that one installation is a fleet run too (one --context is the
			// single-cluster command).
			var file strings.Builder
			file.WriteString("installations:\n")
			slowest, sum := time.Duration(0), time.Duration(0)
			for _, c := range ctxs {
				fmt.Fprintf(&file, "- {context: %s}\n", c)
				slowest = max(slowest, single[c])
				sum += single[c]
			}
			args := []string{"status", "-o", "json", "--request-timeout", reqTimeout, "--fleet", writeFile(t, "fleet.yaml", file.String())}
			var ds durations
			var rows []fleetRow
			for range runs {
				t0 := time.Now()
				r := env.KubectlTPE(t, sites.Kubeconfig, args...)
				ds = append(ds, time.Since(t0))
				rows = fleetRows(t, r)
			}
			_, med, _ := ds.stats()
			var reqs []string
			for _, row := range rows {
				if row.Error == nil {
					reqs = append(reqs, fmt.Sprintf("%s %d (alone %d)", row.Name, row.APIRequests, singleReq[row.Name]))
					if int(row.APIRequests) != singleReq[row.Name] {
						t.Errorf("%s: %d API requests in the fleet run, %d alone", row.Name, row.APIRequests, singleReq[row.Name])
					}
				}
			}
			rep.printf("fleet: status over %s: median %s of %d runs; slowest single %s, sum of singles %s; ratio to the slowest %.2f; requests: %s",
				what, secs(med), runs, secs(slowest), secs(sum), med.Seconds()/slowest.Seconds(), strings.Join(reqs, ", "))
		}
	}
}
