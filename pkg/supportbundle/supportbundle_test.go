package supportbundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/helmstore"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
)

const ns = "tpe"

type fakeExec struct{ stdout string }

func (f fakeExec) Exec(context.Context, podexec.Target, []string, io.Reader) (podexec.Result, error) {
	return podexec.Result{Pod: "pum-1", Stdout: f.stdout}, nil
}

func untar(t *testing.T, b []byte) map[string]string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		out[h.Name] = string(data)
	}
}

func TestBundle(t *testing.T) {
	helmSecret, err := helmstore.Secret(helmstore.Release{Name: "tpe", Namespace: ns, Revision: 3, Status: "failed", Chart: "thingpark-enterprise", ChartVersion: "1.4.1"},
		map[string]any{"global": map[string]any{"installationId": "INSTALL-ID-SECRET"}}, "password: MANIFEST-SECRET")
	if err != nil {
		t.Fatal(err)
	}
	objs := []runtime.Object{
		helmSecret,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "thingpark-installation", Namespace: ns}, Data: map[string][]byte{"installationId": []byte("INSTALL-ID-SECRET")}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pum-process-abc", Namespace: ns, Labels: map[string]string{"job-name": "pum-process"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "pum-process"}}}, Status: corev1.PodStatus{Phase: corev1.PodSucceeded}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "twa-1", Namespace: ns},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "twa"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "twa", RestartCount: 3,
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}}}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "ok-1", Namespace: ns}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "ok"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}},
		&corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e1", Namespace: ns}, Type: "Warning", Reason: "Failed",
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "twa-1"}, Message: "probe failed: GET http://admin:hunter2@twa:8080/ password=hunter2"},
	}
	c := fake.NewClientset(objs...)
	c.PrependReactor("list", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "", errors.New("operators cannot list nodes"))
	})
	var buf bytes.Buffer
	m, err := Write(t.Context(), &buf, Config{Namespace: ns, Client: c, Tool: "kubectl-tpe test",
		Exec:      fakeExec{stdout: "1 entrie(s)\nuid: 1\nrequestID: 'r'\nstate: 'ABORTED'\nerrorCounter: 1\niterationCounter: 1\n"},
		Preflight: func(context.Context) (*check.Report, error) { return check.NewReport("Preflight"), nil },
		Now:       func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	files := untar(t, buf.Bytes())
	for _, want := range []string{"manifest.json", "preflight.json", "status.json", "pum/status.txt", "pum/status.json", "helm/releases.json",
		"events.json", "workloads.json", "logs/pum-process/pum-process-abc_pum-process.log", "logs/not-ready/twa-1_twa.log",
		"logs/not-ready/twa-1_twa.previous.log", "cluster/storage.json", "version.json"} {
		if _, ok := files[want]; !ok {
			t.Errorf("bundle lacks %s (has %v)", want, keys(files))
		}
	}
	if _, ok := files["logs/not-ready/ok-1_ok.log"]; ok {
		t.Error("logs of a ready pod collected")
	}
	for name, content := range files {
		for _, secret := range []string{"INSTALL-ID-SECRET", "MANIFEST-SECRET", "hunter2"} {
			if strings.Contains(content, secret) {
				t.Errorf("%s contains %s", name, secret)
			}
		}
	}
	var got Manifest
	if err := json.Unmarshal([]byte(files["manifest.json"]), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Files) != len(files)-1 || len(m.Files) != len(files) {
		t.Errorf("manifest lists %d files, bundle has %d", len(got.Files), len(files))
	}
	skipped := false
	for _, s := range got.Skipped {
		if s.Part == "cluster/nodes.json" && strings.HasPrefix(s.Reason, "forbidden") {
			skipped = true
		}
	}
	if !skipped || got.Redactions < 2 {
		t.Errorf("manifest skipped = %+v, redactions %d", got.Skipped, got.Redactions)
	}
	for _, a := range c.Actions() {
		if a.GetResource().Resource == "secrets" && a.GetVerb() == "get" {
			t.Error("a Secret was read")
		}
	}
	if !strings.Contains(files["helm/releases.json"], `"status": "failed"`) {
		t.Errorf("helm releases: %s", files["helm/releases.json"])
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"password=hunter2 ok", "password=***REDACTED*** ok"},
		{`{"secretAccessKey":"abc/def"}`, `{"secretAccessKey":"***REDACTED***"}`},
		{"Authorization: Bearer abc.def", "Authorization: Bearer ***REDACTED***"},
		{"https://user:pa55@host/x", "https://user:***REDACTED***@host/x"},
		{"key AKIAABCDEFGHIJKLMNOP", "key ***REDACTED***"},
		{"-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----", "***REDACTED***"},
		{"installationId: 0123abcd", "installationId: ***REDACTED***"},
		{"nothing to hide: 42", "nothing to hide: 42"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, _ := Redact([]byte(tt.in))
			if string(got) != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
