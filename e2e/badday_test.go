//go:build e2e

package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The tests of this file need no cluster: they run the built plugins against bad input, dead
// API servers and signals (issue "hostile input, dead servers and Ctrl-C").

// proc is a finished plugin process.
type proc struct {
	code           int
	stdout, stderr string
	took           time.Duration // from start, or from the signal when one was sent
	maxRSSKiB      int64         // peak resident size (VmHWM) of the plugin's process
}

func (p proc) String() string {
	return fmt.Sprintf("exit %d after %s\n--- stdout\n%s\n--- stderr\n%s", p.code, p.took.Round(time.Millisecond), p.stdout, p.stderr)
}

// runPlugin runs bin with args; with sig != 0 it sends sig after delay and took is measured from
// the signal. The process is killed after limit.
func runPlugin(t *testing.T, environ []string, stdin io.Reader, sig syscall.Signal, delay, limit time.Duration, bin string, args ...string) proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Dir, cmd.Stdin = environ, t.TempDir(), stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var hwm atomic.Int64
	go func() { done <- cmd.Wait() }()
	// rusage's Maxrss would count the test process, whose pages the child shares until its exec:
	// VmHWM of the plugin's own address space is read instead, every millisecond until it exits
	// (it only grows).
	go func() {
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		name := filepath.Base(bin)[:min(15, len(filepath.Base(bin)))] // the kernel's comm: 15 bytes
		for {
			data, err := os.ReadFile(status)
			if err != nil {
				return
			}
			if kib := vmHWM(data); kib > 0 && strings.HasPrefix(string(data), "Name:\t"+name) {
				hwm.Store(kib)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	if sig != 0 {
		select {
		case err := <-done:
			t.Fatalf("%s %v ended before the signal: %v\n%s", bin, args, err, stderr.String())
		case <-time.After(delay):
		}
		_ = cmd.Process.Signal(sig)
		start = time.Now()
	}
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("%s %v: %v", filepath.Base(bin), args, err)
		}
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		t.Fatalf("%s %v still running after %s; killed\n--- stderr\n%s", filepath.Base(bin), args, limit, stderr.String())
	}
	return proc{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start), maxRSSKiB: hwm.Load()}
}

