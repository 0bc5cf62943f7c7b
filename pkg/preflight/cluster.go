package preflight

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// apiAnswer is the round trip of the version request, reported by the deployment machine check.
type apiAnswer struct {
	rtt time.Duration
	err error
	ver string
}

// checkVersion is check 1 (and records the API server's round trip for check 11).
func (r *Runner) checkVersion() []check.Check {
	c := check.Check{ID: "kubernetes.version", Category: CatKubernetes}
	start := time.Now()
	sv, err := r.Kube.Discovery().ServerVersion()
	r.api = apiAnswer{rtt: time.Since(start), err: err}
	if err != nil {
		c.Status, c.Message = check.Fail, fmt.Sprintf("the API server does not answer: %v", err)
		c.Remediation = "check {flag:kubeconfig}/{flag:context} and that this machine reaches the API server (bastion, VPN)"
		return []check.Check{c}
	}
	r.api.ver = sv.GitVersion
	rel := r.Cfg.Target.Release
	c = prereq.CheckKubernetes(rel, r.Cfg.Target.Known, prereq.ServerVersion{Major: sv.Major, Minor: sv.Minor, GitVersion: sv.GitVersion}, r.Cfg.Strict)
	if !r.Cfg.Target.Known || rel.Kubernetes.Min == "" {
		c.Remediation = "pass a known release with {flag:to} (e.g. v7.3.1), or upgrade kubectl-tpe"
	}
	return []check.Check{c}
}

// checkPriorityClasses is check 2.
func (r *Runner) checkPriorityClasses(ctx context.Context) []check.Check {
	c := check.Check{ID: "priorityclasses", Category: CatPriority}
	list, err := r.Kube.SchedulingV1().PriorityClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return []check.Check{listProblem(c.ID, c.Category, "PriorityClasses", err)}
	}
	have := map[string]int32{}
	for _, p := range list.Items {
		have[p.Name] = p.Value
	}
	in := prereq.PriorityInput{Have: have, Spelling: r.Cfg.Prereq.PriorityClassNames, Hosting: r.Cfg.Hosting}
	if r.Cfg.HasValues {
		in.Values = r.Cfg.Values
	}
	return prereq.CheckPriorityClasses(in)
}

// Segment minimum allocatable per node (the vendor's TPE 7.1 Kubernetes sizing). S and M are our
// inference from the 7.3 sizing files (their sums of requests over three nodes); the vendor gave L,
// XL and XXL.
var segmentMins = map[string]struct {
	cpu, mem string
	inferred bool
}{
	"S": {"2", "8Gi", true}, "M": {"2", "8Gi", true},
	"L": {"3500m", "12.5Gi", false}, "XL": {"7500m", "27.5Gi", false}, "XXL": {"31500m", "118Gi", false},
}

// NodeGroupLabel marks the dedicated TPE nodes.
const NodeGroupLabel = "thingpark.enterprise.actility.com/nodegroup-name"

