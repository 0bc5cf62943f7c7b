package pum

import (
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/thingpark-tools/kubectl-tpe/pkg/helmstore"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
)

func TestShipsManager(t *testing.T) {
	const pumDeploy = "---\n# Source: thingpark-enterprise/templates/workloads.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: pum\n  labels: {app: pum}\nspec:\n  replicas: 1\n"
	const other = "---\n# Source: thingpark-enterprise/templates/workloads.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: twa\n"
	tests := []struct {
		name, rendered string
		want           bool
	}{
		{"deploy/pum", other + pumDeploy, true},
		{"no pum", other, false},
		{"a Job named pum is not the manager", "---\nkind: Job\nmetadata:\n  name: pum\n", false},
		{"a Service named pum is not the manager", "kind: Service\nmetadata: {name: pum}\n", false},
		{"pum-process only", "---\nkind: Job\nmetadata:\n  name: pum-process\n", false},
		{"first document without separator", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: pum\n", true},
		{"separator with comment", "--- # doc\nkind: Deployment\nmetadata:\n  name: pum\n", true},
		{"broken document is skipped", "---\nkind: [\n---\nkind: Deployment\nmetadata:\n  name: pum\n", true},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ShipsManager(tt.rendered); got != tt.want {
				t.Errorf("ShipsManager = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNotShipped(t *testing.T) {
	missing := &podexec.NoReadyPodError{Target: Target("tpe"), Reason: "the deployment does not exist", Missing: true}
	_, err := Get(t.Context(), &fakeExec{replies: []reply{{err: missing}}}, "tpe")
	var ns *NotShippedError
	if !errors.As(err, &ns) || !strings.Contains(err.Error(), "no post-upgrade manager in namespace tpe") {
		t.Fatalf("Get: %v", err)
	}
	var np *podexec.NoReadyPodError
	if !errors.As(err, &np) {
		t.Error("the exec error is not kept (errors.As NoReadyPodError)")
	}
	if _, err := Restart(t.Context(), &fakeExec{replies: []reply{{err: missing}}}, "tpe"); !errors.As(err, &ns) {
		t.Errorf("Restart: %v", err)
	}
	// A deployment without a ready pod is not "no manager".
	_, err = Get(t.Context(), &fakeExec{replies: []reply{{err: &podexec.NoReadyPodError{Reason: "0 pods"}}}}, "tpe")
	if errors.As(err, &ns) {
		t.Errorf("no ready pod reported as no manager: %v", err)
	}

	// Explain names the installed chart and release.
	m := manifest.MustLoad()
	r80, _ := m.Get("v8.0.0")
	var objs []helmstore.Release
	for _, c := range r80.Charts() {
		objs = append(objs, helmstore.Release{Name: c.ReleaseName, Namespace: "tpe", Revision: 1, Status: "deployed", Chart: c.Chart, ChartVersion: c.Version})
	}
	cs := fake.NewClientset()
	for _, r := range objs {
		s, err := helmstore.Secret(r, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CoreV1().Secrets("tpe").Create(t.Context(), s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = Get(t.Context(), &fakeExec{replies: []reply{{err: missing}}}, "tpe")
	err = Explain(t.Context(), cs, m, err)
	for _, want := range []string{"TPE v8.0.0 (thingpark-enterprise-2.0.0)", "has no post-upgrade manager", "deploy/pum does not exist"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	other := errors.New("boom")
	if got := Explain(t.Context(), cs, m, other); !errors.Is(got, other) || got.Error() != other.Error() {
		t.Error("Explain changed another error")
	}
}
