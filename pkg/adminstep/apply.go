package adminstep

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
	"github.com/thingpark-tools/kubectl-tpe/pkg/rbac"
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
