package plan

import (
	"context"
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
)

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// NotChecked is the detail of every cluster-admin step of an offline plan.
const NotChecked = "cannot be checked without the cluster"

// adminSteps lists the cluster-admin steps of a hop (manifest.AdminSteps) and checks them read-only.
func adminSteps(ctx context.Context, in Input, h manifest.Hop) []AdminStep {
	var out []AdminStep
	for _, spec := range manifest.AdminSteps(h) {
		s := AdminStep{ID: spec.ID, Description: spec.Description, Fix: spec.FixAt(in.State.Namespace, h.To), Inferred: spec.Inferred,
			NeedsAck: spec.Kind == manifest.AdminManual || spec.Inferred}
		switch {
		case spec.Kind == manifest.AdminBlocking:
			// A procedure the tools do not run: the hop stays blocked, cluster or not.
			s.Status, s.Detail, s.NeedsAck = AdminTodo, "a helm upgrade cannot cross this hop: "+spec.Doc, false
		case in.State.Assumed:
			// No cluster was read: the step is to do as far as the plan knows.
			s.Status, s.Detail = AdminUnknown, NotChecked
		case spec.Kind == manifest.AdminCRDs:
			crdStatus(ctx, in, spec, &s)
		case spec.Kind == manifest.AdminPriorityClasses:
			priorityStatus(ctx, in, &s)
		case spec.Kind == manifest.AdminStorageClasses:
			storageStatus(ctx, in, &s)
		default:
			s.Status, s.Detail = AdminUnknown, "the plan cannot verify this step: make sure it was done ("+spec.Doc+")"
		}
		if spec.Inferred {
			s.Detail = strings.TrimPrefix(s.Detail+"; inferred: the vendor's text for this step could not be read, follow "+spec.Doc, "; ")
		}
		out = append(out, s)
	}
	return out
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

func crdStatus(ctx context.Context, in Input, spec manifest.AdminStep, s *AdminStep) {
	if in.Dynamic == nil {
		s.Status, s.Detail = AdminUnknown, "no cluster access"
		return
	}
	minV, err := semver.NewVersion(spec.MinVersion)
	if err != nil {
		s.Status, s.Detail = AdminUnknown, fmt.Sprintf("the step's minimum version %q is not a version", spec.MinVersion)
		return
	}
	var missing, old []string
	for _, n := range spec.CRDs {
		u, err := in.Dynamic.Resource(crdGVR).Get(ctx, n, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, n)
			continue
		case apierrors.IsForbidden(err):
			s.Status, s.Detail = AdminUnknown, "reading CustomResourceDefinitions is forbidden for this account: ask a cluster admin"
			return
		case err != nil:
			s.Status, s.Detail = AdminUnknown, fmt.Sprintf("reading CRD %s: %v", n, err)
			return
		}
		if v, err := semver.NewVersion(crdVersion(u)); err == nil && v.LessThan(minV) {
			old = append(old, fmt.Sprintf("%s is %s", n, v.Original()))
		}
	}
	switch {
	case len(missing) > 0:
		s.Status, s.Detail = AdminTodo, "missing: "+strings.Join(missing, ", ")
	case len(old) > 0:
		s.Status, s.Detail = AdminTodo, "older than "+spec.MinVersion+": "+strings.Join(old, ", ")
	default:
		s.Status = AdminDone
	}
}

// crdVersion reads the operator version a CRD was installed from, from the labels the vendor's
// and the operators' manifests set.
func crdVersion(u *unstructured.Unstructured) string {
	for _, k := range []string{"app.kubernetes.io/version", "strimzi.io/version", "operator-version", "version"} {
		if v, ok := u.GetLabels()[k]; ok && v != "" {
			return strings.TrimPrefix(v, "v")
		}
		if v, ok := u.GetAnnotations()[k]; ok && v != "" {
			return strings.TrimPrefix(v, "v")
		}
	}
	return ""
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
		s.Status, s.Detail = AdminUnknown, "no values file names a StorageClass (pass -f with your values-storage.yaml)"
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
