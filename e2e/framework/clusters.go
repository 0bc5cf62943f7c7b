package framework

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Cluster is one more local control plane beside the run's (several TPE installations at once):
// it shares the run's binaries, plugins, chart repository and Helm home, and has its own ports,
// PKI, kubeconfigs and audit log.
type Cluster struct {
	RunDir                              string
	AdminKubeconfig, OperatorKubeconfig string
	AuditLog                            string
}

// StartCluster starts another control plane with hack/cluster/start.sh in a new run dir and stops
// it (stop.sh) when the test ends. Without kwok (kwok false) it has no node: no pod ever runs,
// and it costs etcd, kube-apiserver, kube-controller-manager and kube-scheduler only.
func (e *Env) StartCluster(t testing.TB, kwok bool) *Cluster {
	t.Helper()
	dir, err := os.MkdirTemp("", "tpe-e2e-extra-")
	if err != nil {
		t.Fatal(err)
	}
	cluster := filepath.Join(e.Root, "hack", "cluster")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(cluster, "start.sh"), dir)
	cmd.Env = append(os.Environ(), "CLUSTER_BIN="+e.BinDir)
	if !kwok {
		cmd.Env = append(cmd.Env, "NO_KWOK=1")
	}
	cmd.Stdout, cmd.Stderr = e.log, e.log
	t0 := time.Now()
	stop := func() {
		_, _ = e.script(context.Background(), filepath.Join(cluster, "stop.sh"), dir)
		if !t.Failed() {
			_ = os.RemoveAll(dir)
		}
	}
	// A watchdog stops it if the test process dies without its cleanup.
	wd := exec.Command("bash", "-c", `while kill -0 "$1" 2>/dev/null; do sleep 2; done; exec "$2/stop.sh" "$3"`,
		"watchdog", strconv.Itoa(os.Getpid()), cluster, dir)
	if err := cmd.Run(); err != nil {
		stop()
		t.Fatalf("start another cluster (logs in %s/log): %v", dir, err)
	}
	if err := wd.Start(); err == nil {
		t.Cleanup(func() { _ = wd.Process.Kill(); _, _ = wd.Process.Wait() })
	}
	t.Cleanup(stop)
	e.logf("another cluster started in %s (run dir %s, kwok %v)", time.Since(t0).Round(time.Millisecond), dir, kwok)
	return &Cluster{RunDir: dir, AdminKubeconfig: filepath.Join(dir, "admin.kubeconfig"),
		OperatorKubeconfig: filepath.Join(dir, "operator.kubeconfig"), AuditLog: filepath.Join(dir, "audit.log")}
}
