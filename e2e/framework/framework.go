// Package framework is the end-to-end test harness: one local Kubernetes control plane (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, kwok; see hack/cluster) and one local
// basic-auth chart repository (internal/chartrepo) per test run, and helpers that run the plugins, the
// real kubectl and the real helm against them as the cluster admin or as the TPE operator.
//
// TestMain (e2e/main_test.go) calls Start once and Env.Stop at the end; tests only use *Env.
package framework

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/internal/chartrepo"
)

// Env is the running test environment.
type Env struct {
	Root                                string // repo root
	RunDir                              string // cluster run dir (pki, kubeconfigs, logs)
	BinDir                              string // cluster binaries: kubectl, helm, kube-apiserver, ...
	Kubectl, Helm                       string // paths of the real kubectl v1.37.2 and helm v3.21.4
	KubectlTPEBin, HelmTPEBin           string // plugins built from this checkout for the run
	AdminKubeconfig, OperatorKubeconfig string
	Namespace                           string // "thingpark-enterprise" (operator RBAC is bound here)
	RepoURL                             string // http://127.0.0.1:PORT/charts (basic auth user=password=installation ID)
	InstallationID                      string // the repo's valid ID (a secret: must never appear in outputs)
	InstallationIDFile                  string
	FakeState                           string // state dir of the fake in-pod commands (pum, thingpark-enterprise-controller)
	AuditLog                            string // apiserver audit log (JSON lines, level Metadata)

	// ReleasesDir holds the fixture releases' VERSIONS files: ReleasesDir/<tag>/VERSIONS.
	ReleasesDir string
	// RepoFaults switches the chart repository's failure mode (see SetRepoFault).
	RepoFaults *chartrepo.Faults
	// HelmHome holds the isolated HELM_CONFIG_HOME, HELM_CACHE_HOME and HELM_DATA_HOME of the run.
	HelmHome string
	// CommandTimeout bounds every command run through Env (default 10 minutes).
	CommandTimeout time.Duration

	ownCluster bool
	pluginDir  string // temporary dir of the plugin binaries, removed by Stop
	repoServer *http.Server
	watchdog   *os.Process
	log        io.Writer
}

// Result is the outcome of one command.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// String summarises r for failure messages.
func (r Result) String() string {
	return fmt.Sprintf("exit code %d\n--- stdout\n%s\n--- stderr\n%s", r.Code, r.Stdout, r.Stderr)
}

// AuditEvent is one completed API request from the apiserver audit log.
type AuditEvent struct {
	Verb, Resource, Subresource, APIGroup, Namespace, Name string
	UserAgent, User                                        string
	Code                                                   int
	URI                                                    string
	Time                                                   time.Time
}

// Options configures Start.
type Options struct {
	// Root is the repository root (default: found from the working directory).
	Root string
	// Log receives progress lines (default os.Stderr).
	Log io.Writer
	// RunDir, if set, is used instead of a new temporary run dir. If a cluster already runs there
	// (e.g. `make cluster-up`), it is reused and not stopped by Stop. Env TPE_E2E_RUN_DIR sets it too.
	RunDir string
}

