package netprobe

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
)

// LabelPullTest labels the pods of one image pull test.
const LabelPullTest = "tpe.thingpark.io/pull-test"

// pullProbeCommand is what the probe containers run: a path no image has, so that the container
// fails to start once its image is pulled, and nothing of the image ever runs.
const pullProbeCommand = "/kubectl-tpe-pull-probe-does-not-exist"

// imagesPerPod bounds the containers of one probe pod.
const imagesPerPod = 25

// PullTest checks that the cluster can pull images: pods whose containers use the images with
// pull policy Always and a command that does not exist, so that the kubelet pulls each image and
// then fails to start it. An image whose container waits in ErrImagePull, ImagePullBackOff or
// InvalidImageName cannot be pulled; one that got past the pull can.
type PullTest struct {
	Namespace string
	Images    []string
	// PullSecrets are the image pull Secrets of the namespace to use (global.imagePullSecrets).
	PullSecrets []string
	RunID       string
	Timeout     time.Duration
}

// PullPods returns the probe pods of the test.
func (p PullTest) PullPods() []*corev1.Pod {
	var pods []*corev1.Pod
	for start := 0; start < len(p.Images); start += imagesPerPod {
		end := min(start+imagesPerPod, len(p.Images))
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name:      dnsSafe(fmt.Sprintf("tpe-pull-test-%s-%d", p.RunID, start/imagesPerPod)),
				Namespace: p.Namespace,
				Labels: map[string]string{LabelPullTest: p.RunID, "app.kubernetes.io/managed-by": "kubectl-tpe",
					"app.kubernetes.io/name": "tpe-pull-test"},
			},
			Spec: corev1.PodSpec{
				RestartPolicy:                 corev1.RestartPolicyNever,
				AutomountServiceAccountToken:  ptr.To(false),
				TerminationGracePeriodSeconds: ptr.To[int64](0),
				ActiveDeadlineSeconds:         ptr.To(int64(max(p.Timeout.Seconds(), 60))),
				Tolerations:                   []corev1.Toleration{{Key: "thingpark.enterprise.actility.com/nodegroup-name", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
				SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](65534),
					SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			},
		}
		for _, s := range p.PullSecrets {
			pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
		}
		for i, img := range p.Images[start:end] {
			pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{
				Name: fmt.Sprintf("image-%d", start+i), Image: img, ImagePullPolicy: corev1.PullAlways,
				Command: []string{pullProbeCommand},
				SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false),
					Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("1m"), corev1.ResourceMemory: resource.MustParse("4Mi")}},
			})
		}
		pods = append(pods, pod)
	}
	return pods
}

// pullFailed are the waiting reasons of a container whose image cannot be pulled.
var pullFailed = map[string]bool{"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true, "ErrImageNeverPull": true, "RegistryUnavailable": true}

// PullOutcome judges one container status: pulled (the image got past the pull), failed (with the
// reason), or neither yet.
func PullOutcome(st corev1.ContainerStatus) (pulled bool, failed string) {
	switch {
	case st.State.Waiting != nil && pullFailed[st.State.Waiting.Reason]:
		msg := st.State.Waiting.Reason
		if m := strings.TrimSpace(st.State.Waiting.Message); m != "" {
			msg += ": " + m
		}
		return false, msg
	case st.State.Terminated != nil, st.State.Running != nil, st.ImageID != "":
		return true, ""
	case st.State.Waiting != nil && st.State.Waiting.Reason != "" && st.State.Waiting.Reason != "ContainerCreating" && st.State.Waiting.Reason != "PodInitializing":
		// CreateContainerError, RunContainerError...: the image is there, the command is not.
		return true, ""
	}
	return false, ""
}

// PullItem is the outcome of one image (an item of the check).
type PullItem struct {
	Image  string `json:"image"`
	Status string `json:"status"` // pulled, failed or pending
	Reason string `json:"reason,omitempty"`
}

// PullImages runs the pull test and judges it as the check images.pull. It deletes its pods in
// every case. An error is a test that could not run (e.g. pods may not be created).
func PullImages(ctx context.Context, c kubernetes.Interface, p PullTest) (check.Check, error) {
	out := check.Check{ID: "images.pull", Category: "Images"}
	if len(p.Images) == 0 {
		out.Status, out.Message = check.Skip, "the bundle lists no image"
		return out, nil
	}
	if p.Timeout <= 0 {
		p.Timeout = 5 * time.Minute
	}
	pods := p.PullPods()
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = c.CoreV1().Pods(p.Namespace).DeleteCollection(cctx, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)},
			metav1.ListOptions{LabelSelector: LabelPullTest + "=" + p.RunID})
	}()
	for _, pod := range pods {
		if _, err := c.CoreV1().Pods(p.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			return out, fmt.Errorf("creating the pull test pod %s in %s: %w", pod.Name, p.Namespace, err)
		}
	}
	image := map[string]string{} // container name → image
	for _, pod := range pods {
		for _, ct := range pod.Spec.Containers {
			image[ct.Name] = ct.Image
		}
	}
	pulled, failed := map[string]bool{}, map[string]string{}
	nodes := map[string]bool{}
	deadline := time.Now().Add(p.Timeout)
	for {
		list, err := c.CoreV1().Pods(p.Namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelPullTest + "=" + p.RunID,
			FieldSelector: fields.Everything().String()})
		if err != nil {
			return out, fmt.Errorf("reading the pull test pods: %w", err)
		}
		for _, pod := range list.Items {
			if pod.Spec.NodeName != "" {
				nodes[pod.Spec.NodeName] = true
			}
			for _, st := range pod.Status.ContainerStatuses {
				ok, why := PullOutcome(st)
				switch {
				case ok:
					pulled[image[st.Name]] = true
					delete(failed, image[st.Name])
				case why != "":
					failed[image[st.Name]] = why
				}
			}
		}
		if len(pulled)+len(failed) >= len(image) || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
	var bad, pending []string
	for _, img := range p.Images {
		switch {
		case pulled[img]:
		case failed[img] != "":
			bad = append(bad, img+" ("+failed[img]+")")
		default:
			pending = append(pending, img)
		}
	}
	on := "a node"
	if len(nodes) > 0 {
		var ns []string
		for n := range nodes {
			ns = append(ns, n)
		}
		sort.Strings(ns)
		on = "node " + strings.Join(ns, ", ")
	}
	switch {
	case len(bad) > 0:
		out.Status = check.Fail
		out.Message = fmt.Sprintf("%d of %d images cannot be pulled on %s: %s", len(bad), len(p.Images), on, strings.Join(bad, "; "))
		out.Remediation = "push the images to the registry the values point at (`{cmd:images} {flag:registry}`), and check the image pull Secret (global.imagePullSecrets)"
	case len(pending) > 0:
		out.Status = check.Warn
		out.Message = fmt.Sprintf("%d of %d images not pulled within %s: %s", len(pending), len(p.Images), p.Timeout, strings.Join(pending, ", "))
		out.Remediation = "check that the probe pods can be scheduled, or raise {flag:probe-timeout}"
	default:
		out.Status = check.Pass
		out.Message = fmt.Sprintf("the %d images of the bundle were pulled on %s", len(p.Images), on)
	}
	for _, img := range p.Images {
		st := "pulled"
		switch {
		case failed[img] != "" && !pulled[img]:
			st = "failed"
		case !pulled[img]:
			st = "pending"
		}
		out.Items = append(out.Items, PullItem{Image: img, Status: st, Reason: failed[img]})
	}
	return out, nil
}
