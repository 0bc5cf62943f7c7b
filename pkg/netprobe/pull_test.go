package netprobe

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
)

func TestPullOutcome(t *testing.T) {
	tests := []struct {
		name   string
		st     corev1.ContainerStatus
		pulled bool
		failed string
	}{
		{"pull error", corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: "manifest unknown"}}}, false, "ErrImagePull: manifest unknown"},
		{"back-off", corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}}, false, "ImagePullBackOff"},
		{"bad name", corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "InvalidImageName"}}}, false, "InvalidImageName"},
		{"creating", corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}, false, ""},
		{"no state yet", corev1.ContainerStatus{}, false, ""},
		{"command not found", corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CreateContainerError"}}}, true, ""},
		{"start error", corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "StartError", ExitCode: 128}}}, true, ""},
		{"running", corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}, true, ""},
		{"image id known", corev1.ContainerStatus{ImageID: "sha256:abc"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pulled, failed := PullOutcome(tt.st)
			if pulled != tt.pulled || failed != tt.failed {
				t.Errorf("PullOutcome = %v %q, want %v %q", pulled, failed, tt.pulled, tt.failed)
			}
		})
	}
}

func TestPullPodsNeverRunTheImage(t *testing.T) {
	imgs := make([]string, 60)
	for i := range imgs {
		imgs[i] = "registry.example/img:" + string(rune('a'+i%26))
	}
	pods := PullTest{Namespace: "tpe", Images: imgs, PullSecrets: []string{"thingpark-image-pull-secret"}, RunID: "r1"}.PullPods()
	if len(pods) != 3 {
		t.Fatalf("%d pods for 60 images, want 3 (25 per pod)", len(pods))
	}
	n := 0
	for _, p := range pods {
		if p.Spec.RestartPolicy != corev1.RestartPolicyNever || len(p.Spec.ImagePullSecrets) != 1 || p.Labels[LabelPullTest] != "r1" {
			t.Errorf("pod %s: %+v", p.Name, p.Spec)
		}
		for _, c := range p.Spec.Containers {
			n++
			if c.ImagePullPolicy != corev1.PullAlways || len(c.Command) != 1 || c.Command[0] != pullProbeCommand {
				t.Errorf("container %s: pull %s command %v", c.Name, c.ImagePullPolicy, c.Command)
			}
		}
	}
	if n != 60 {
		t.Errorf("%d containers, want 60", n)
	}
}

func TestPullImages(t *testing.T) {
	c := fake.NewClientset()
	// The kubelet of the test: a pull fails for images named "missing", succeeds for the others.
	c.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		p.Spec.NodeName = "node-a"
		for _, ct := range p.Spec.Containers {
			st := corev1.ContainerStatus{Name: ct.Name, Image: ct.Image}
			if strings.Contains(ct.Image, "missing") {
				st.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: "not found"}
			} else {
				st.State.Terminated = &corev1.ContainerStateTerminated{Reason: "StartError"}
			}
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, st)
		}
		return false, nil, nil
	})
	got, err := PullImages(t.Context(), c, PullTest{Namespace: "tpe", Images: []string{"reg/ok:1", "reg/missing:2"}, RunID: "r2", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != check.Fail || !strings.Contains(got.Message, "1 of 2 images cannot be pulled on node node-a: reg/missing:2 (ErrImagePull: not found)") {
		t.Errorf("check = %s %q", got.Status, got.Message)
	}
	if len(got.Items) != 2 || got.Items[0].(PullItem).Status != "pulled" || got.Items[1].(PullItem).Status != "failed" {
		t.Errorf("items = %+v", got.Items)
	}
	deleted := false
	for _, a := range c.Actions() {
		if a.GetVerb() == "delete-collection" && a.GetResource().Resource == "pods" {
			deleted = true
		}
	}
	if !deleted {
		t.Error("the probe pods were not deleted")
	}

	// All pulled: pass.
	got, err = PullImages(t.Context(), c, PullTest{Namespace: "tpe", Images: []string{"reg/ok:1"}, RunID: "r3", Timeout: 5 * time.Second})
	if err != nil || got.Status != check.Pass {
		t.Errorf("check = %+v, %v; want pass", got, err)
	}
	// Nothing to pull: skip.
	if got, _ := PullImages(t.Context(), c, PullTest{Namespace: "tpe"}); got.Status != check.Skip {
		t.Errorf("no images: %s", got.Status)
	}
}
