package pum

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func TestLogs(t *testing.T) {
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: Job, Namespace: "tpe"},
		Spec: batchv1.JobSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"job-name": Job}}}}
	noSelector := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: Job, Namespace: "tpe"}}
	now := time.Now()
	pod := func(name string, age time.Duration) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "tpe", Labels: map[string]string{"job-name": Job},
			CreationTimestamp: metav1.Time{Time: now.Add(-age)}},
			Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "init"}}, Containers: []corev1.Container{{Name: "pum-process"}}}}
	}
	tests := []struct {
		name    string
		objects []runtime.Object
		opts    LogsOptions
		want    string
		since   []int64 // SinceSeconds of each log request; nil: no log request expected
		wantErr string
	}{
		{
			name:    "oldest pod first, init containers first",
			objects: []runtime.Object{job, pod("pum-process-new", time.Minute), pod("pum-process-old", time.Hour)},
			opts:    LogsOptions{Namespace: "tpe", Since: 10 * time.Minute},
			want: "[pum-process-old/init] fake logs\n[pum-process-old/pum-process] fake logs\n" +
				"[pum-process-new/init] fake logs\n[pum-process-new/pum-process] fake logs\n",
			since: []int64{600, 600, 600, 600},
		},
		{
			name:    "follow",
			objects: []runtime.Object{job, pod("pum-process-a", time.Minute)},
			opts:    LogsOptions{Namespace: "tpe", Follow: true},
			want:    "[pum-process-a/init] fake logs\n[pum-process-a/pum-process] fake logs\n",
			since:   []int64{0, 0},
		},
		{name: "missing job", opts: LogsOptions{Namespace: "tpe"}, wantErr: "job pum-process not found in namespace tpe"},
		{name: "no pod", objects: []runtime.Object{job}, opts: LogsOptions{Namespace: "tpe"}, wantErr: "has no pod"},
		{name: "no selector", objects: []runtime.Object{noSelector}, opts: LogsOptions{Namespace: "tpe"}, wantErr: "no usable pod selector"},
		{name: "negative since", opts: LogsOptions{Namespace: "tpe", Since: -time.Second}, wantErr: "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := fake.NewClientset(tt.objects...)
			var out bytes.Buffer
			err := Logs(t.Context(), c, &out, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := out.String()
			if tt.opts.Follow { // lines of concurrent streams interleave: compare them sorted
				got, tt.want = sortLines(got), sortLines(tt.want)
			}
			if got != tt.want {
				t.Errorf("logs =\n%s\nwant\n%s", got, tt.want)
			}
			var since []int64
			for _, a := range c.Actions() {
				if a.GetSubresource() != "log" {
					continue
				}
				lo := a.(k8stesting.GenericAction).GetValue().(*corev1.PodLogOptions)
				if lo.Follow != tt.opts.Follow {
					t.Errorf("log request with follow=%v, want %v", lo.Follow, tt.opts.Follow)
				}
				s := int64(0)
				if lo.SinceSeconds != nil {
					s = *lo.SinceSeconds
				}
				since = append(since, s)
			}
			if len(since) != len(tt.since) || (len(since) > 0 && since[0] != tt.since[0]) {
				t.Errorf("log requests with since = %v, want %v", since, tt.since)
			}
		})
	}
}

func sortLines(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}
