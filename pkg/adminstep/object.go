package adminstep

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/thingpark-tools/kubectl-tpe/pkg/diff"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
)

// One object of the vendor's admin manifests: its server-side apply (or dry run) with the diff
// shown, and the wait for a CRD to be Established.

// kinds are the resources of the kinds the vendor's admin manifests hold.
var kinds = map[string]struct {
	gvr        schema.GroupVersionResource
	namespaced bool
}{
	"CustomResourceDefinition": {CRDResource, false},
	"Role":                     {schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}, true},
	"RoleBinding":              {schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}, true},
	"ServiceAccount":           {schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}, true},
}

// applyDoc server-side applies one document under field manager kubectl-tpe (dry runs: the
// change as a diff).
func applyDoc(ctx context.Context, dyn dynamic.Interface, cfg Config, doc Doc) Change {
	k, ok := kinds[doc.Kind]
	c := Change{Kind: doc.Kind, Name: doc.Name}
	if !ok {
		c.Action, c.Message = prereq.ActionFailed, "this kind is not applied by the cluster-admin steps"
		return c
	}
	obj := clean(doc.Object)
	ri := dynamic.ResourceInterface(dyn.Resource(k.gvr))
	if k.namespaced {
		c.Namespace = cfg.Namespace
		unstructured.SetNestedField(obj, cfg.Namespace, "metadata", "namespace") //nolint:errcheck // metadata is a map
		ri = dyn.Resource(k.gvr).Namespace(cfg.Namespace)
	}
	live, err := ri.Get(ctx, doc.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		live = nil
	case err != nil:
		c.Action, c.Message = prereq.ActionFailed, err.Error()
		return c
	}
	if cfg.DryRun == prereq.DryRunClient {
		c.Diff = objDiff(doc.Kind, doc.Name, live, obj)
		switch {
		case live == nil:
			c.Action = prereq.ActionWouldCreate
		case c.Diff == "":
			c.Action = prereq.ActionWouldBeUnchanged
		default:
			c.Action = prereq.ActionWouldConfigure
		}
		return c
	}
	data, err := json.Marshal(obj)
	if err != nil {
		c.Action, c.Message = prereq.ActionFailed, err.Error()
		return c
	}
	force := cfg.Force
	po := metav1.PatchOptions{FieldManager: prereq.FieldManager, Force: &force}
	if cfg.DryRun == prereq.DryRunServer {
		po.DryRun = []string{metav1.DryRunAll}
	}
	after, err := ri.Patch(ctx, doc.Name, types.ApplyPatchType, data, po)
	switch {
	case apierrors.IsConflict(err):
		c.Action = prereq.ActionConflict
		c.Message = "fields are owned by another field manager (an earlier install: Helm's crds/, kubectl apply): " + text.OneLine(err.Error(), 400) +
			"; review the change (dry run), then force the conflicts to take them over"
		return c
	case err != nil:
		c.Action, c.Message = prereq.ActionFailed, text.OneLine(err.Error(), 400)
		return c
	}
	var afterObj map[string]any
	if after != nil {
		afterObj = after.Object
	}
	d := objDiff(doc.Kind, doc.Name, live, afterObj)
	dry := cfg.DryRun == prereq.DryRunServer
	switch {
	case live == nil && dry:
		c.Action = prereq.ActionWouldCreate
	case live == nil:
		c.Action = prereq.ActionCreated
	case d == "" && dry:
		c.Action = prereq.ActionWouldBeUnchanged
	case d == "":
		c.Action = prereq.ActionUnchanged
	case dry:
		c.Action = prereq.ActionWouldConfigure
	default:
		c.Action = prereq.ActionConfigured
	}
	if dry {
		c.Diff = d
	}
	return c
}

// clean drops what a manifest may carry that the server owns (creationTimestamp: null, status).
func clean(in map[string]any) map[string]any {
	b, _ := json.Marshal(in)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	delete(out, "status")
	if md, ok := out["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	return out
}

// objDiff is the unified diff of an object's content (metadata the server maintains left out).
func objDiff(kind, name string, live *unstructured.Unstructured, want map[string]any) string {
	doc := func(o map[string]any) string {
		if o == nil {
			return ""
		}
		m := map[string]any{}
		for k, v := range o {
			if k != "status" {
				m[k] = v
			}
		}
		md := map[string]any{"name": name}
		if orig, ok := o["metadata"].(map[string]any); ok {
			for _, k := range []string{"namespace", "labels", "annotations"} {
				if v, ok := orig[k]; ok {
					md[k] = v
				}
			}
		}
		m["metadata"] = md
		m["kind"] = kind
		b, _ := yaml.Marshal(m)
		return string(b)
	}
	var liveObj map[string]any
	if live != nil {
		liveObj = live.Object
	}
	r := diff.Manifests(doc(liveObj), doc(want), diff.Options{Context: 3})
	return r.Text
}

// waitEstablished waits, with a watch, until CRD name is Established.
func waitEstablished(ctx context.Context, dyn dynamic.Interface, name string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		u, err := dyn.Resource(CRDResource).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("CRD %s: %w", name, err)
		}
		if c, err := FromUnstructured(u.Object); err == nil && c.Established {
			return nil
		}
		wt, err := dyn.Resource(CRDResource).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name, ResourceVersion: u.GetResourceVersion()})
		if err != nil {
			return fmt.Errorf("CRD %s: %w", name, err)
		}
		done := watchEstablished(wt)
		wt.Stop()
		if done {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("CRD %s is not Established after %s", name, timeout)
		}
	}
}

func watchEstablished(wt watch.Interface) bool {
	for ev := range wt.ResultChan() {
		u, ok := ev.Object.(*unstructured.Unstructured)
		if !ok || ev.Type == watch.Error {
			return false
		}
		if c, err := FromUnstructured(u.Object); err == nil && c.Established {
			return true
		}
	}
	return false
}
