package adminstep

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/thingpark-tools/kubectl-tpe/pkg/diff"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
	"github.com/thingpark-tools/kubectl-tpe/pkg/rbac"
	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// Config says what Apply does.
type Config struct {
	// Path is the hops whose cluster-admin steps are applied, in order.
	Path []manifest.Hop
	// Namespace is the TPE namespace (the Percona RBAC is namespaced).
	Namespace string
	Source    Source
	// Values are the user's values: the PriorityClasses and StorageClasses they name.
	Values values.Values
	// DryRun is prereq.DryRunNone, DryRunClient (only reads) or DryRunServer (the API server
	// validates every apply without persisting it).
	DryRun string
	// Force takes over the fields another field manager owns.
	Force bool
	// EstablishTimeout bounds the wait for a CRD to be Established (1 minute when 0).
	EstablishTimeout time.Duration
	// AfterVersion is called after each CRD version is applied and verified (tests interrupt a
	// run here); an error stops the run.
	AfterVersion func(step, version string) error
}

// Deps are the clients Apply uses.
type Deps struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	// Reviewer checks the permissions before any change (nil: not checked).
	Reviewer rbac.Reviewer
}

// Change is one object applied (or that would be).
type Change struct {
	Version   string `json:"version,omitempty"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	// Action is one of prereq's actions (created, configured, unchanged, conflict, failed, would ...).
	Action  string `json:"action"`
	Message string `json:"message,omitempty"`
	// Diff is the change, as a unified diff of the object (dry runs).
	Diff string `json:"diff,omitempty"`
}

// StepResult is one step of one hop.
type StepResult struct {
	Hop         string `json:"hop"`
	ID          string `json:"id"`
	Description string `json:"description"`
	// Before and After are the judgements before and after the step ("" After when nothing ran).
	Before  string   `json:"before"`
	After   string   `json:"after,omitempty"`
	Status  Status   `json:"status"`
	Changes []Change `json:"changes,omitempty"`
	// Note says what was chosen (e.g. the PriorityClass spelling) or skipped.
	Note string `json:"note,omitempty"`
	// Failed is why the step stopped the run.
	Failed string `json:"failed,omitempty"`
}

// Result is what Apply did.
type Result struct {
	DryRun string       `json:"dryRun"`
	Steps  []StepResult `json:"steps"`
	// Applied counts the objects created or configured.
	Applied int `json:"applied"`
	// NothingToDo is true when every step was judged done: no mutating request was made.
	NothingToDo bool `json:"nothingToDo"`
	// Conflict is true when a field owned by another manager stopped the run.
	Conflict bool `json:"conflict,omitempty"`
}

// Failed reports whether a step stopped the run.
func (r *Result) Failed() bool {
	for _, s := range r.Steps {
		if s.Failed != "" {
			return true
		}
	}
	return false
}

// PermissionError lists the permissions the user lacks: nothing was changed.
type PermissionError struct {
	Subject string
	Missing []rbac.Permission
}

func (e *PermissionError) Error() string {
	var list []string
	for _, p := range e.Missing {
		list = append(list, p.String())
	}
	return fmt.Sprintf("%s may not apply the cluster-admin steps: missing %s (a cluster administrator runs them): nothing was changed", e.Subject, strings.Join(list, ", "))
}

// work is one step to do, as judged before any change.
type work struct {
	hop     int
	step    manifest.AdminStep
	verdict Verdict
	chain   []Version
	res     StepResult
}

// Apply judges every cluster-admin step of the path and applies those not done, in order: each
// CRD step one version at a time (RBAC, then CRDs, so a matched CRD version means its RBAC was
// applied too), verified after each version with the plan's judgement; then the PriorityClasses
// and StorageClasses the values name. Steps already done make no request; a CRD newer than the
// step is never downgraded; CRDs that match no known version stop the run (nothing can tell
// where to start). The permissions are checked before any change.
func Apply(ctx context.Context, d Deps, cfg Config) (*Result, error) {
	if cfg.EstablishTimeout == 0 {
		cfg.EstablishTimeout = time.Minute
	}
	res := &Result{DryRun: cfg.DryRun}
	var todo []*work
	for i, h := range cfg.Path {
		for _, st := range manifest.AdminSteps(h) {
			w := &work{hop: i, step: st, res: StepResult{Hop: h.To.Name, ID: st.ID, Description: st.Description}}
			if err := judge(ctx, d, cfg, w); err != nil {
				return nil, err
			}
			res.Steps = append(res.Steps, w.res)
			if w.res.Status != Done {
				todo = append(todo, w)
			}
		}
	}
	if len(todo) == 0 {
		res.NothingToDo = true
		return res, nil
	}
	if cfg.DryRun != prereq.DryRunClient && d.Reviewer != nil {
		if err := checkPermissions(ctx, d.Reviewer, cfg.Namespace, todo); err != nil {
			return nil, err
		}
	}
	for _, w := range todo {
		if w.res.Status == Unknown && w.step.Kind == manifest.AdminCRDs {
			w.res.Failed = "cannot tell which version the CRDs are at: refusing to apply (it could downgrade them)"
			replace(res, w)
			return res, nil
		}
	}
	for _, w := range todo {
		if cfg.DryRun == prereq.DryRunNone {
			// Judged again: an earlier step (the same kind on another hop) may have done it.
			if err := judge(ctx, d, cfg, w); err != nil {
				return nil, err
			}
			if w.res.Status == Done {
				replace(res, w)
				continue
			}
		}
		err := run(ctx, d, cfg, w, res)
		replace(res, w)
		if err != nil {
			return res, err
		}
		if w.res.Failed != "" {
			return res, nil
		}
	}
	return res, nil
}

func replace(res *Result, w *work) {
	for i := range res.Steps {
		if res.Steps[i].Hop == w.res.Hop && res.Steps[i].ID == w.res.ID {
			res.Steps[i] = w.res
		}
	}
}

// judge sets w.res.Status and Before.
func judge(ctx context.Context, d Deps, cfg Config, w *work) error {
	switch w.step.Kind {
	case manifest.AdminCRDs:
		w.verdict, w.chain = JudgeStep(ctx, d.Dynamic, cfg.Source, cfg.Path, w.hop, w.step)
		w.res.Status, w.res.Before = w.verdict.Status, w.verdict.Detail
		if w.verdict.Newer {
			w.res.Note = "found " + w.verdict.At + ": not downgraded"
		}
	case manifest.AdminPriorityClasses:
		names, why := priorityNames(cfg.Values)
		missing, err := missingPriority(ctx, d.Kube, names.Names())
		if apierrors.IsForbidden(err) {
			w.res.Status, w.res.Before = Unknown, err.Error()
			return nil
		} else if err != nil {
			return err
		}
		w.res.Note = why
		w.res.Status, w.res.Before = Done, "PriorityClasses "+strings.Join(names.Names(), ", ")+" exist"
		if len(missing) > 0 {
			w.res.Status, w.res.Before = Todo, "missing PriorityClass(es) "+strings.Join(missing, ", ")
		}
	case manifest.AdminStorageClasses:
		wanted := prereq.ValuesStorageClasses(cfg.Values)
		if len(wanted) == 0 {
			w.res.Status, w.res.Before = Done, "no values file names a StorageClass: nothing to create"
			return nil
		}
		missing, err := missingStorage(ctx, d.Kube, wanted)
		if apierrors.IsForbidden(err) {
			w.res.Status, w.res.Before = Unknown, err.Error()
			return nil
		} else if err != nil {
			return err
		}
		w.res.Status, w.res.Before = Done, "StorageClasses "+strings.Join(wanted, ", ")+" exist"
		if len(missing) > 0 {
			w.res.Status, w.res.Before = Todo, "missing StorageClass(es) "+strings.Join(missing, ", ")
		}
	default:
		w.res.Status, w.res.Before = Unknown, "a manual step: "+w.step.FixFor(cfg.Namespace, cfg.Path[w.hop].To.Name)
		w.res.Note = "not done by this command"
	}
	return nil
}

// priorityNames are the PriorityClass names to create: the spelling the values name, else the
// vendor's example file (examples/priority-class/default.yaml), which its values samples name.
func priorityNames(v values.Values) (prereq.PriorityNames, string) {
	used := map[string]bool{}
	if v != nil {
		for n := range v.PriorityClassNames() {
			used[n] = true
		}
	}
	count := func(p prereq.PriorityNames) int {
		n := 0
		for _, x := range p.Names() {
			if used[x] {
				n++
			}
		}
		return n
	}
	if d, vd := count(prereq.DocsPriorityNames), count(prereq.VendorPriorityNames); d > vd {
		return prereq.DocsPriorityNames, "PriorityClass names: the documentation's spelling, which the values name"
	} else if vd > 0 {
		return prereq.VendorPriorityNames, "PriorityClass names: the vendor's example spelling (examples/priority-class/default.yaml), which the values name"
	}
	return prereq.VendorPriorityNames, "PriorityClass names: the vendor's example spelling (examples/priority-class/default.yaml), as the values name none"
}

func missingPriority(ctx context.Context, c kubernetes.Interface, names []string) ([]string, error) {
	list, err := c.SchedulingV1().PriorityClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing PriorityClasses: %w", err)
	}
	var out []string
	for _, n := range names {
		if !slices.ContainsFunc(list.Items, func(p schedulingv1.PriorityClass) bool { return p.Name == n }) {
			out = append(out, n)
		}
	}
	return out, nil
}

func missingStorage(ctx context.Context, c kubernetes.Interface, names []string) ([]string, error) {
	list, err := c.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing StorageClasses: %w", err)
	}
	var out []string
	for _, n := range names {
		if !slices.ContainsFunc(list.Items, func(s storagev1.StorageClass) bool { return s.Name == n }) {
			out = append(out, n)
		}
	}
	return out, nil
}

// permissions lists what the steps to do need.
func permissions(ns string, todo []*work) []rbac.Permission {
	var out []rbac.Permission
	add := func(group, resource, namespace string) {
		for _, verb := range []string{"get", "list", "create", "patch"} {
			p := rbac.Permission{Verb: verb, Group: group, Resource: resource, Namespace: namespace}
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	for _, w := range todo {
		switch w.step.Kind {
		case manifest.AdminCRDs:
			add("apiextensions.k8s.io", "customresourcedefinitions", "")
			if w.step.RBACFile != "" {
				add("rbac.authorization.k8s.io", "roles", ns)
				add("rbac.authorization.k8s.io", "rolebindings", ns)
				add("", "serviceaccounts", ns)
			}
		case manifest.AdminPriorityClasses:
			add("scheduling.k8s.io", "priorityclasses", "")
		case manifest.AdminStorageClasses:
			add("storage.k8s.io", "storageclasses", "")
		}
	}
	return out
}

// checkPermissions reviews the permissions (SelfSubjectRulesReview, then access reviews) before
// any change.
func checkPermissions(ctx context.Context, r rbac.Reviewer, ns string, todo []*work) error {
	p := rbac.Profile{Name: "cluster-admin steps", Namespace: ns, Permissions: permissions(ns, todo)}
	res, err := rbac.Check(ctx, r, p)
	if err != nil {
		return fmt.Errorf("checking the permissions of the cluster-admin steps: %w", err)
	}
	if len(res.Missing) > 0 {
		return &PermissionError{Subject: res.Subject, Missing: res.Missing}
	}
	return nil
}

// run does one step.
func run(ctx context.Context, d Deps, cfg Config, w *work, res *Result) error {
	switch w.step.Kind {
	case manifest.AdminCRDs:
		return runCRDs(ctx, d, cfg, w, res)
	case manifest.AdminPriorityClasses:
		names, _ := priorityNames(cfg.Values)
		objs := prereq.Build(prereq.Config{Hosting: prereq.HostingOther, PriorityClassNames: names.Spelling})
		return applyPrereq(ctx, d, cfg, w, res, prereq.Objects{PriorityClasses: objs.PriorityClasses})
	case manifest.AdminStorageClasses:
		return runStorage(ctx, d, cfg, w, res)
	}
	return nil
}

func applyPrereq(ctx context.Context, d Deps, cfg Config, w *work, res *Result, objs prereq.Objects) error {
	out, err := prereq.Apply(ctx, d.Kube, objs, prereq.ApplyOptions{DryRun: cfg.DryRun, ForceConflicts: cfg.Force})
	if err != nil {
		return err
	}
	for _, r := range out {
		if r.Kind == "IngressClass" {
			continue
		}
		w.res.Changes = append(w.res.Changes, Change{Kind: r.Kind, Name: r.Name, Action: r.Action, Message: r.Message})
		switch r.Action {
		case prereq.ActionCreated, prereq.ActionConfigured:
			res.Applied++
		case prereq.ActionConflict:
			res.Conflict = true
			w.res.Failed = r.Kind + " " + r.Name + ": " + r.Message
		case prereq.ActionFailed:
			w.res.Failed = r.Kind + " " + r.Name + ": " + r.Message
		}
	}
	if cfg.DryRun == prereq.DryRunNone && w.res.Failed == "" {
		w.res.After, w.res.Status = "applied", Done
	}
	return nil
}

// runStorage creates the StorageClasses the values name that the vendor's examples define.
func runStorage(ctx context.Context, d Deps, cfg Config, w *work, res *Result) error {
	missing, err := missingStorage(ctx, d.Kube, prereq.ValuesStorageClasses(cfg.Values))
	if err != nil {
		return err
	}
	found := map[string]*storagev1.StorageClass{}
	for _, f := range w.step.Files {
		data, err := cfg.Source.Read(ctx, cfg.Path[w.hop].To, f)
		if err != nil {
			continue // an example the vendor does not publish for this release
		}
		docs, err := SplitYAML(f, data)
		if err != nil {
			return err
		}
		for _, doc := range docs {
			if doc.Kind != "StorageClass" || !slices.Contains(missing, doc.Name) {
				continue
			}
			var sc storagev1.StorageClass
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(doc.Object, &sc); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			found[doc.Name] = &sc
		}
	}
	var objs prereq.Objects
	var unknown []string
	for _, n := range missing {
		if sc, ok := found[n]; ok {
			objs.StorageClasses = append(objs.StorageClasses, sc)
		} else {
			unknown = append(unknown, n)
		}
	}
	if len(objs.StorageClasses) > 0 {
		if err := applyPrereq(ctx, d, cfg, w, res, objs); err != nil {
			return err
		}
	}
	if len(unknown) > 0 && w.res.Failed == "" {
		w.res.Status, w.res.After = Todo, ""
		w.res.Failed = "StorageClass(es) " + strings.Join(unknown, ", ") + " are not in the vendor's StorageClass examples of " + cfg.Path[w.hop].To.Name + ": create them for your storage"
	}
	return nil
}

// runCRDs applies the versions of a CRD step from the verdict's next one to the target.
func runCRDs(ctx context.Context, d Deps, cfg Config, w *work, res *Result) error {
	start := slices.Index(w.step.Versions, w.verdict.Next)
	if start < 0 {
		w.res.Failed = "cannot tell which version to apply next: " + w.verdict.Detail
		return nil
	}
	for _, v := range w.step.Versions[start:] {
		files := []string{}
		if w.step.RBACFile != "" {
			files = append(files, w.step.RBACPath(v))
		}
		files = append(files, w.step.CRDPath(v))
		for _, f := range files {
			data, err := cfg.Source.Read(ctx, cfg.Path[w.hop].To, f)
			if err != nil {
				w.res.Failed = fmt.Sprintf("reading %s (%s): %v", f, cfg.Source.Describe(), err)
				return nil
			}
			docs, err := SplitYAML(f, data)
			if err != nil {
				w.res.Failed = err.Error()
				return nil
			}
			for _, doc := range docs {
				c := applyDoc(ctx, d.Dynamic, cfg, doc)
				c.Version = v
				w.res.Changes = append(w.res.Changes, c)
				switch c.Action {
				case prereq.ActionCreated, prereq.ActionConfigured:
					res.Applied++
				case prereq.ActionConflict:
					res.Conflict = true
					w.res.Failed = fmt.Sprintf("%s %s (%s %s): %s", c.Kind, c.Name, w.step.Operator, v, c.Message)
					return nil
				case prereq.ActionFailed:
					w.res.Failed = fmt.Sprintf("%s %s (%s %s): %s", c.Kind, c.Name, w.step.Operator, v, c.Message)
					return nil
				}
			}
		}
		if cfg.DryRun != prereq.DryRunNone {
			continue
		}
		// Verified with the plan's judgement: Established, and the version matched.
		for _, c := range chainCRDs(w.chain, v) {
			if err := waitEstablished(ctx, d.Dynamic, c, cfg.EstablishTimeout); err != nil {
				w.res.Failed = err.Error()
				return nil
			}
		}
		live, err := Live(ctx, d.Dynamic, w.chain)
		if err != nil {
			return err
		}
		vd := Judge(w.step, live, w.chain)
		w.res.After = vd.Detail
		if vd.At != v {
			w.res.Failed = fmt.Sprintf("after applying %s %s the CRDs do not match it: %s", w.step.Operator, v, vd.Detail)
			return nil
		}
		w.res.Status = vd.Status
		if cfg.AfterVersion != nil {
			if err := cfg.AfterVersion(w.step.ID, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func chainCRDs(chain []Version, v string) []string {
	for _, c := range chain {
		if c.Version == v {
			var out []string
			for _, crd := range c.CRDs {
				out = append(out, crd.Name)
			}
			return out
		}
	}
	return nil
}

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