// Start builds both plugins, builds the cluster binaries if their stamp is missing
// (hack/cluster/build.sh), starts the cluster and the chart repository, and returns the Env.
// Whatever happens later, call Stop. A watchdog process stops the cluster if the test process dies
// without calling Stop (panic, `go test -timeout`, signal).
func Start(ctx context.Context, opts Options) (e *Env, err error) {
	e = &Env{log: opts.Log, CommandTimeout: 10 * time.Minute, Namespace: "thingpark-enterprise"}
	if e.log == nil {
		e.log = os.Stderr
	}
	defer func() {
		if err != nil {
			e.Stop()
		}
	}()
	if e.Root = opts.Root; e.Root == "" {
		if e.Root, err = findRoot(); err != nil {
			return e, err
		}
	}
	e.ReleasesDir = filepath.Join(e.Root, "testdata", "releases")
	t0 := time.Now()
	if err := e.buildPlugins(ctx); err != nil {
		return e, err
	}
	e.logf("built kubectl-tpe and helm-tpe in %s", time.Since(t0).Round(time.Millisecond))

	t0 = time.Now()
	cluster := filepath.Join(e.Root, "hack", "cluster")
	out, err := e.script(ctx, "bash", "-c", `. "$1/versions.sh"; echo "$CLUSTER_BIN"`, "_", cluster)
	if err != nil {
		return e, err
	}
	e.BinDir = strings.TrimSpace(out)
	if _, err := e.script(ctx, filepath.Join(cluster, "build.sh"), e.BinDir); err != nil {
		return e, fmt.Errorf("build cluster binaries: %w", err)
	}
	e.logf("cluster binaries ready in %s (%s)", time.Since(t0).Round(time.Millisecond), e.BinDir)
	e.Kubectl, e.Helm = filepath.Join(e.BinDir, "kubectl"), filepath.Join(e.BinDir, "helm")

	runDir := opts.RunDir
	if runDir == "" {
		runDir = os.Getenv("TPE_E2E_RUN_DIR")
	}
	reuse := false
	if runDir != "" {
		if _, err := os.Stat(filepath.Join(runDir, "pid", "kube-apiserver")); err == nil {
			reuse = true
		}
	} else if runDir, err = os.MkdirTemp("", "tpe-e2e-"); err != nil {
		return e, err
	}
	e.RunDir = runDir
	e.AdminKubeconfig = filepath.Join(runDir, "admin.kubeconfig")
	e.OperatorKubeconfig = filepath.Join(runDir, "operator.kubeconfig")
	e.FakeState = filepath.Join(runDir, "fake")
	e.AuditLog = filepath.Join(runDir, "audit.log")
	e.HelmHome = filepath.Join(runDir, "helm-home")
	if reuse {
		e.logf("reusing the running cluster in %s", runDir)
	} else {
		t0 = time.Now()
		e.ownCluster = true
		if _, err := e.script(ctx, filepath.Join(cluster, "start.sh"), runDir); err != nil {
			return e, fmt.Errorf("start cluster (logs in %s/log): %w", runDir, err)
		}
		e.logf("cluster started in %s (run dir %s)", time.Since(t0).Round(time.Millisecond), runDir)
		e.startWatchdog(cluster)
	}
	if err := e.startRepo(); err != nil {
		return e, err
	}
	return e, nil
}

// Stop stops the chart repository and the cluster (only if Start started it). Safe to call twice.
func (e *Env) Stop() {
	if e == nil {
		return
	}
	if e.repoServer != nil {
		_ = e.repoServer.Close()
		e.repoServer = nil
	}
	if e.ownCluster && e.RunDir != "" {
		_, _ = e.script(context.Background(), filepath.Join(e.Root, "hack", "cluster", "stop.sh"), e.RunDir)
		e.ownCluster = false
	}
	if e.watchdog != nil {
		_ = e.watchdog.Kill()
		_, _ = e.watchdog.Wait()
		e.watchdog = nil
	}
	if e.pluginDir != "" {
		_ = os.RemoveAll(e.pluginDir)
		e.pluginDir = ""
	}
}

// Cleanup removes the run dir of a cluster Start created (call after Stop, e.g. when all tests passed).
func (e *Env) Cleanup() {
	if e != nil && e.RunDir != "" && strings.HasPrefix(filepath.Base(e.RunDir), "tpe-e2e-") {
		_ = os.RemoveAll(e.RunDir)
	}
}

func (e *Env) logf(format string, args ...any) {
	fmt.Fprintf(e.log, "e2e: "+format+"\n", args...)
}

func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "hack", "cluster", "start.sh")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("e2e: repository root not found (no go.mod with hack/cluster/start.sh above the working directory)")
		}
		dir = parent
	}
}

func (e *Env) buildPlugins(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "tpe-e2e-bin-")
	if err != nil {
		return err
	}
	e.pluginDir = dir
	// The e2e tag adds the plugins' test hooks (pkg/cmd/helmtpe/e2ehook.go), which the released
	// binaries do not have.
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "e2e", "-o", dir+string(os.PathSeparator), "./cmd/kubectl-tpe", "./cmd/helm-tpe")
	cmd.Dir = e.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build plugins: %w\n%s", err, out)
	}
	e.KubectlTPEBin = filepath.Join(dir, "kubectl-tpe")
	e.HelmTPEBin = filepath.Join(dir, "helm-tpe")
	return nil
}

// script runs a harness script, streaming its stderr to the log, and returns its stdout.
func (e *Env) script(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out, e.log)
	cmd.Stderr = e.log
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s: %w", filepath.Base(name), err)
	}
	return out.String(), nil
}