// checkNodes is check 8.
func (r *Runner) checkNodes(ctx context.Context) []check.Check {
	list, err := r.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return []check.Check{listProblem("nodes.count", CatNodes, "Nodes", err)}
	}
	r.sawNodes = true
	var schedulable, tpe []corev1.Node
	var tainted []string
	zones := map[string]int{}
	for _, n := range list.Items {
		if n.Spec.Unschedulable || !nodeReady(n) {
			continue
		}
		if t, ok := untoleratedTaint(n); ok {
			tainted = append(tainted, fmt.Sprintf("%s (%s)", n.Name, t.ToString()))
			continue
		}
		schedulable = append(schedulable, n)
		if z := n.Labels[corev1.LabelTopologyZone]; z != "" {
			zones[z]++
		}
		if n.Labels[NodeGroupLabel] == "tpe" {
			tpe = append(tpe, n)
		}
	}
	r.nodeCount = len(schedulable)
	for z := range zones {
		r.zones = append(r.zones, z)
	}
	sort.Strings(r.zones)
	var out []check.Check
	cnt := check.Check{ID: "nodes.count", Category: CatNodes, Status: check.Pass,
		Message: fmt.Sprintf("%d schedulable, ready node(s) of %d", len(schedulable), len(list.Items))}
	if len(schedulable) < 3 {
		cnt.Status, cnt.Message = check.Fail, fmt.Sprintf("only %d schedulable, ready node(s) (of %d); TPE needs at least 3", len(schedulable), len(list.Items))
		cnt.Remediation = "add worker nodes (3 workers in 3 availability zones)"
		if len(tainted) > 0 {
			cnt.Remediation += fmt.Sprintf(", or remove the taints TPE's pods do not tolerate (only %s=tpe is tolerated, with the vendor's values-selectors.yaml)", NodeGroupLabel)
		}
	}
	if len(tainted) > 0 {
		cnt.Message += fmt.Sprintf("; %d ready node(s) not counted: a NoSchedule or NoExecute taint TPE's pods do not tolerate", len(tainted))
		cnt.Details = tainted
	}
	out = append(out, cnt)
	zc := check.Check{ID: "nodes.zones", Category: CatNodes, Status: check.Pass,
		Message: fmt.Sprintf("schedulable nodes span %d zone(s): %s", len(zones), names(r.zones))}
	if len(zones) < 3 {
		zc.Status = check.Fail
		zc.Message = fmt.Sprintf("schedulable nodes span %d zone(s) (%s); TPE needs 3 (label %s)", len(zones), text.OrNone(names(r.zones)), corev1.LabelTopologyZone)
		zc.Remediation = "spread the node group over three availability zones"
	}
	out = append(out, zc)
	ng := check.Check{ID: "nodes.nodegroup-label", Category: CatNodes, Status: check.Pass,
		Message: fmt.Sprintf("%d node(s) carry %s=tpe", len(tpe), NodeGroupLabel)}
	if len(tpe) < 3 {
		ng.Status = check.Warn
		ng.Message = fmt.Sprintf("%d node(s) carry %s=tpe; the vendor's selectors (values-selectors.yaml) need 3", len(tpe), NodeGroupLabel)
		ng.Remediation = fmt.Sprintf("kubectl label node <node> %s=tpe   (on three nodes, one per zone), or do not use values-selectors.yaml", NodeGroupLabel)
	}
	out = append(out, ng)

	seg := strings.ToUpper(r.Cfg.Segment)
	alloc := check.Check{ID: "nodes.allocatable", Category: CatNodes}
	need, ok := segmentMins[seg]
	if !ok {
		alloc.Status, alloc.Message = check.Skip, "no sizing segment given ({flag:segment} S|M|L|XL|XXL): allocatable CPU and memory not judged"
		return append(out, alloc)
	}
	pool := tpe
	poolName := "TPE node group"
	if len(pool) < 3 {
		pool, poolName = schedulable, "schedulable"
	}
	minCPU, minMem := resource.MustParse(need.cpu), resource.MustParse(need.mem)
	var small []string
	for _, n := range pool {
		cpu, mem := n.Status.Allocatable[corev1.ResourceCPU], n.Status.Allocatable[corev1.ResourceMemory]
		if cpu.Cmp(minCPU) < 0 || mem.Cmp(minMem) < 0 {
			small = append(small, fmt.Sprintf("%s (%s CPU, %s memory)", n.Name, cpu.String(), mem.String()))
		}
	}
	note := ""
	if need.inferred {
		note = " (segment " + seg + " minimum inferred, the vendor gives none)"
	}
	big := len(pool) - len(small)
	switch {
	case big >= 3:
		alloc.Status = check.Pass
		alloc.Message = fmt.Sprintf("%d %s node(s) have at least %s CPU and %s memory allocatable for segment %s%s", big, poolName, need.cpu, need.mem, seg, note)
	default:
		alloc.Status = check.Fail
		alloc.Message = fmt.Sprintf("segment %s needs 3 nodes with at least %s CPU and %s memory allocatable%s; %d qualify", seg, need.cpu, need.mem, note, big)
		alloc.Details = small
		alloc.Remediation = "use larger instance types (e.g. L: Azure D4s_v5 / AWS m5.xlarge; XL: D8s_v5 / m5.2xlarge; XXL: D32s_v5 / m5.8xlarge)"
	}
	return append(out, alloc)
}

