package wait

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
)

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// statefulSet judges a StatefulSet as kstatus does (partition-aware; OnDelete only needs ready
// replicas since nothing rolls the pods).
func statefulSet(f For, s *appsv1.StatefulSet, idx *index) Workload {
	want := replicas(s.Spec.Replicas)
	wl := Workload{Kind: "StatefulSet", Name: s.Name, Ready: s.Status.ReadyReplicas, Desired: want}
	var pending []string
	if f == ForRollout {
		if s.Status.ObservedGeneration < s.Generation {
			pending = append(pending, "the controller has not observed the latest spec yet")
		}
		if s.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType {
			partition := int32(0)
			if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
				partition = *ru.Partition
			}
			if partition > 0 {
				if s.Status.UpdatedReplicas < want-partition {
					pending = append(pending, fmt.Sprintf("%d of %d pods above partition %d updated", s.Status.UpdatedReplicas, want-partition, partition))
				}
			} else {
				if s.Status.UpdatedReplicas < want {
					pending = append(pending, fmt.Sprintf("%d of %d pods updated", s.Status.UpdatedReplicas, want))
				}
				if s.Status.CurrentRevision != s.Status.UpdateRevision && want > 0 {
					pending = append(pending, fmt.Sprintf("revision %s not yet current (still %s)", s.Status.UpdateRevision, s.Status.CurrentRevision))
				}
			}
		}
		if s.Status.Replicas > want {
			pending = append(pending, fmt.Sprintf("%d extra pod(s) terminating", s.Status.Replicas-want))
		}
		if s.Status.AvailableReplicas < want {
			pending = append(pending, fmt.Sprintf("%d of %d available", s.Status.AvailableReplicas, want))
		}
	}
	if s.Status.ReadyReplicas < want {
		pending = append([]string{fmt.Sprintf("%d of %d ready", s.Status.ReadyReplicas, want)}, pending...)
	}
	if len(pending) == 0 {
		wl.Done = true
		return wl
	}
	pods := idx.podsOf(s.Spec.Selector)
	// A StatefulSet's PVCs are <template>-<sts>-<ordinal>; look at them even for pods that do
	// not exist yet.
	var claims []string
	for i := int32(0); i < want; i++ {
		for _, t := range s.Spec.VolumeClaimTemplates {
			claims = append(claims, fmt.Sprintf("%s-%s-%d", t.Name, s.Name, i))
		}
	}
	wl.Reason = explain(pending, pods, claims, idx, "StatefulSet/"+s.Name)
	return wl
}

// deployment judges a Deployment as `kubectl rollout status` and kstatus do.
func deployment(f For, d *appsv1.Deployment, idx *index) Workload {
	want := replicas(d.Spec.Replicas)
	wl := Workload{Kind: "Deployment", Name: d.Name, Ready: d.Status.ReadyReplicas, Desired: want}
	var pending []string
	if f == ForRollout {
		if d.Status.ObservedGeneration < d.Generation {
			pending = append(pending, "the controller has not observed the latest spec yet")
		}
		if d.Status.UpdatedReplicas < want {
			pending = append(pending, fmt.Sprintf("%d of %d pods updated", d.Status.UpdatedReplicas, want))
		}
		if d.Status.Replicas > d.Status.UpdatedReplicas {
			pending = append(pending, fmt.Sprintf("%d old pod(s) pending termination", d.Status.Replicas-d.Status.UpdatedReplicas))
		}
		if d.Status.AvailableReplicas < want {
			pending = append(pending, fmt.Sprintf("%d of %d available", d.Status.AvailableReplicas, want))
		}
		for _, c := range d.Status.Conditions {
			if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
				pending = append(pending, "progress deadline exceeded")
			}
		}
	}
	if d.Status.ReadyReplicas < want {
		pending = append([]string{fmt.Sprintf("%d of %d ready", d.Status.ReadyReplicas, want)}, pending...)
	}
	if len(pending) == 0 {
		wl.Done = true
		return wl
	}
	wl.Reason = explain(pending, idx.podsOf(d.Spec.Selector), nil, idx, "Deployment/"+d.Name)
	return wl
}

// job is done when Complete; failed when Failed.
func job(j *batchv1.Job, idx *index) (Workload, bool) {
	want := int32(1)
	if j.Spec.Completions != nil {
		want = *j.Spec.Completions
	}
	wl := Workload{Kind: "Job", Name: j.Name, Ready: j.Status.Succeeded, Desired: want}
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete, batchv1.JobSuccessCriteriaMet:
			wl.Done = true
			wl.Ready = want
			return wl, false
		case batchv1.JobFailed, batchv1.JobFailureTarget:
			wl.Reason = strings.TrimSpace(fmt.Sprintf("failed: %s %s", c.Reason, c.Message))
			return wl, true
		}
	}
	pending := []string{fmt.Sprintf("%d of %d completions", j.Status.Succeeded, want)}
	wl.Reason = explain(pending, idx.podsOf(j.Spec.Selector), nil, idx, "Job/"+j.Name)
	return wl, false
}

