//go:build e2e

package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/e2e/framework"
)

// noKubeconfigEnv is the environment of a machine with no cluster configured: no KUBECONFIG, a
// HOME without ~/.kube.
func noKubeconfigEnv(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != "KUBECONFIG" && k != "HOME" {
			out = append(out, kv)
		}
	}
	return append(out, "HOME="+t.TempDir())
}

// TestPreflightOnlyTLSWithoutKubeconfig: "is this certificate good for the install?" is answered
// by the built binary on a machine with no kubeconfig, and nothing reaches the API server.
func TestPreflightOnlyTLSWithoutKubeconfig(t *testing.T) {
	k := newTLSKit(t)
	now := time.Now()
	good, goodKey := k.leaf(t, "good", "tpe.example.com", now.Add(-time.Hour), now.Add(200*24*time.Hour))
	soon, soonKey := k.leaf(t, "soon", "tpe.example.com", now.Add(-time.Hour), now.Add(10*24*time.Hour))
	badCA := filepath.Join(k.dir, "bad-ca.pem")
	if err := os.WriteFile(badCA, []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	since := time.Now()
	run := func(args ...string) framework.Result {
		return env.Run(t, noKubeconfigEnv(t), nil, env.KubectlTPEBin, append([]string{"preflight", "--only", "tls"}, args...)...)
	}
	t.Run("good certificate: exit 0, only TLS checks", func(t *testing.T) {
		r := run("--tls-cert", good, "--tls-key", goodKey, "--tls-ca", k.caFile, "--hostname", "tpe.example.com", "-o", "json")
		if r.Code != 0 {
			t.Fatalf("want exit 0: %s", r)
		}
		rep := parseReport(t, r.Stdout)
		for _, c := range rep.Checks {
			if c.Category != "TLS" {
				t.Errorf("check %s (%s) ran with --only tls", c.ID, c.Category)
			}
		}
		if rep.Summary["pass"] != 5 {
			t.Errorf("want the 5 TLS checks passing: %v", rep.Summary)
		}
	})
	t.Run("valid 10 more days: says 10 days, exit 2 with --fail-on warn", func(t *testing.T) {
		r := run("--tls-cert", soon, "--tls-key", soonKey, "--tls-ca", k.caFile, "--hostname", "tpe.example.com", "--fail-on", "warn")
		if r.Code != 2 || !strings.Contains(r.Stdout, "expires in 10 days") {
			t.Fatalf("want exit 2 and \"expires in 10 days\": %s", r)
		}
	})
	t.Run("a bad CA file is named as --tls-ca", func(t *testing.T) {
		r := run("--tls-cert", good, "--tls-key", goodKey, "--tls-ca", badCA)
		if r.Code != 1 || !strings.Contains(r.Stderr, "--tls-ca "+badCA+": the CA certificate is not valid PEM") || strings.Contains(r.Stderr, "--tls-cert "+good+":") {
			t.Fatalf("want exit 1 naming --tls-ca %s: %s", badCA, r)
		}
	})
	t.Run("a cluster check still asks for a kubeconfig", func(t *testing.T) {
		r := env.Run(t, noKubeconfigEnv(t), nil, env.KubectlTPEBin, "preflight", "--only", "tls,kubernetes.version")
		if r.Code != 1 || !strings.Contains(r.Stderr, "no Kubernetes cluster is configured") {
			t.Fatalf("want exit 1 asking for a kubeconfig: %s", r)
		}
	})
	if ev := env.Audit(t, since, "kubectl-tpe"); len(ev) != 0 {
		t.Errorf("preflight --only tls sent %d API requests: %+v", len(ev), ev)
	}
}

// TestPUMStatusFileWithoutKubeconfig: the built binary judges a dump a customer sent, from a
// file with CRLF and a trailing prompt, or from stdin, with no kubeconfig.
func TestPUMStatusFileWithoutKubeconfig(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join(env.Root, "pkg", "pum", "testdata", "upgrade-procedure-sample.txt"))
	if err != nil {
		t.Fatal(err)
	}
	pasted := "ops@bastion:~$ kubectl exec deploy/pum -- status\r\n" + strings.ReplaceAll(string(sample), "\n", "\r\n") + "ops@bastion:~$ "
	f := filepath.Join(t.TempDir(), "pum-status.txt")
	if err := os.WriteFile(f, []byte(pasted), 0o600); err != nil {
		t.Fatal(err)
	}
	aborted := strings.Replace(string(sample), "state: 'PROCESSED'", "state: 'ABORTED'", 1)
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  []string
	}{
		{"CRLF file with prompts", "", []string{"--file", f}, 0, []string{"RDTP-7689-bs-certificate-migration", "Verdict: in progress (1 of 2 request(s) processed or skipped)"}},
		{"stdin", aborted, []string{"--file", "-"}, 2, []string{"Verdict: failed", "ABORTED RDTP-7689-bs-certificate-migration: last response"}},
		{"stdin as JSON", string(sample), []string{"--file", "-", "-o", "json"}, 0, []string{`"verdict": "in progress"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.Run(t, noKubeconfigEnv(t), strings.NewReader(tt.stdin), env.KubectlTPEBin, append([]string{"pum", "status"}, tt.args...)...)
			if r.Code != tt.code {
				t.Fatalf("want exit %d: %s", tt.code, r)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.Stdout, w) {
					t.Errorf("stdout lacks %q: %s", w, r)
				}
			}
			if !strings.Contains(r.Stderr, "has no state line") {
				t.Errorf("the live warnings are missing: %s", r)
			}
		})
	}
}

// TestStatusWatchRequests: `status --watch` lists at the start, then follows watch events: over
// several refreshes (warning events arriving, and quiet intervals) it sends no API request.
func TestStatusWatchRequests(t *testing.T) {
	env.SetPUM(t, "done")
	ns := env.Namespace
	t0 := time.Now()
	r := env.KubectlTPE(t, env.OperatorKubeconfig, "status", "-n", ns)
	once := len(env.Audit(t, t0, "kubectl-tpe"))
	t.Logf("one `kubectl tpe status`: %d API requests (exit %d)", once, r.Code)

	cmd := exec.Command(env.KubectlTPEBin, "status", "--watch", "--interval", "1s", "-n", ns)
	cmd.Env = append(noKubeconfigEnv(t), "KUBECONFIG="+env.OperatorKubeconfig)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	var mu sync.Mutex // guards blocks, text
	blocks := 0
	var text strings.Builder
	tStart := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			mu.Lock()
			if strings.HasPrefix(sc.Text(), "TPE in namespace ") {
				blocks++
			}
			text.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
	}()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Signal(syscall.SIGINT)
			<-done
			_ = cmd.Wait()
		}
	}
	defer stop()
	count := func() int { mu.Lock(); defer mu.Unlock(); return blocks }
	framework.Eventually(t, 60*time.Second, 100*time.Millisecond, "the first dashboard", func() bool { return count() >= 1 })
	time.Sleep(2 * time.Second) // the start is over once every watch is open
	tWatch := time.Now()

	const changes = 3
	for i := range changes {
		before := count()
		ev := fmt.Sprintf(`{"apiVersion":"v1","kind":"Event","metadata":{"generateName":"tpe-e2e-watch-","namespace":%q},
"type":"Warning","reason":"E2EWatch","message":"change %d","involvedObject":{"kind":"Pod","name":"e2e-watch-%d","namespace":%q},
"firstTimestamp":%q,"lastTimestamp":%q}`, ns, i, i, ns, time.Now().UTC().Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339))
		f := filepath.Join(t.TempDir(), "event.json")
		if err := os.WriteFile(f, []byte(ev), 0o600); err != nil {
			t.Fatal(err)
		}
		env.KubectlAdmin(t, "create", "-f", f)
		framework.Eventually(t, 30*time.Second, 100*time.Millisecond, fmt.Sprintf("a new block after change %d", i+1), func() bool { return count() > before })
		time.Sleep(2 * time.Second) // two quiet refresh intervals
	}
	tEnd := time.Now()
	stop()
	t.Cleanup(func() {
		_, _ = env.KubectlOK(t, env.AdminKubeconfig, "-n", ns, "delete", "events", "--field-selector", "reason=E2EWatch")
	})

	var start, after []framework.AuditEvent
	for _, e := range env.Audit(t, tStart, "kubectl-tpe") {
		if e.Time.Before(tWatch) {
			start = append(start, e)
		} else if e.Time.Before(tEnd) {
			after = append(after, e)
		}
	}
	verbs := func(evs []framework.AuditEvent) map[string]int {
		m := map[string]int{}
		for _, e := range evs {
			m[e.Verb+" "+e.Resource+sub(e.Subresource)]++
		}
		return m
	}
	t.Logf("status --watch: %d requests at the start %v; %d requests during %s with %d blocks printed (%d changes, quiet intervals of 1s)",
		len(start), verbs(start), len(after), tEnd.Sub(tWatch).Round(time.Second), count(), changes)
	if len(start) == 0 {
		t.Fatalf("no request of the watch at the start in the audit log; stderr:\n%s", stderr.String())
	}
	if len(after) != 0 {
		t.Errorf("status --watch sent %d requests after the start (want 0: watch events only): %v", len(after), verbs(after))
	}
	if count() < 1+changes {
		t.Errorf("%d blocks, want one per change (%d + the first):\n%s", count(), changes, text.String())
	}
	if !strings.Contains(text.String(), "warning event") {
		t.Errorf("the events did not show:\n%s", text.String())
	}
}

func sub(s string) string {
	if s == "" {
		return ""
	}
	return "/" + s
}