// tpeTolerations are the tolerations of TPE's pods: the dedicated node group's taint, set by the
// vendor's values-selectors.yaml.
var tpeTolerations = []corev1.Toleration{{Key: NodeGroupLabel, Operator: corev1.TolerationOpEqual, Value: "tpe"}}

// untoleratedTaint returns the first NoSchedule or NoExecute taint of n that TPE's pods do not
// tolerate (PreferNoSchedule only steers the scheduler).
func untoleratedTaint(n corev1.Node) (corev1.Taint, bool) {
	for _, t := range n.Spec.Taints {
		if t.Effect != corev1.TaintEffectNoSchedule && t.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		tolerated := false
		for _, tol := range tpeTolerations {
			tolerated = tolerated || tol.ToleratesTaint(klog.Background(), &t, false)
		}
		if !tolerated {
			return t, true
		}
	}
	return corev1.Taint{}, false
}

func nodeReady(n corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	// A node without conditions yet (just registered) is not judged unready.
	return len(n.Status.Conditions) == 0
}

// checkStorage is check 3.
func (r *Runner) checkStorage(ctx context.Context) []check.Check {
	list, err := r.Kube.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return []check.Check{listProblem("storage.classes", CatStorage, "StorageClasses", err)}
	}
	byName := map[string]storagev1.StorageClass{}
	var dynamic, defaults []string
	for _, sc := range list.Items {
		byName[sc.Name] = sc
		if sc.Provisioner != "kubernetes.io/no-provisioner" && sc.Provisioner != "" {
			dynamic = append(dynamic, sc.Name+" ("+sc.Provisioner+")")
		}
		if sc.Annotations["storageclass.kubernetes.io/is-default-class"] == "true" {
			defaults = append(defaults, sc.Name)
		}
	}
	var out []check.Check
	dyn := check.Check{ID: "storage.dynamic-provisioning", Category: CatStorage, Status: check.Pass,
		Message: "dynamic provisioning: " + names(dynamic)}
	if len(dynamic) == 0 {
		dyn.Status = check.Fail
		dyn.Message = fmt.Sprintf("no StorageClass with a dynamic provisioner (%d class(es), none provisions volumes)", len(list.Items))
		dyn.Remediation = r.prereqFix() + "   (install the CSI driver of your hosting first)"
	}
	out = append(out, dyn)

	// Which classes will TPE use?
	var required []string
	var why string
	if r.Cfg.HasValues {
		required = prereq.ValuesStorageClasses(r.Cfg.Values)
		why = "named by the values"
	}
	if len(required) == 0 && r.Cfg.Hosting != "" {
		required = prereq.StorageClassNames(r.prereqConfig())
		why = "of hosting " + r.Cfg.Hosting
	}
	if len(required) == 0 {
		cls := check.Check{ID: "storage.classes", Category: CatStorage}
		if len(defaults) > 0 {
			cls.Status, cls.Message = check.Pass, fmt.Sprintf("the values name no StorageClass; the default class %s will be used", names(defaults))
			r.storageUsed = defaults
		} else {
			cls.Status = check.Fail
			cls.Message = "no StorageClass is marked default, and neither {flag:hosting} nor the values name one"
			cls.Remediation = "{cmd:prereqs-apply} {flag:hosting} <aks|eks|gke|other>, or set the persistence.storageClass keys in the values"
		}
		return append(out, cls)
	}
	exists := func(n string) bool { _, ok := byName[n]; return ok }
	cls, present := prereq.CheckStorageClasses(exists, required, why, r.prereqFix())
	r.storageUsed = present
	out = append(out, cls)

	if want, managed := prereq.CSIDrivers[r.Cfg.Hosting]; managed {
		csi := check.Check{ID: "storage.csi-driver", Category: CatStorage}
		var wrong []string
		for _, n := range present {
			if byName[n].Provisioner != want {
				wrong = append(wrong, n+" ("+byName[n].Provisioner+")")
			}
		}
		drivers, err := r.Kube.StorageV1().CSIDrivers().List(ctx, metav1.ListOptions{})
		installed := false
		if err == nil {
			for _, d := range drivers.Items {
				installed = installed || d.Name == want
			}
		}
		switch {
		case err != nil:
			csi = listProblem(csi.ID, csi.Category, "CSIDrivers", err)
		case !installed:
			csi.Status, csi.Message = check.Fail, fmt.Sprintf("the CSI driver %s of %s is not installed (no CSIDriver object)", want, r.Cfg.Hosting)
			csi.Remediation = "install the " + want + " CSI driver (an add-on of " + strings.ToUpper(r.Cfg.Hosting) + ")"
		case len(wrong) > 0:
			csi.Status, csi.Message = check.Warn, fmt.Sprintf("StorageClass(es) %s do not use %s, the driver validated on %s", names(wrong), want, r.Cfg.Hosting)
		default:
			csi.Status, csi.Message = check.Pass, fmt.Sprintf("CSI driver %s is installed and used", want)
		}
		out = append(out, csi)
	}
	if len(present) > 0 {
		var immediate, noExpand []string
		for _, n := range present {
			sc := byName[n]
			if sc.VolumeBindingMode == nil || *sc.VolumeBindingMode == storagev1.VolumeBindingImmediate {
				immediate = append(immediate, n)
			}
			if sc.AllowVolumeExpansion == nil || !*sc.AllowVolumeExpansion {
				noExpand = append(noExpand, n)
			}
		}
		bm := check.Check{ID: "storage.binding-mode", Category: CatStorage, Status: check.Pass, Message: "StorageClasses bind volumes with WaitForFirstConsumer"}
		if len(immediate) > 0 {
			bm.Message = fmt.Sprintf("StorageClass(es) %s bind volumes Immediately", names(immediate))
			if len(r.zones) > 1 || !r.sawNodes {
				bm.Status = check.Warn
				bm.Message += ": across zones a volume can be created in a zone where its pod cannot run"
				bm.Remediation = "use volumeBindingMode: WaitForFirstConsumer (StorageClasses are immutable: recreate them)"
			}
		}
		out = append(out, bm)
		ex := check.Check{ID: "storage.expansion", Category: CatStorage, Status: check.Pass, Message: "StorageClasses allow volume expansion"}
		if len(noExpand) > 0 {
			ex.Status = check.Warn
			ex.Message = fmt.Sprintf("StorageClass(es) %s do not allow volume expansion: growing a segment's volumes will need a migration", names(noExpand))
			ex.Remediation = "set allowVolumeExpansion: true (this field may be changed on an existing StorageClass)"
		}
		out = append(out, ex)
	}
	return out
}

