package plan

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/thingpark-tools/kubectl-tpe/pkg/adminstep"
	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
)

// NotChecked is the detail of every cluster-admin step of an offline plan.
const NotChecked = "cannot be checked without the cluster"

// adminSteps lists the cluster-admin steps of hop i of path (manifest.AdminSteps) and judges them
// read-only: the CRD steps with pkg/adminstep (the live CRDs against the vendor's manifests of
// in.Admin), the PriorityClasses and StorageClasses with the rules of pkg/prereq. It returns the
// note of the hop: why its steps are inferred, said once.
func adminSteps(ctx context.Context, in Input, path []manifest.Hop, i int) ([]AdminStep, string) {
	var out []AdminStep
	note := ""
	for _, spec := range manifest.AdminSteps(path[i]) {
		s := AdminStep{ID: spec.ID, Description: spec.Description, Fix: spec.FixAt(in.State.Namespace, path[i].To), Inferred: spec.Inferred}
		switch {
		case spec.Kind == manifest.AdminBlocking:
			// A procedure the tools do not run: the hop stays blocked, cluster or not.
			s.Status, s.Detail, s.NeedsAck = AdminTodo, "a helm upgrade cannot cross this hop: "+spec.Doc, false
		case in.State.Assumed:
			// No cluster was read: the step is to do as far as the plan knows.
			s.Status, s.Detail = AdminUnknown, NotChecked
		case spec.Kind == manifest.AdminCRDs:
			v, _ := adminstep.JudgeStep(ctx, in.Dynamic, in.Admin, path, i, spec)
			s.Status, s.Detail = AdminStatus(v.Status), v.Detail
		case spec.Kind == manifest.AdminPriorityClasses:
			priorityStatus(ctx, in, &s)
		case spec.Kind == manifest.AdminStorageClasses:
			storageStatus(ctx, in, &s)
		default:
			s.Status, s.Detail = AdminUnknown, "the plan cannot verify this step: make sure it was done ("+spec.Doc+")"
		}
		// A step verified done needs nobody's word; one that cannot be verified, and whose
		// text is inferred or manual, needs the user's acknowledgement.
		s.NeedsAck = s.Status != AdminDone && (spec.Kind == manifest.AdminManual || spec.Inferred)
		if spec.Inferred && note == "" {
			note = "inferred: the vendor's text for these steps could not be read, follow " + spec.Doc
		}
		out = append(out, s)
	}
	return out, note
}

// check reports the step of hop n (to: the hop's target) through pkg/check.
func (s AdminStep) check(n int, to string) check.Check {
	c := check.Check{ID: fmt.Sprintf("admin.%d.%s", n, s.ID), Category: CategoryAdmin, Message: fmt.Sprintf("hop %d (%s): %s", n, to, s.Description)}
	switch s.Status {
	case AdminDone:
		c.Status = check.Pass
		c.Message += ": done"
	case AdminTodo:
		c.Status, c.Remediation = check.Fail, s.Fix
		c.Message += ": not done"
	default:
		c.Status, c.Remediation = check.Manual, s.Fix
		c.Message += ": cannot be verified"
	}
	if s.Detail != "" {
		c.Details = []string{s.Detail}
	}
	return c
}

// priorityStatus applies the PriorityClass rule of the TPE cluster prerequisites (the same as
// `kubectl tpe preflight`).
func priorityStatus(ctx context.Context, in Input, s *AdminStep) {
	if in.Kube == nil {
		s.Status, s.Detail = AdminUnknown, "no cluster access"
		return
	}
	list, err := in.Kube.SchedulingV1().PriorityClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		s.Status, s.Detail = AdminUnknown, "cannot list PriorityClasses: "+err.Error()
		return
	}
	have := map[string]int32{}
	for _, pc := range list.Items {
		have[pc.Name] = pc.Value
	}
	pin := prereq.PriorityInput{Have: have}
	if len(in.ValueFiles) > 0 {
		pin.Values = in.Values
	}
	fromChecks(prereq.CheckPriorityClasses(pin), s)
}

// storageStatus applies the StorageClass rule of the TPE cluster prerequisites to the classes the
// values name.
func storageStatus(ctx context.Context, in Input, s *AdminStep) {
	var wanted []string
	if in.Values != nil {
		wanted = prereq.ValuesStorageClasses(in.Values)
	}
	if len(wanted) == 0 {
		s.Status, s.Detail = AdminUnknown, "no values file names a StorageClass (pass {flag:values} with your values-storage.yaml)"
		return
	}
	if in.Kube == nil {
		s.Status, s.Detail = AdminUnknown, "no cluster access"
		return
	}
	list, err := in.Kube.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		s.Status, s.Detail = AdminUnknown, "cannot list StorageClasses: "+err.Error()
		return
	}
	have := map[string]bool{}
	for _, sc := range list.Items {
		have[sc.Name] = true
	}
	c, _ := prereq.CheckStorageClasses(func(n string) bool { return have[n] }, wanted, "named by the values", s.Fix)
	fromChecks([]check.Check{c}, s)
}

// fromChecks sets a step's status from the checks of a shared rule: any failure means to do.
func fromChecks(cs []check.Check, s *AdminStep) {
	var failed []string
	for _, c := range cs {
		if c.Status == check.Fail {
			failed = append(failed, c.Message)
		}
	}
	if len(failed) > 0 {
		s.Status, s.Detail = AdminTodo, strings.Join(failed, "; ")
		return
	}
	s.Status = AdminDone
}
