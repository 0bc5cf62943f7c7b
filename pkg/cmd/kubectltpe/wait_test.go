package kubectltpe

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
)

func statefulSet(name string, want, ready int32) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "tpe"},
		Spec:   appsv1.StatefulSetSpec{Replicas: &want, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}},
		Status: appsv1.StatefulSetStatus{Replicas: want, ReadyReplicas: ready, AvailableReplicas: ready, UpdatedReplicas: want}}
}

func TestWaitCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		sts    *appsv1.StatefulSet
		tty    bool
		code   int
		out    string
		errOut []string
	}{
		{"ready", statefulSet("mongo", 2, 2), false, 0, "1/1 workloads ready in namespace tpe", []string{"StatefulSet/mongo 2/2 ready"}},
		{"timeout", statefulSet("mongo", 2, 1), false, 2, "", []string{"StatefulSet/mongo 1/2 waiting: 1 of 2 ready"}},
		{"live view on a terminal", statefulSet("mongo", 2, 1), true, 2, "", []string{"… StatefulSet/mongo", "0/1 workloads ready"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streams, _, out, errOut := genericiooptions.NewTestIOStreams()
			o := NewWaitOptions(streams)
			o.Client, o.Namespace, o.Timeout, o.TTY = fake.NewClientset(tt.sts), "tpe", 300*time.Millisecond, &tt.tty
			if err := o.Validate(); err != nil {
				t.Fatal(err)
			}
			err := o.Run(t.Context())
			if got := cli.ExitCode(err); got != tt.code {
				t.Fatalf("exit %d, want %d: %v", got, tt.code, err)
			}
			if tt.code == 2 && !strings.Contains(err.Error(), "StatefulSet/mongo 1/2: 1 of 2 ready") {
				t.Errorf("timeout error does not list the workload: %v", err)
			}
			if !strings.Contains(out.String(), tt.out) {
				t.Errorf("stdout %q lacks %q", out, tt.out)
			}
			for _, w := range tt.errOut {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestWaitValidate(t *testing.T) {
	t.Parallel()
	for _, o := range []*WaitOptions{{For: "complete"}, {For: "ready", Timeout: -time.Second}} {
		if err := o.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", o)
		}
	}
}

func TestStatusCommand(t *testing.T) {
	t.Parallel()
	streams, _, out, _ := genericiooptions.NewTestIOStreams()
	o := NewStatusOptions(streams)
	o.Client, o.Namespace, o.Output = fake.NewClientset(statefulSet("mongo", 1, 0)), "tpe", "json"
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	err := o.Run(t.Context())
	if cli.ExitCode(err) != 2 {
		t.Errorf("exit %d for an unhealthy namespace", cli.ExitCode(err))
	}
	var d struct {
		Kind    string `json:"kind"`
		Release struct {
			Name string `json:"name"`
		} `json:"release"`
		Checks  []struct{ ID, Status string } `json:"checks"`
		Summary struct{ Fail int }            `json:"summary"`
	}
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if d.Kind != "Status" || d.Release.Name != "mixed/unknown" || d.Summary.Fail == 0 {
		t.Errorf("status = %+v", d)
	}

	streams, _, out, _ = genericiooptions.NewTestIOStreams()
	o = NewStatusOptions(streams)
	o.Client, o.Namespace = fake.NewClientset(), "tpe"
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	_ = o.Run(t.Context())
	for _, w := range []string{"TPE in namespace tpe: release mixed/unknown", "Helm release tpe is not installed", "Status: FAILED"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("table lacks %q:\n%s", w, out)
		}
	}
	if err := (&StatusOptions{Output: "table", Color: "sometimes"}).Validate(); err == nil {
		t.Error("--color sometimes accepted")
	}
}

// The library names the bad condition; the command names its flag.
func TestWaitForFlagError(t *testing.T) {
	t.Parallel()
	o := NewWaitOptions(genericiooptions.NewTestIOStreamsDiscard())
	o.For = "complete"
	if err := o.Validate(); err == nil || !strings.HasPrefix(err.Error(), `--for: unknown condition "complete"`) {
		t.Fatalf("Validate() = %v, want the --for flag named", err)
	}
}
