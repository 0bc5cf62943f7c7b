package kube

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"
)

func TestNewClientsWithoutKubeconfigNamesWhatToDo(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	missing := filepath.Join(dir, "nope")
	t.Setenv("KUBECONFIG", missing)
	_, err := NewClients(t.Context(), genericclioptions.NewConfigFlags(true))
	if err == nil {
		t.Fatal("no error without a kubeconfig")
	}
	var ke *KubeconfigError
	if !errors.As(err, &ke) {
		t.Fatalf("error %v is no *KubeconfigError", err)
	}
	worded := ke.WithFlags("--kubeconfig", "--context").Error()
	for _, want := range []string{"KUBECONFIG=" + missing, "--kubeconfig", "--context"} {
		if !strings.Contains(worded, want) {
			t.Errorf("error %q lacks %q", worded, want)
		}
	}
}

func TestNewClientsNamespaces(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"major":"1","minor":"30","gitVersion":"v1.30.0"}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	kc := filepath.Join(dir, "config")
	data := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "` + srv.URL + `"}}]
users: [{name: u, user: {token: x}}]
contexts:
- {name: plain, context: {cluster: c, user: u}}
- {name: ns, context: {cluster: c, user: u, namespace: tpe-prod}}
current-context: plain
`
	if err := os.WriteFile(kc, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, context, flagNS, want string
	}{
		{"default falls back to thingpark-enterprise", "plain", "", DefaultTPENamespace},
		{"context namespace", "ns", "", "tpe-prod"},
		{"-n wins", "ns", "other", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := genericclioptions.NewConfigFlags(true)
			f.KubeConfig, f.Context = &kc, &tt.context
			if tt.flagNS != "" {
				f.Namespace = &tt.flagNS
			}
			c, err := NewClients(t.Context(), f)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.TPENamespace(); got != tt.want {
				t.Fatalf("TPENamespace = %q, want %q", got, tt.want)
			}
		})
	}
}