// startWatchdog starts a detached shell that runs stop.sh once this process is gone.
func (e *Env) startWatchdog(cluster string) {
	cmd := exec.Command("bash", "-c", `while kill -0 "$1" 2>/dev/null; do sleep 2; done; exec "$2/stop.sh" "$3"`,
		"watchdog", fmt.Sprint(os.Getpid()), cluster, e.RunDir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		e.logf("warning: no watchdog (%v); the cluster is only stopped by Stop", err)
		return
	}
	e.watchdog = cmd.Process
}

func (e *Env) startRepo() error {
	id, err := randomID(24)
	if err != nil {
		return err
	}
	e.InstallationID = id
	e.InstallationIDFile = filepath.Join(e.RunDir, "installation-id")
	if err := os.WriteFile(e.InstallationIDFile, []byte(id+"\n"), 0o600); err != nil {
		return err
	}
	e.RepoFaults = &chartrepo.Faults{}
	h, err := chartrepo.New(chartrepo.Config{
		ChartsDir:      filepath.Join(e.Root, "testdata", "charts"),
		ReleasesDir:    e.ReleasesDir,
		InstallationID: id,
		Faults:         e.RepoFaults,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	e.repoServer = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.repoServer.Serve(ln) }()
	e.RepoURL = "http://" + ln.Addr().String() + "/charts"
	e.logf("chart repository at %s", e.RepoURL)
	return nil
}

// StopRepo stops the chart repository until the test ends: connections to it are refused, as
// at a site that cannot reach the vendor. It listens again, at the same address, at cleanup.
func (e *Env) StopRepo(t testing.TB) {
	t.Helper()
	addr := strings.TrimSuffix(strings.TrimPrefix(e.RepoURL, "http://"), "/charts")
	h := e.repoServer.Handler
	if err := e.repoServer.Close(); err != nil {
		t.Fatalf("stopping the chart repository: %v", err)
	}
	t.Cleanup(func() {
		var ln net.Listener
		var err error
		for range 50 { // the port may linger for a moment
			if ln, err = net.Listen("tcp", addr); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("restarting the chart repository at %s: %v", addr, err)
			return
		}
		e.repoServer = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = e.repoServer.Serve(ln) }()
	})
}

func randomID(n int) (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b), nil
}

// baseEnv is the environment of every command: the caller's, minus kubeconfig and Helm settings,
// plus an isolated Helm home and the cluster binaries first in PATH.
func (e *Env) baseEnv(kubeconfig string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "KUBECONFIG" || strings.HasPrefix(k, "HELM_") || k == "PATH" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"PATH="+e.BinDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HELM_CONFIG_HOME="+filepath.Join(e.HelmHome, "config"),
		"HELM_CACHE_HOME="+filepath.Join(e.HelmHome, "cache"),
		"HELM_DATA_HOME="+filepath.Join(e.HelmHome, "data"),
	)
	if kubeconfig != "" {
		env = append(env, "KUBECONFIG="+kubeconfig)
	}
	return env
}

// Run runs bin with args and the given environment (nil: the base environment without kubeconfig),
// bounded by CommandTimeout. It fails the test only if bin cannot be started.
func (e *Env) Run(t testing.TB, env []string, stdin io.Reader, bin string, args ...string) Result {
	t.Helper()
	if env == nil {
		env = e.baseEnv("")
	}
	timeout := e.CommandTimeout
	if timeout == 0 {
		timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Dir = e.Root
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Fatalf("%s %s: timed out after %s\n%s", filepath.Base(bin), strings.Join(args, " "), timeout, r)
	case errors.As(err, &exitErr):
		r.Code = exitErr.ExitCode()
	default:
		t.Fatalf("run %s: %v", bin, err)
	}
	return r
}

// KubectlTPE runs the built kubectl-tpe with KUBECONFIG=kubeconfig (as kubectl runs a plugin).
func (e *Env) KubectlTPE(t testing.TB, kubeconfig string, args ...string) Result {
	t.Helper()
	return e.Run(t, e.baseEnv(kubeconfig), nil, e.KubectlTPEBin, args...)
}

