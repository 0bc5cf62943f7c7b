package wait

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkAssess measures the readiness judgement of `status` and of every wait event at 10, 1,000
// and 5,000 pods spread over 10 StatefulSets and 10 Deployments; StatefulSet sts-0 is not ready, so
// its pods are searched for a reason.
func BenchmarkAssess(b *testing.B) {
	for _, n := range []int{10, 1000, 5000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			objs := benchObjects(n)
			for b.Loop() {
				if s := Assess(ForRollout, objs); len(s.Workloads) != 20 {
					b.Fatalf("%d workloads, want 20", len(s.Workloads))
				}
			}
		})
	}
}

func benchObjects(n int) Objects {
	var o Objects
	one := int32(1)
	for i := range 10 {
		sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": fmt.Sprintf("sts-%d", i)}}
		ready := int32(1)
		if i == 0 {
			ready = 0
		}
		o.StatefulSets = append(o.StatefulSets, &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("sts-%d", i), Namespace: "tpe", Generation: 1},
			Spec:       appsv1.StatefulSetSpec{Replicas: &one, Selector: sel},
			Status: appsv1.StatefulSetStatus{ObservedGeneration: 1, Replicas: 1, ReadyReplicas: ready, AvailableReplicas: ready,
				UpdatedReplicas: 1, CurrentRevision: "r1", UpdateRevision: "r1"}})
		dsel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": fmt.Sprintf("deploy-%d", i)}}
		o.Deployments = append(o.Deployments, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("deploy-%d", i), Namespace: "tpe", Generation: 1},
			Spec:       appsv1.DeploymentSpec{Replicas: &one, Selector: dsel},
			Status:     appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, UpdatedReplicas: 1}})
	}
	for i := range n {
		app := fmt.Sprintf("sts-%d", i%10)
		if i%2 == 1 {
			app = fmt.Sprintf("deploy-%d", i%10)
		}
		ready := corev1.ConditionTrue
		if i%10 == 0 {
			ready = corev1.ConditionFalse
		}
		o.Pods = append(o.Pods, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%d", i), Namespace: "tpe", Labels: map[string]string{"app": app}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: ready}},
				ContainerStatuses: []corev1.ContainerStatus{{Name: "c", Ready: ready == corev1.ConditionTrue}}}})
	}
	return o
}
