// Package podexec runs a command in a ready pod of a Deployment through the exec subresource,
// as `kubectl exec deploy/NAME -- CMD` does, without shelling out to kubectl.
package podexec

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
)

// Target names the Deployment (and optionally the container) to exec into.
type Target struct {
	Namespace  string
	Deployment string
	// Container defaults to the pod's kubectl.kubernetes.io/default-container annotation, then
	// to its first container.
	Container string
}

// Result is the captured output of one exec.
type Result struct {
	Pod    string `json:"pod"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
}

// Executor runs a command in a pod. It is an interface so that domain packages can be tested
// without an API server.
type Executor interface {
	Exec(ctx context.Context, t Target, cmd []string, stdin io.Reader) (Result, error)
}

// Kube is the Executor that talks to a real API server.
type Kube struct {
	Client kubernetes.Interface
	Config *rest.Config
}

// NoReadyPodError says that the Deployment has no pod to exec into.
type NoReadyPodError struct {
	Target Target
	Reason string
	// Missing is true when the Deployment itself does not exist.
	Missing bool
}

// Error implements error.
func (e *NoReadyPodError) Error() string {
	return fmt.Sprintf("deployment %s/%s has no ready pod to exec into: %s", e.Target.Namespace, e.Target.Deployment, e.Reason)
}

// ResolvePod finds a ready, running pod of the Deployment from its selector, newest first, as
// kubectl's polymorphic attachable-pod lookup does.
func ResolvePod(ctx context.Context, c kubernetes.Interface, t Target) (*corev1.Pod, error) {
	d, err := c.AppsV1().Deployments(t.Namespace).Get(ctx, t.Deployment, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &NoReadyPodError{Target: t, Reason: "the deployment does not exist", Missing: true}
		}
		return nil, fmt.Errorf("reading deployment %s/%s: %w", t.Namespace, t.Deployment, err)
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || sel.Empty() {
		return nil, fmt.Errorf("deployment %s/%s has an invalid selector", t.Namespace, t.Deployment)
	}
	pods, err := c.CoreV1().Pods(t.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, fmt.Errorf("listing pods of deployment %s/%s: %w", t.Namespace, t.Deployment, err)
	}
	return pickPod(pods.Items, sel, t)
}

func pickPod(pods []corev1.Pod, sel labels.Selector, t Target) (*corev1.Pod, error) {
	var ready []corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && isReady(p) && sel.Matches(labels.Set(p.Labels)) {
			ready = append(ready, p)
		}
	}
	if len(ready) == 0 {
		return nil, &NoReadyPodError{Target: t, Reason: fmt.Sprintf("%d pod(s) match its selector, none is Running and Ready", len(pods))}
	}
	sort.Slice(ready, func(i, j int) bool {
		return ready[j].CreationTimestamp.Before(&ready[i].CreationTimestamp)
	})
	return &ready[0], nil
}

func isReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Exec runs cmd in a ready pod of the target Deployment and captures its output.
func (k Kube) Exec(ctx context.Context, t Target, cmd []string, stdin io.Reader) (Result, error) {
	pod, err := ResolvePod(ctx, k.Client, t)
	if err != nil {
		return Result{}, err
	}
	container := t.Container
	if container == "" {
		container = pod.Annotations["kubectl.kubernetes.io/default-container"]
	}
	if container == "" && len(pod.Spec.Containers) > 0 {
		container = pod.Spec.Containers[0].Name
	}
	req := k.Client.CoreV1().RESTClient().Post().Resource("pods").Name(pod.Name).Namespace(pod.Namespace).
		SubResource("exec").VersionedParams(&corev1.PodExecOptions{
		Container: container, Command: cmd, Stdin: stdin != nil, Stdout: true, Stderr: true,
	}, scheme.ParameterCodec)
	exec, err := newExecutor(k.Config, req.URL())
	if err != nil {
		return Result{}, fmt.Errorf("exec into pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	var out, errOut bytes.Buffer
	err = exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: stdin, Stdout: &out, Stderr: &errOut})
	res := Result{Pod: pod.Name, Stdout: out.String(), Stderr: errOut.String()}
	if err != nil {
		return res, explain(err, t, pod.Name, cmd)
	}
	return res, nil
}

func newExecutor(cfg *rest.Config, u interface{ String() string }) (remotecommand.Executor, error) {
	url := mustURL(u.String())
	spdy, err := remotecommand.NewSPDYExecutor(cfg, http.MethodPost, url)
	if err != nil {
		return nil, err
	}
	ws, err := remotecommand.NewWebSocketExecutor(cfg, http.MethodGet, url.String())
	if err != nil {
		return nil, err
	}
	return remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstreamIsUpgradeFailure(err)
	})
}

func explain(err error, t Target, pod string, cmd []string) error {
	if apierrors.IsForbidden(err) || strings.Contains(err.Error(), "forbidden") {
		return fmt.Errorf("not allowed to exec into pod %s/%s (needs the create verb on pods/exec in namespace %s): %w", t.Namespace, pod, t.Namespace, err)
	}
	return fmt.Errorf("running %q in pod %s/%s: %w", strings.Join(cmd, " "), t.Namespace, pod, err)
}