// vmHWM returns the VmHWM line of /proc/<pid>/status in KiB (0 when absent).
func vmHWM(status []byte) int64 {
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// TestBoundedInput: /dev/zero and a 200 MB values file given to every reader of user input end
// in well under a second with exit 1 and one error naming the kind and its cap, and the process
// never grows over 100 MiB (before: 24 GB, or Go's "fatal error: out of memory" and exit 2).
func TestBoundedInput(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "values-200MB.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	// A real 200 MB file (not sparse): a comment line repeated.
	line := bytes.Repeat([]byte("# padding padding padding padding padding padding padding padding\n"), 16<<10)
	for written := 0; written < 200<<20; written += len(line) {
		if _, err := f.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	chartDir := t.TempDir()
	environ := noKubeconfigEnv(t)
	tests := []struct {
		name string
		bin  string
		args []string
		want string
	}{
		{"manifest --manifest /dev/zero", env.HelmTPEBin, []string{"manifest", "--manifest", "/dev/zero"}, "--manifest: reading /dev/zero: VERSIONS file /dev/zero is larger than 64 KiB"},
		{"plan -f /dev/zero", env.HelmTPEBin, []string{"plan", "--to", "v7.3.1", "--from", "v7.2.2c", "-f", "/dev/zero"}, "values file /dev/zero is larger than 8 MiB"},
		{"plan -f 200MB", env.HelmTPEBin, []string{"plan", "--to", "v7.3.1", "--from", "v7.2.2c", "-f", big}, "values file " + big + " is larger than 8 MiB"},
		{"images --vendor-manifest /dev/zero", env.HelmTPEBin, []string{"images", "--to", "v7.3.1", "--chart-dir", chartDir, "--vendor-manifest", "/dev/zero"}, "--vendor-manifest: image list /dev/zero is larger than 4 MiB"},
		{"preflight --only values -f /dev/zero", env.KubectlTPEBin, []string{"preflight", "--only", "values", "-f", "/dev/zero"}, "values file /dev/zero is larger than 8 MiB"},
		{"preflight --only values -f 200MB", env.KubectlTPEBin, []string{"preflight", "--only", "values", "-f", big}, "values file " + big + " is larger than 8 MiB"},
		{"preflight --only tls --tls-cert /dev/zero", env.KubectlTPEBin, []string{"preflight", "--only", "tls", "--tls-cert", "/dev/zero"}, "--tls-cert: PEM file /dev/zero is larger than 1 MiB"},
		{"pum status --file /dev/zero", env.KubectlTPEBin, []string{"pum", "status", "--file", "/dev/zero"}, "--file: post-upgrade status dump /dev/zero is larger than 8 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := runPlugin(t, environ, nil, 0, 0, 30*time.Second, tt.bin, tt.args...)
			t.Logf("%s: exit %d in %s, peak RSS %d KiB", tt.name, p.code, p.took.Round(time.Millisecond), p.maxRSSKiB)
			if p.code != 1 || strings.TrimSpace(p.stderr) != "error: "+tt.want {
				t.Fatalf("want exit 1 and the one line %q: %s", "error: "+tt.want, p)
			}
			if p.took > 2*time.Second {
				t.Errorf("took %s, want well under a second", p.took)
			}
			if p.maxRSSKiB <= 0 || p.maxRSSKiB >= 100<<10 {
				t.Errorf("peak RSS %d KiB, want under 100 MiB", p.maxRSSKiB)
			}
		})
	}
}

// TestInterruptedReads: a FIFO nobody writes to, and a standard input left open, end within 2 s
// of SIGINT with exit 130 and a line saying so (before: only SIGKILL ended them); SIGTERM gives
// 143.
func TestInterruptedReads(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	environ := noKubeconfigEnv(t)
	tests := []struct {
		name  string
		bin   string
		args  []string
		stdin bool
		sig   syscall.Signal
		code  int
	}{
		{"pum status --file FIFO", env.KubectlTPEBin, []string{"pum", "status", "--file", fifo}, false, syscall.SIGINT, 130},
		{"preflight -f FIFO", env.KubectlTPEBin, []string{"preflight", "--only", "values", "-f", fifo}, false, syscall.SIGINT, 130},
		{"manifest --manifest FIFO", env.HelmTPEBin, []string{"manifest", "--manifest", fifo}, false, syscall.SIGINT, 130},
		{"plan -f FIFO, SIGTERM", env.HelmTPEBin, []string{"plan", "--to", "v7.3.1", "--from", "v7.2.2c", "-f", fifo}, false, syscall.SIGTERM, 143},
		{"pum status --file - with stdin open", env.KubectlTPEBin, []string{"pum", "status", "--file", "-"}, true, syscall.SIGINT, 130},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdin io.Reader
			if tt.stdin {
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				defer w.Close()
				defer r.Close()
				stdin = r
			}
			p := runPlugin(t, environ, stdin, tt.sig, 500*time.Millisecond, 10*time.Second, tt.bin, tt.args...)
			if p.code != tt.code || !strings.Contains(p.stderr, "interrupted (") {
				t.Fatalf("want exit %d and \"interrupted\": %s", tt.code, p)
			}
			if p.took > 2*time.Second {
				t.Errorf("ended %s after the signal, want under 2 s", p.took)
			}
		})
	}
}

// deadServers starts the API servers that do not answer: refused (nothing listens), silent
// (accepts, never finishes TLS), hanging (TLS done, never answers).
func deadServers(t *testing.T) map[string]string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex    // guards conns
	var conns []net.Conn // kept open, and referenced: a collected conn would be closed
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	stop := make(chan struct{})
	hanging := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-stop }))
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		close(stop)
		hanging.CloseClientConnections()
		hanging.Close()
	})
	return map[string]string{
		"refused": "https://127.0.0.1:1",
		"silent":  "https://" + l.Addr().String(),
		"hanging": hanging.URL,
	}
}

