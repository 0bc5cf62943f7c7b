package adminstep

import (
	"context"
	"fmt"
	"slices"
	"strings"

	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// The PriorityClass and StorageClass steps: which names the values call for, which the cluster
// lacks, and their apply through pkg/prereq.

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
