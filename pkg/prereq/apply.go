package prereq

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"

	networkingv1 "k8s.io/api/networking/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// DryRun modes of `prereqs apply`.
const (
	DryRunNone   = "none"
	DryRunClient = "client"
	DryRunServer = "server"
)

// Actions reported per object.
const (
	ActionCreated          = "created"
	ActionConfigured       = "configured"
	ActionUnchanged        = "unchanged"
	ActionConflict         = "conflict"
	ActionFailed           = "failed"
	ActionWouldCreate      = "would create"
	ActionWouldConfigure   = "would configure"
	ActionWouldBeUnchanged = "unchanged (dry run)"
)

// ApplyOptions tunes Apply.
type ApplyOptions struct {
	// DryRun is DryRunNone, DryRunClient (no mutating request at all) or DryRunServer.
	DryRun string
	// ForceConflicts takes ownership of fields another manager owns.
	ForceConflicts bool
}

// Result is the outcome for one object.
type Result struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Action  string `json:"action"`
	Message string `json:"message,omitempty"`
}

// Failed reports whether the object was not applied (conflict or error).
func (r Result) Failed() bool { return r.Action == ActionConflict || r.Action == ActionFailed }

// Apply applies o with server-side apply under field manager kubectl-tpe. It lists each kind once
// to tell created from unchanged; with DryRunClient it makes only those reads. A conflict with
// another field manager is reported per object (not an error) unless ForceConflicts is set.
func Apply(ctx context.Context, c kubernetes.Interface, o Objects, opts ApplyOptions) ([]Result, error) {
	pcs, err := c.SchedulingV1().PriorityClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing PriorityClasses: %w", err)
	}
	scs, err := c.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing StorageClasses: %w", err)
	}
	ics, err := c.NetworkingV1().IngressClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing IngressClasses: %w", err)
	}
	existingPC := map[string]*schedulingv1.PriorityClass{}
	for i := range pcs.Items {
		existingPC[pcs.Items[i].Name] = &pcs.Items[i]
	}
	existingSC := map[string]*storagev1.StorageClass{}
	for i := range scs.Items {
		existingSC[scs.Items[i].Name] = &scs.Items[i]
	}
	existingIC := map[string]*networkingv1.IngressClass{}
	for i := range ics.Items {
		existingIC[ics.Items[i].Name] = &ics.Items[i]
	}

	var out []Result
	for _, want := range o.PriorityClasses {
		have := existingPC[want.Name]
		if opts.DryRun == DryRunClient {
			out = append(out, clientResult("PriorityClass", want.Name, have != nil, have != nil && samePC(have, want)))
			continue
		}
		r := applyOne("PriorityClass", want.Name, want, have, opts, func(data []byte, po metav1.PatchOptions) (any, error) {
			return c.SchedulingV1().PriorityClasses().Patch(ctx, want.Name, types.ApplyPatchType, data, po)
		})
		out = append(out, r)
	}
	for _, want := range o.StorageClasses {
		have := existingSC[want.Name]
		if opts.DryRun == DryRunClient {
			out = append(out, clientResult("StorageClass", want.Name, have != nil, have != nil && sameSC(have, want)))
			continue
		}
		r := applyOne("StorageClass", want.Name, want, have, opts, func(data []byte, po metav1.PatchOptions) (any, error) {
			return c.StorageV1().StorageClasses().Patch(ctx, want.Name, types.ApplyPatchType, data, po)
		})
		out = append(out, r)
	}
	if want := o.IngressClass; want != nil {
		have := existingIC[want.Name]
		if opts.DryRun == DryRunClient {
			out = append(out, clientResult("IngressClass", want.Name, have != nil, have != nil && have.Spec.Controller == want.Spec.Controller))
		} else {
			out = append(out, applyOne("IngressClass", want.Name, want, have, opts, func(data []byte, po metav1.PatchOptions) (any, error) {
				return c.NetworkingV1().IngressClasses().Patch(ctx, want.Name, types.ApplyPatchType, data, po)
			}))
		}
	}
	return out, nil
}

func clientResult(kind, name string, exists, same bool) Result {
	switch {
	case !exists:
		return Result{Kind: kind, Name: name, Action: ActionWouldCreate}
	case same:
		return Result{Kind: kind, Name: name, Action: ActionWouldBeUnchanged}
	}
	return Result{Kind: kind, Name: name, Action: ActionWouldConfigure,
		Message: "differs from the cluster's"}
}

// applyOne sends one apply patch. have is the object before (nil when absent); its type must be a
// pointer to the same kind as the patch returns.
func applyOne(kind, name string, want, have any, opts ApplyOptions, patch func([]byte, metav1.PatchOptions) (any, error)) Result {
	data, err := json.Marshal(want)
	if err != nil {
		return Result{Kind: kind, Name: name, Action: ActionFailed, Message: err.Error()}
	}
	force := opts.ForceConflicts
	po := metav1.PatchOptions{FieldManager: FieldManager, Force: &force}
	if opts.DryRun == DryRunServer {
		po.DryRun = []string{metav1.DryRunAll}
	}
	after, err := patch(data, po)
	switch {
	case apierrors.IsConflict(err):
		return Result{Kind: kind, Name: name, Action: ActionConflict,
			Message: fmt.Sprintf("%v; another field manager owns these fields: change them with that tool", err)}
	case err != nil:
		return Result{Kind: kind, Name: name, Action: ActionFailed, Message: err.Error()}
	}
	dry := opts.DryRun == DryRunServer
	isNil := have == nil || reflect.ValueOf(have).IsNil()
	switch {
	case isNil && dry:
		return Result{Kind: kind, Name: name, Action: ActionWouldCreate}
	case isNil:
		return Result{Kind: kind, Name: name, Action: ActionCreated}
	case sameContent(have, after):
		if dry {
			return Result{Kind: kind, Name: name, Action: ActionWouldBeUnchanged}
		}
		return Result{Kind: kind, Name: name, Action: ActionUnchanged}
	case dry:
		return Result{Kind: kind, Name: name, Action: ActionWouldConfigure}
	}
	return Result{Kind: kind, Name: name, Action: ActionConfigured}
}

// sameContent compares two objects without the metadata the server maintains.
func sameContent(a, b any) bool {
	norm := func(o any) map[string]any {
		data, _ := json.Marshal(o)
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		delete(m, "apiVersion")
		delete(m, "kind")
		if md, ok := m["metadata"].(map[string]any); ok {
			for _, k := range []string{"managedFields", "resourceVersion", "generation", "creationTimestamp", "uid"} {
				delete(md, k)
			}
		}
		return m
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func samePC(have, want *schedulingv1.PriorityClass) bool {
	return have.Value == want.Value && have.Description == want.Description && have.GlobalDefault == want.GlobalDefault &&
		labelsContain(have.Labels, want.Labels)
}

func sameSC(have, want *storagev1.StorageClass) bool {
	eq := func(a, b *bool) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }
	return have.Provisioner == want.Provisioner && maps.Equal(have.Parameters, want.Parameters) &&
		reflect.DeepEqual(have.VolumeBindingMode, want.VolumeBindingMode) && eq(have.AllowVolumeExpansion, want.AllowVolumeExpansion) &&
		labelsContain(have.Labels, want.Labels)
}

func labelsContain(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
