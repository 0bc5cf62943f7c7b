package kube

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// silentListener accepts connections and never writes a byte: a TLS handshake never completes.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); l.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	return "https://" + l.Addr().String()
}

// hangingTLSServer completes TLS and never answers a request.
func hangingTLSServer(t *testing.T) string {
	t.Helper()
	stop := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-stop }))
	t.Cleanup(func() { close(stop); srv.Close() })
	return srv.URL
}

func kubeconfigFor(t *testing.T, server string) *genericclioptions.ConfigFlags {
	t.Helper()
	kc := filepath.Join(t.TempDir(), "config")
	data := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "` + server + `", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`
	if err := os.WriteFile(kc, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	f := genericclioptions.NewConfigFlags(true)
	timeout := "1s"
	f.KubeConfig, f.Timeout = &kc, &timeout
	return f
}

// TestNewClientsDeadServers: a refusing, a silent (TLS never finishes) and a hanging (TLS done,
// no answer) API server each give one UnreachableError naming the server, within the timeout.
func TestNewClientsDeadServers(t *testing.T) {
	tests := []struct {
		name, server, reason string
	}{
		{"refused", "https://127.0.0.1:1", "connection refused"},
		{"TLS never finishes", silentListener(t), "no answer within 1s"},
		{"never answers", hangingTLSServer(t), "no answer within 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := NewClients(t.Context(), kubeconfigFor(t, tt.server))
			took := time.Since(start)
			var ue *UnreachableError
			if !errors.As(err, &ue) {
				t.Fatalf("want an UnreachableError, got %v", err)
			}
			if !strings.Contains(err.Error(), tt.server) || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q should name %s and say %q", err, tt.server, tt.reason)
			}
			if took > 5*time.Second {
				t.Errorf("took %s with a 1s timeout", took)
			}
		})
	}
}

// TestProbeAnswerIsReachable: any HTTP answer (here 401) means the server is there; the
// command's requests report the status themselves.
func TestProbeAnswerIsReachable(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}`, http.StatusUnauthorized)
	}))
	defer srv.Close()
	if _, err := NewClients(t.Context(), kubeconfigFor(t, srv.URL)); err != nil {
		t.Fatalf("a 401 is an answer: %v", err)
	}
}

// TestRequestTimeoutSparesStreams: the timeout bounds the wait for the headers, not a body that
// streams longer (a watch, a log), and an interrupted caller is not a dead server.
func TestRequestTimeoutSparesStreams(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		time.Sleep(1500 * time.Millisecond)
		_, _ = w.Write([]byte("late"))
	}))
	defer srv.Close()
	rt := &answerTimeout{rt: http.DefaultTransport, timeout: 500 * time.Millisecond, host: srv.URL}
	resp, err := (&http.Client{Transport: rt}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil || b.String() != "late" {
		t.Fatalf("body %q, %v: the stream was cut", b.String(), err)
	}
}

// TestHealthNotifiesOnce: a run of failed requests is one "stopped answering", the next answer
// one "answers again".
func TestHealthNotifiesOnce(t *testing.T) {
	var lines bytes.Buffer
	h := &Health{}
	h.OnChange(HealthLines(&lines))
	fail := true
	rt := h.wrap(roundTripFunc(func(*http.Request) (*http.Response, error) {
		if fail {
			return nil, &NoAnswerError{Host: "https://api", After: time.Second}
		}
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	}), "https://api")
	req, _ := http.NewRequest(http.MethodGet, "https://api/version", nil)
	for range 3 {
		_, _ = rt.RoundTrip(req)
	}
	fail = false
	for range 2 {
		_, _ = rt.RoundTrip(req)
	}
	want := "warning: the Kubernetes API server https://api stopped answering (no answer within 1s); retrying until the timeout\n" +
		"the Kubernetes API server https://api answers again\n"
	if lines.String() != want {
		t.Fatalf("lines:\n%s\nwant:\n%s", lines.String(), want)
	}
}