func kubeconfigEnv(t *testing.T, server string) []string {
	t.Helper()
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	data := "apiVersion: v1\nkind: Config\nclusters: [{name: dead, cluster: {server: \"" + server + "\", insecure-skip-tls-verify: true}}]\n" +
		"users: [{name: u, user: {token: x}}]\ncontexts: [{name: dead, context: {cluster: dead, user: u}}]\ncurrent-context: dead\n"
	if err := os.WriteFile(kc, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return append(noKubeconfigEnv(t), "KUBECONFIG="+kc)
}

var klogLine = regexp.MustCompile(`(?m)^[IWEF]\d{4} `)

// TestDeadAPIServer: whatever the command, an API server that refuses, never finishes TLS or never
// answers gives one line naming it and what to check, exit 1, within the request timeout (before:
// hangs with no end, ten klog lines, 7-9 repeated FAIL rows with exit 2, a 20-minute silent wait,
// an empty support bundle with exit 0).
func TestDeadAPIServer(t *testing.T) {
	values := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(values, []byte("global:\n  installationId: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sb := filepath.Join(t.TempDir(), "sb.tar.gz")
	commands := []struct {
		name string
		bin  string
		args []string
		want string // more than the server and KUBECONFIG
	}{
		{"preflight", env.KubectlTPEBin, []string{"preflight"}, "--context"},
		{"status", env.KubectlTPEBin, []string{"status"}, "--context"},
		{"wait", env.KubectlTPEBin, []string{"wait", "--timeout", "20m"}, "--context"},
		{"support-bundle", env.KubectlTPEBin, []string{"support-bundle", "-o", sb}, "--context"},
		{"pum status", env.KubectlTPEBin, []string{"pum", "status"}, "--context"},
		{"prereqs apply", env.KubectlTPEBin, []string{"prereqs", "apply", "--hosting", "aks", "--dry-run"}, "--context"},
		{"plan --to", env.HelmTPEBin, []string{"plan", "--to", "v7.3.1"}, "to plan without a cluster, pass --from"},
		{"upgrade", env.HelmTPEBin, []string{"upgrade", "--to", "v7.3.1", "-f", values, "--yes"}, "--kube-context"},
	}
	for server, url := range deadServers(t) {
		environ := kubeconfigEnv(t, url)
		for _, c := range commands {
			t.Run(server+"/"+c.name, func(t *testing.T) {
				p := runPlugin(t, environ, nil, 0, 0, 30*time.Second, c.bin, append(c.args, "--request-timeout", "2s")...)
				lines := strings.Split(strings.TrimSpace(p.stderr), "\n")
				if p.code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "error: the Kubernetes API server "+url+" does not answer") ||
					!strings.Contains(lines[0], "KUBECONFIG") || !strings.Contains(lines[0], c.want) {
					t.Fatalf("want exit 1 and one error line naming %s, KUBECONFIG and %q: %s", url, c.want, p)
				}
				if strings.Contains(p.stdout, "FAIL") || klogLine.MatchString(p.stderr) || strings.Contains(p.stderr, "unable to cancel") {
					t.Errorf("FAIL rows or klog lines: %s", p)
				}
				if p.took > 8*time.Second {
					t.Errorf("took %s with --request-timeout 2s", p.took)
				}
			})
		}
	}
	if _, err := os.Stat(sb); !os.IsNotExist(err) {
		t.Errorf("support-bundle wrote %s against a dead API server", sb)
	}
	servers := deadServers(t)
	t.Run("default timeout: an answer within about 30 s", func(t *testing.T) {
		for _, server := range []string{"silent", "hanging"} {
			p := runPlugin(t, kubeconfigEnv(t, servers[server]), nil, 0, 0, 60*time.Second, env.KubectlTPEBin, "preflight")
			t.Logf("%s: exit %d after %s: %s", server, p.code, p.took.Round(time.Millisecond), strings.TrimSpace(p.stderr))
			if p.code != 1 || !strings.Contains(p.stderr, servers[server]) || p.took > 35*time.Second {
				t.Errorf("%s: want exit 1 naming the server within 35 s: %s", server, p)
			}
		}
	})
	t.Run("Ctrl-C during a request that hangs", func(t *testing.T) {
		p := runPlugin(t, kubeconfigEnv(t, servers["hanging"]), nil, syscall.SIGINT, time.Second, 10*time.Second, env.HelmTPEBin, "plan", "--to", "v7.3.1")
		if p.code != 130 || !strings.Contains(p.stderr, "interrupted (Ctrl-C)") || p.took > 2*time.Second {
			t.Fatalf("want exit 130 within 2 s of Ctrl-C: %s", p)
		}
	})
}