// KubectlTPEEnv is KubectlTPE with extraEnv (e.g. the configuration repository's address).
func (e *Env) KubectlTPEEnv(t testing.TB, kubeconfig string, extraEnv []string, args ...string) Result {
	t.Helper()
	return e.Run(t, append(e.baseEnv(kubeconfig), extraEnv...), nil, e.KubectlTPEBin, args...)
}

// HelmTPE runs the built helm-tpe with KUBECONFIG=kubeconfig, the run's isolated HELM_*_HOME dirs and
// extraEnv (e.g. "HELM_NAMESPACE=...", as helm exports to plugins; later entries win).
func (e *Env) HelmTPE(t testing.TB, kubeconfig string, extraEnv []string, args ...string) Result {
	t.Helper()
	return e.Run(t, append(e.baseEnv(kubeconfig), extraEnv...), nil, e.HelmTPEBin, args...)
}

// HelmCLI runs the real helm v3.21.4 with KUBECONFIG=kubeconfig and the run's isolated Helm home.
func (e *Env) HelmCLI(t testing.TB, kubeconfig string, args ...string) Result {
	t.Helper()
	return e.Run(t, e.baseEnv(kubeconfig), nil, e.Helm, args...)
}

// KubectlAdmin runs the real kubectl as cluster admin and returns its stdout; t.Fatal on error.
func (e *Env) KubectlAdmin(t testing.TB, args ...string) string {
	t.Helper()
	out, err := e.KubectlOK(t, e.AdminKubeconfig, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// KubectlOK runs the real kubectl with kubeconfig and returns its stdout; the error carries stderr.
func (e *Env) KubectlOK(t testing.TB, kubeconfig string, args ...string) (string, error) {
	t.Helper()
	r := e.Run(t, e.baseEnv(kubeconfig), nil, e.Kubectl, args...)
	if r.Code != 0 {
		return r.Stdout, fmt.Errorf("kubectl %s: exit %d: %s", strings.Join(args, " "), r.Code, strings.TrimSpace(r.Stderr))
	}
	return r.Stdout, nil
}

var pumScenario = regexp.MustCompile(`^(done|progress|aborted|sample|garbage|progress:[1-9][0-9]*)$`)

// SetPUM selects what the fake post-upgrade manager's `status` prints (hack/cluster/fakebin/status):
// "done" (all PROCESSED/SKIPPED), "progress" (INIT/IN_PROGRESS/PARTIALLY_PROCESSED/TRANSIENT_ERROR),
// "progress:N" (progress for the next N `status` calls, then done), "aborted" (one ABORTED) or
// "sample" (the sample of the TPE upgrade procedure byte for byte) or "garbage" (not the PUM format: a
// stack trace). The scenario is reset to "done" when the test ends.
func (e *Env) SetPUM(t testing.TB, scenario string) {
	t.Helper()
	if !pumScenario.MatchString(scenario) {
		t.Fatalf("SetPUM: unknown scenario %q (want done, progress, progress:N, aborted, sample or garbage)", scenario)
	}
	write := func(s string) error {
		dir := filepath.Join(e.FakeState, "pum")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "scenario"), []byte(s+"\n"), 0o644)
	}
	if err := write(scenario); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = write("done") })
}

// PUMRestarts returns how many times the fake `restart` ran since the cluster started.
func (e *Env) PUMRestarts(t testing.TB) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.FakeState, "pum", "restarts"))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	} else if err != nil {
		t.Fatal(err)
	}
	var n int
	_, _ = fmt.Sscan(string(b), &n)
	return n
}

// FailController makes the fake thingpark-enterprise-controller command cmd ("backup", "list-backups",
// "get-backup-metadatas" or "restore") fail with message until the test ends.
func (e *Env) FailController(t testing.TB, cmd, message string) {
	t.Helper()
	f := filepath.Join(e.FakeState, "controller", "fail-"+cmd)
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, []byte(message+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(f) })
}

// Backups returns the names of the backups the fake controller holds, oldest first.
func (e *Env) Backups(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.FakeState, "controller", "backups"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	return names
}

// Restores returns the backup names restored by the fake controller, in order.
func (e *Env) Restores(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.FakeState, "controller", "restores.log"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			names = append(names, f[1])
		}
	}
	return names
}

// ResetController deletes the fake controller's backups, restores and injected failures.
func (e *Env) ResetController(t testing.TB) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(e.FakeState, "controller")); err != nil {
		t.Fatal(err)
	}
}