// prereqConfig is the Prereq config for the target release (the EKS StorageClasses depend on it).
func (r *Runner) prereqConfig() prereq.Config {
	c := r.Cfg.Prereq
	if c.TPEVersion == "" {
		c.TPEVersion = targetTag(r.Cfg.Target.Release)
	}
	return c
}

// targetTag is the release name of the target, or for a --manifest release of no known name, the
// newest release of the matrix with the same thingpark-enterprise chart major (chart 2.x is TPE 8).
func targetTag(rel manifest.Release) string {
	if t, err := manifest.ParseTag(rel.Name); err == nil {
		return t.String()
	}
	if r, ok := manifest.MustLoad().ByEnterpriseChart(rel.Enterprise); ok {
		return r.Name
	}
	return ""
}

func (r *Runner) prereqFix() string {
	s := "{cmd:prereqs-apply} {flag:hosting} " + prereq.HostingOr(r.Cfg.Hosting)
	if v := targetTag(r.Cfg.Target.Release); v != "" {
		s += " {flag:to} " + v
	}
	if r.Cfg.Hosting == prereq.HostingOther {
		p := r.Cfg.Prereq.Provisioner
		if p == "" {
			p = "<provisioner>"
		}
		s += " {flag:storage-provisioner} " + p
	}
	return s
}

