package fleet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// kubeconfig writes a kubeconfig with one context per server (name → URL), token credentials.
func kubeconfig(t *testing.T, servers map[string]string, token string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\nclusters:\n")
	for n, u := range servers {
		fmt.Fprintf(&b, "- name: %s\n  cluster: {server: %q, insecure-skip-tls-verify: true}\n", n, u)
	}
	b.WriteString("users:\n- name: u\n  user: {token: " + token + "}\ncontexts:\n")
	for n := range servers {
		fmt.Fprintf(&b, "- name: %s\n  context: {cluster: %s, user: u, namespace: ns-%s}\n", n, n, n)
	}
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// apiServer answers /version with v1.33.1 for token "good", 401 otherwise.
func apiServer(t *testing.T, hits *atomic.Int64) string {
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != "Bearer good-token-123456" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`))
			return
		}
		_, _ = w.Write([]byte(`{"major":"1","minor":"33","gitVersion":"v1.33.1"}`))
	}))
	t.Cleanup(s.Close)
	return s.URL
}

// silent accepts connections and never answers.
func silent(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex // guards conns
	var conns []net.Conn
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
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "https://" + l.Addr().String()
}

func TestRunRowsPerInstallation(t *testing.T) {
	var hits atomic.Int64
	good := apiServer(t, &hits)
	kc := kubeconfig(t, map[string]string{"a": good, "b": good, "hang": silent(t), "gone": "https://127.0.0.1:1"}, "good-token-123456")
	bad := kubeconfig(t, map[string]string{"refused": good}, "wrong-token-123456")
	ins := []Installation{
		{Name: "a", Kubeconfig: kc, Context: "a"},
		{Name: "b", Kubeconfig: kc, Context: "b", Namespace: "tpe-b"},
		{Name: "hang", Kubeconfig: kc, Context: "hang"},
		{Name: "gone", Kubeconfig: kc, Context: "gone"},
		{Name: "refused", Kubeconfig: bad, Context: "refused"},
		{Name: "typo", Kubeconfig: kc, Context: "nope"},
		{Name: "slow", Kubeconfig: kc, Context: "a"},
	}
	start := time.Now()
	rs := Run(t.Context(), ins, Config{Timeout: 1500 * time.Millisecond, RequestTimeout: 10 * time.Second,
		Redact: func(s string) string { return strings.ReplaceAll(s, "good-token-123456", "****") }},
		func(ctx context.Context, tg *Target) (string, error) {
			if tg.Name == "slow" {
				<-ctx.Done()
				time.Sleep(time.Hour) // ignores its context: the row must not wait for it
			}
			return tg.Namespace, nil
		})
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("the run took %s: the installations did not run concurrently within their limit", took)
	}
	want := []struct {
		kind ErrorKind
		ns   string
	}{{"", "ns-a"}, {"", "tpe-b"}, {ErrTimeout, ""}, {ErrUnreachable, ""}, {ErrUnauthorized, ""}, {ErrKubeconfig, ""}, {ErrTimeout, ""}}
	for i, w := range want {
		r := rs[i]
		if r.Name != ins[i].Name {
			t.Fatalf("row %d is %s, want %s (input order)", i, r.Name, ins[i].Name)
		}
		got := ErrorKind("")
		if r.Error != nil {
			got = r.Error.Kind
			if strings.Contains(r.Error.Message, "good-token") || strings.Contains(r.Error.Message, "wrong-token") {
				t.Errorf("%s: the error shows a token: %s", r.Name, r.Error.Message)
			}
		}
		if got != w.kind {
			t.Errorf("%s: error kind %q (%v), want %q", r.Name, got, r.Error, w.kind)
		}
		if w.ns != "" && (r.Value != w.ns || r.Namespace != w.ns) {
			t.Errorf("%s: namespace %q/%q, want %q", r.Name, r.Value, r.Namespace, w.ns)
		}
		if w.kind == "" && (r.KubernetesVersion != "v1.33.1" || r.Requests != 1 || r.Cluster != good) {
			t.Errorf("%s: version %q, %d requests, cluster %q", r.Name, r.KubernetesVersion, r.Requests, r.Cluster)
		}
	}
	if Failed(rs) != 5 {
		t.Errorf("Failed = %d, want 5", Failed(rs))
	}
}

func TestRunBoundsConcurrency(t *testing.T) {
	var now, peak atomic.Int64
	ins := make([]Installation, 10)
	for i := range ins {
		ins[i] = Installation{Name: fmt.Sprint(i)}
	}
	rs := Run(t.Context(), ins, Config{Concurrency: 3,
		Connect: func(context.Context, Installation, Config) (*Target, error) { return &Target{}, nil }},
		func(ctx context.Context, _ *Target) (int, error) {
			n := now.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(20 * time.Millisecond)
			now.Add(-1)
			return 1, nil
		})
	if peak.Load() != 3 {
		t.Errorf("peak concurrency %d, want 3", peak.Load())
	}
	if Failed(rs) != 0 {
		t.Errorf("%d rows failed", Failed(rs))
	}
}

func TestRunUseCaseError(t *testing.T) {
	rs := Run(t.Context(), []Installation{{Name: "x"}}, Config{
		Connect: func(context.Context, Installation, Config) (*Target, error) { return &Target{}, nil }},
		func(context.Context, *Target) (int, error) { return 0, errors.New("boom at https://user:pw@host/x") })
	if rs[0].Error == nil || rs[0].Error.Kind != ErrOther || strings.Contains(rs[0].Error.Message, "pw") {
		t.Errorf("row error %+v", rs[0].Error)
	}
	rs = Run(t.Context(), []Installation{{Name: "x"}}, Config{
		Connect: func(context.Context, Installation, Config) (*Target, error) { return &Target{}, nil }},
		func(context.Context, *Target) (int, error) { return 0, &ForbiddenError{Namespace: "tpe"} })
	if rs[0].Error == nil || rs[0].Error.Kind != ErrForbidden {
		t.Errorf("row error %+v, want forbidden", rs[0].Error)
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	kc := kubeconfig(t, map[string]string{"b": "https://b", "a": "https://a"}, "t")
	tests := []struct {
		name    string
		sel     Selection
		file    string
		want    []Installation
		wantErr string
	}{
		{name: "contexts in order, duplicates once", sel: Selection{Contexts: []string{"b", "a", "b"}, Kubeconfig: kc, Namespace: "n"},
			want: []Installation{{Name: "b", Kubeconfig: kc, Context: "b", Namespace: "n"}, {Name: "a", Kubeconfig: kc, Context: "a", Namespace: "n"}}},
		{name: "all contexts sorted", sel: Selection{AllContexts: true, Kubeconfig: kc},
			want: []Installation{{Name: "a", Kubeconfig: kc, Context: "a"}, {Name: "b", Kubeconfig: kc, Context: "b"}}},
		{name: "fleet file", file: "installations:\n- {name: prod, kubeconfig: prod.yaml, context: p, namespace: tpe}\n- {context: s}\n",
			sel:  Selection{Kubeconfig: kc, Namespace: "dflt"},
			want: []Installation{{Name: "prod", Kubeconfig: filepath.Join(dir, "prod.yaml"), Context: "p", Namespace: "tpe"}, {Name: "s", Kubeconfig: kc, Context: "s", Namespace: "dflt"}}},
		{name: "duplicate names", file: "installations:\n- {name: x, context: a}\n- {name: x, context: b}\n", wantErr: "installations 1 and 2 are both named \"x\""},
		{name: "unknown key", file: "installations:\n- {name: x, cluster: a}\n", wantErr: "is not a list of installations"},
		{name: "empty", file: "installations: []\n", wantErr: "lists no installation"},
		{name: "no name", file: "installations:\n- {namespace: a}\n", wantErr: "installation 1 has no name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.file != "" {
				tt.sel.File = filepath.Join(dir, "fleet.yaml")
				if err := os.WriteFile(tt.sel.File, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Resolve(t.Context(), tt.sel)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