// SetRepoFault switches the chart repository's failure mode until the test ends.
func (e *Env) SetRepoFault(t testing.TB, f chartrepo.Fault) {
	t.Helper()
	e.RepoFaults.Set(f)
	t.Cleanup(func() { e.RepoFaults.Set(chartrepo.FaultNone) })
}

type auditLine struct {
	Stage                    string    `json:"stage"`
	RequestURI               string    `json:"requestURI"`
	Verb                     string    `json:"verb"`
	UserAgent                string    `json:"userAgent"`
	RequestReceivedTimestamp time.Time `json:"requestReceivedTimestamp"`
	User                     struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		APIGroup    string `json:"apiGroup"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

// Audit returns the completed API requests received at or after since whose user agent contains
// userAgentContains ("" = all), in log order. Control-plane users (kcm, scheduler, kwok) are not
// audited. The Go client's default user agent starts with the binary name, e.g. "kubectl-tpe/".
func (e *Env) Audit(t testing.TB, since time.Time, userAgentContains string) []AuditEvent {
	t.Helper()
	time.Sleep(300 * time.Millisecond) // the apiserver writes the event right after the response
	f, err := os.Open(e.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []AuditEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var l auditLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			continue
		}
		if (l.Stage != "ResponseComplete" && l.Stage != "Panic") || l.RequestReceivedTimestamp.Before(since) {
			continue
		}
		if userAgentContains != "" && !strings.Contains(l.UserAgent, userAgentContains) {
			continue
		}
		ev := AuditEvent{Verb: l.Verb, UserAgent: l.UserAgent, User: l.User.Username, URI: l.RequestURI, Time: l.RequestReceivedTimestamp}
		if o := l.ObjectRef; o != nil {
			ev.Resource, ev.Subresource, ev.APIGroup, ev.Namespace, ev.Name = o.Resource, o.Subresource, o.APIGroup, o.Namespace, o.Name
		}
		if l.ResponseStatus != nil {
			ev.Code = l.ResponseStatus.Code
		}
		events = append(events, ev)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return events
}

// RestartAPIServer stops the kube-apiserver and starts it again with the same flags; it returns
// once /readyz answers.
func (e *Env) RestartAPIServer(t testing.TB) {
	t.Helper()
	out, err := e.script(context.Background(), filepath.Join(e.Root, "hack", "cluster", "restart-apiserver.sh"), e.RunDir)
	if err != nil {
		t.Fatalf("restart apiserver: %v\n%s", err, out)
	}
}

// GrantOperator binds the operator profile (admin ClusterRole + all verbs on kafka.strimzi.io and
// psmdb.percona.com) to the operator user in namespace, creating the namespace if needed. The
// bindings, and the namespace if GrantOperator created it, are deleted when the test ends.
func (e *Env) GrantOperator(t testing.TB, namespace string) {
	t.Helper()
	created := false
	if _, err := e.KubectlOK(t, e.AdminKubeconfig, "get", "namespace", namespace); err != nil {
		e.KubectlAdmin(t, "create", "namespace", namespace)
		created = true
	}
	r := e.Run(t, nil, nil, filepath.Join(e.Root, "hack", "cluster", "operator-rbac.sh"), namespace)
	if r.Code != 0 {
		t.Fatalf("operator-rbac.sh: %s", r)
	}
	apply := e.Run(t, e.baseEnv(e.AdminKubeconfig), strings.NewReader(r.Stdout), e.Kubectl, "apply", "-f", "-")
	if apply.Code != 0 {
		t.Fatalf("grant operator in %s: %s", namespace, apply)
	}
	t.Cleanup(func() {
		if namespace == e.Namespace {
			return // the run's own operator binding stays
		}
		if created {
			_, _ = e.KubectlOK(t, e.AdminKubeconfig, "delete", "namespace", namespace, "--wait=false")
			return
		}
		_, _ = e.KubectlOK(t, e.AdminKubeconfig, "-n", namespace, "delete", "rolebinding,role", "-l", "tpe.test/harness=operator", "--ignore-not-found")
	})
}

// Eventually polls cond every interval until it returns true or timeout passes, then fails the test
// with msg.
func Eventually(t testing.TB, timeout, interval time.Duration, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s: %s", timeout, msg)
		}
		time.Sleep(interval)
	}
}