// checkIngressClass is check 4.
func (r *Runner) checkIngressClass(ctx context.Context) []check.Check {
	name, controller := values.DefaultIngressClass, values.DefaultIngressController
	if r.Cfg.HasValues {
		name, controller = r.Cfg.Values.IngressClass()
	}
	c := check.Check{ID: "ingress.class", Category: CatIngress}
	list, err := r.Kube.NetworkingV1().IngressClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return []check.Check{listProblem(c.ID, c.Category, "IngressClasses", err)}
	}
	for _, ic := range list.Items {
		if ic.Name != name {
			continue
		}
		if ic.Spec.Controller != controller {
			c.Status = check.Fail
			c.Message = fmt.Sprintf("IngressClass %s exists but its controller is %s, not %s: TPE's ingress-nginx would ignore its Ingresses", name, ic.Spec.Controller, controller)
			c.Remediation = "delete IngressClass " + name + " and run " + r.prereqFix()
			return []check.Check{c}
		}
		c.Status, c.Message = check.Pass, fmt.Sprintf("IngressClass %s exists with controller %s", name, controller)
		return []check.Check{c}
	}
	c.Status, c.Message = check.Fail, fmt.Sprintf("IngressClass %s (controller %s) does not exist", name, controller)
	c.Remediation = r.prereqFix()
	return []check.Check{c}
}

// CRDGroups are the API groups of the custom resources the charts need (the CRDs of the vendor's
// manifests/ folder: Strimzi, Percona Server for MongoDB, cert-manager).
var CRDGroups = []string{"kafka.strimzi.io", "core.strimzi.io", "psmdb.percona.com", "cert-manager.io", "acme.cert-manager.io"}

// checkCRDs is check 5: one discovery request, then one access review if a group is missing.
func (r *Runner) checkCRDs(ctx context.Context) []check.Check {
	groups, err := r.Kube.Discovery().ServerGroups()
	if err != nil {
		return []check.Check{{ID: "crds", Category: CatCRDs, Status: check.Fail, Message: fmt.Sprintf("API discovery failed: %v", err)}}
	}
	served := map[string][]string{}
	r.preferred = map[string]string{}
	for _, g := range groups.Groups {
		for _, v := range g.Versions {
			served[g.Name] = append(served[g.Name], v.Version)
		}
		r.preferred[g.Name] = g.PreferredVersion.GroupVersion
	}
	var out []check.Check
	canCreate, asked := false, false
	for _, g := range CRDGroups {
		c := check.Check{ID: "crds." + g, Category: CatCRDs}
		if vs := served[g]; len(vs) > 0 {
			c.Status, c.Message = check.Pass, fmt.Sprintf("API group %s is served (%s)", g, names(vs))
			out = append(out, c)
			continue
		}
		if !asked {
			asked = true
			canCreate, _, _ = r.Cfg.Reviewer.Allowed(ctx, rbacPerm("create", "apiextensions.k8s.io", "customresourcedefinitions"))
		}
		if canCreate {
			c.Status = check.Pass
			c.Message = fmt.Sprintf("API group %s is not served yet; %s may create its CRDs (chart thingpark-data-controllers/thingpark-application-controllers or the vendor's manifests/upgrade/*-crds-*.yaml)", g, r.Cfg.Reviewer.Subject())
		} else if r.Cfg.Profile == ProfileOperator {
			// The operator cannot create CRDs and cannot tell whether the administrator will.
			c.Status = check.Warn
			c.Message = fmt.Sprintf("API group %s is not served yet: the cluster administrator must create its CRDs before chart thingpark-data-controllers is installed", g)
			c.Remediation = "ask the cluster administrator to apply the CRDs of the release (manifests/upgrade/ of the vendor repository), or to run `{cmd:preflight} {flag:profile} admin`"
		} else {
			c.Status = check.Fail
			c.Message = fmt.Sprintf("API group %s is not served and %s may not create CustomResourceDefinitions", g, r.Cfg.Reviewer.Subject())
			c.Remediation = "apply the CRDs of the release as a cluster administrator (manifests/upgrade/ of the vendor repository)"
		}
		out = append(out, c)
	}
	return out
}