// explain turns what is pending into one reason, preferring what the pods, PVCs and events say
// over the bare counts: the cause an operator can act on comes first.
func explain(pending []string, pods []*corev1.Pod, claims []string, idx *index, self string) string {
	var causes []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			causes = append(causes, s)
		}
	}
	for _, p := range pods {
		add(podReason(p, idx))
		for _, v := range p.Spec.Volumes {
			if v.PersistentVolumeClaim != nil {
				add(pvcReason(v.PersistentVolumeClaim.ClaimName, idx))
			}
		}
	}
	for _, c := range claims {
		if _, ok := idx.pvcs[c]; ok {
			add(pvcReason(c, idx))
		}
	}
	if len(causes) == 0 {
		// No pod explains it: the controller itself may be failing to create pods (quota,
		// admission, missing PriorityClass, ...).
		if e, ok := idx.events[self]; ok {
			add(fmt.Sprintf("%s: %s", e.Reason, text.OneLine(e.Message, 300)))
		}
	}
	out := strings.Join(pending, ", ")
	if len(causes) > 0 {
		const maxShown = 3
		if len(causes) > maxShown {
			causes = append(causes[:maxShown], fmt.Sprintf("and %d more", len(causes)-maxShown))
		}
		out += "; " + strings.Join(causes, "; ")
	}
	return out
}

// podReason explains why a pod is not ready: unschedulable, image pull error, crash loop, ...
func podReason(p *corev1.Pod, idx *index) string {
	if p.DeletionTimestamp != nil {
		return ""
	}
	if p.Status.Phase == corev1.PodSucceeded {
		return ""
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return ""
		}
	}
	statuses := append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	for _, cs := range statuses {
		if wt := cs.State.Waiting; wt != nil {
			switch wt.Reason {
			case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull":
				return fmt.Sprintf("pod %s: image pull error (%s) for container %s: %s", p.Name, wt.Reason, cs.Name, text.OneLine(wt.Message, 300))
			case "CrashLoopBackOff":
				last := ""
				if t := cs.LastTerminationState.Terminated; t != nil {
					last = fmt.Sprintf(", last exit code %d (%s)", t.ExitCode, t.Reason)
				}
				return fmt.Sprintf("pod %s: container %s in crash loop, %d restart(s)%s", p.Name, cs.Name, cs.RestartCount, last)
			case "CreateContainerConfigError", "CreateContainerError", "RunContainerError":
				return fmt.Sprintf("pod %s: container %s: %s: %s", p.Name, cs.Name, wt.Reason, text.OneLine(wt.Message, 300))
			}
		}
	}
	if p.Status.Phase == corev1.PodPending {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
				msg := c.Message
				if e, ok := idx.events["Pod/"+p.Name]; ok && e.Reason == "FailedScheduling" {
					msg = e.Message
				}
				return fmt.Sprintf("pod %s pending, %s: %s", p.Name, strings.ToLower(c.Reason), text.OneLine(msg, 300))
			}
		}
		if e, ok := idx.events["Pod/"+p.Name]; ok {
			return fmt.Sprintf("pod %s pending: %s: %s", p.Name, e.Reason, text.OneLine(e.Message, 300))
		}
		return fmt.Sprintf("pod %s pending", p.Name)
	}
	if p.Status.Phase == corev1.PodFailed {
		return fmt.Sprintf("pod %s failed: %s %s", p.Name, p.Status.Reason, text.OneLine(p.Status.Message, 300))
	}
	// Running but not ready: a failing readiness probe says so in an event.
	if e, ok := idx.events["Pod/"+p.Name]; ok {
		return fmt.Sprintf("pod %s not ready: %s: %s", p.Name, e.Reason, text.OneLine(e.Message, 300))
	}
	var notReady []string
	for _, cs := range p.Status.ContainerStatuses {
		if !cs.Ready {
			notReady = append(notReady, cs.Name)
		}
	}
	sort.Strings(notReady)
	if len(notReady) > 0 {
		return fmt.Sprintf("pod %s: container(s) %s not ready", p.Name, strings.Join(notReady, ", "))
	}
	return ""
}

func pvcReason(name string, idx *index) string {
	pvc, ok := idx.pvcs[name]
	if !ok {
		return ""
	}
	if pvc.Status.Phase == corev1.ClaimBound {
		return ""
	}
	msg := fmt.Sprintf("PVC %s is %s (unbound)", name, pvc.Status.Phase)
	if sc := pvc.Spec.StorageClassName; sc != nil && *sc != "" {
		msg += fmt.Sprintf(", storage class %s", *sc)
	}
	if e, ok := idx.events["PersistentVolumeClaim/"+name]; ok {
		msg += fmt.Sprintf(": %s: %s", e.Reason, text.OneLine(e.Message, 300))
	}
	return msg
}
