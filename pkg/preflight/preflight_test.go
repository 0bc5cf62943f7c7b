package preflight

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
	"github.com/thingpark-tools/kubectl-tpe/pkg/rbac"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// cluster builds a fake cluster: server version minor, the given objects, CRD groups served,
// and an authorizer granting rules (nil = cluster-admin).
func cluster(t *testing.T, minor string, rules []authv1.ResourceRule, objs ...runtime.Object) *fake.Clientset {
	t.Helper()
	c := fake.NewClientset(objs...)
	d := c.Discovery().(*fakediscovery.FakeDiscovery)
	d.FakedServerVersion = &version.Info{Major: "1", Minor: minor, GitVersion: "v1." + minor + ".2"}
	d.Resources = []*metav1.APIResourceList{
		{GroupVersion: "kafka.strimzi.io/v1beta2", APIResources: []metav1.APIResource{{Name: "kafkas", Namespaced: true, Kind: "Kafka"}}},
		{GroupVersion: "core.strimzi.io/v1beta2", APIResources: []metav1.APIResource{{Name: "strimzipodsets", Namespaced: true}}},
		{GroupVersion: "psmdb.percona.com/v1", APIResources: []metav1.APIResource{{Name: "perconaservermongodbs", Namespaced: true}}},
		{GroupVersion: "cert-manager.io/v1", APIResources: []metav1.APIResource{{Name: "certificates", Namespaced: true}}},
		{GroupVersion: "acme.cert-manager.io/v1", APIResources: []metav1.APIResource{{Name: "orders", Namespaced: true}}},
	}
	if rules == nil {
		rules = []authv1.ResourceRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}
	}
	c.PrependReactor("create", "selfsubjectrulesreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authv1.SelfSubjectRulesReview{Status: authv1.SubjectRulesReviewStatus{ResourceRules: rules}}, nil
	})
	c.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview)
		at := r.Spec.ResourceAttributes
		res := at.Resource
		if at.Subresource != "" {
			res += "/" + at.Subresource
		}
		r.Status.Allowed = rbac.Covers(rules, rbac.Permission{Verb: at.Verb, Group: at.Group, Resource: res})
		return true, r, nil
	})
	return c
}

func node(name, zone string, cpu, mem string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelTopologyZone: zone, NodeGroupLabel: "tpe"}},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		},
	}
}

func tainted(n *corev1.Node, key, value string, effect corev1.TaintEffect) *corev1.Node {
	n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Value: value, Effect: effect})
	return n
}

func threeNodes() []runtime.Object {
	return []runtime.Object{node("a", "zone-a", "3860m", "15Gi"), node("b", "zone-b", "3860m", "15Gi"), node("c", "zone-c", "3860m", "15Gi")}
}

func baseConfig(t *testing.T, release string) Config {
	t.Helper()
	tg, err := ResolveTarget(manifest.MustLoad(), manifest.Request{Name: release})
	if err != nil {
		t.Fatal(err)
	}
	return Config{Profile: ProfileAll, Target: tg, Namespace: "thingpark-enterprise",
		Prereq: prereq.Config{Hosting: prereq.HostingOther, Provisioner: "rancher.io/local-path"}, Hosting: prereq.HostingOther}
}

func run(t *testing.T, c *fake.Clientset, cfg Config) *check.Report {
	t.Helper()
	rep, err := Run(t.Context(), c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func must(t *testing.T, rep *check.Report, id string, want check.Status, mention string) check.Check {
	t.Helper()
	c, ok := rep.Find(id)
	if !ok {
		t.Fatalf("no check %s in %+v", id, rep.Checks)
	}
	if c.Status != want || !strings.Contains(c.Message, mention) {
		t.Fatalf("%s = %s %q, want %s mentioning %q", id, c.Status, c.Message, want, mention)
	}
	return c
}

func TestKubernetesVersion(t *testing.T) {
	tests := []struct {
		name, minor, release string
		strict               bool
		want                 check.Status
		mention              string
	}{
		{"7.3.1 on 1.27 passes", "27", "v7.3.1", false, check.Pass, "1.27 is supported by TPE v7.3.1 (1.24–1.27)"},
		{"7.3.0 on 1.27 is newer", "27", "v7.3.0", false, check.Warn, "newer than the versions validated for TPE v7.3.0 (1.24–1.26)"},
		{"7.3.1 on 1.23 fails", "23", "v7.3.1", false, check.Fail, "older than the versions supported by TPE v7.3.1"},
		{"7.3.1 on 1.37 warns", "37", "v7.3.1", false, check.Warn, "newer than the versions validated for TPE v7.3.1"},
		{"strict makes newer fail", "37", "v7.3.1", true, check.Fail, "{flag:strict}"},
		{"GKE style minor", "25+", "v7.3.1", false, check.Pass, "1.25 is supported"},
		{"unknown release warns", "26", "v7.9.9", false, check.Warn, "TPE release v7.9.9 is unknown"},
		{"8.0.0 on 1.26 passes", "26", "v8.0.0", false, check.Pass, "1.26 is supported by TPE v8.0.0 (1.26–1.28)"},
		{"8.0.0 on 1.28 passes", "28", "v8.0.0", false, check.Pass, "1.28 is supported by TPE v8.0.0"},
		{"8.0.0 on 1.25 fails", "25", "v8.0.0", false, check.Fail, "older than the versions supported by TPE v8.0.0"},
		{"8.0.0 on 1.29 warns", "29", "v8.0.0", false, check.Warn, "newer than the versions validated for TPE v8.0.0 (1.26–1.28)"},
		{"8.0.0 on 1.29 strict fails", "29", "v8.0.0", true, check.Fail, "{flag:strict}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cluster(t, tt.minor, nil)
			var cfg Config
			if _, ok := manifest.MustLoad().Get(tt.release); ok {
				cfg = baseConfig(t, tt.release)
			} else {
				// A --manifest file named by --tpe-version, whose charts no known release has.
				cfg = baseConfig(t, "v7.3.1")
				cfg.Target = Target{Release: manifest.Release{Name: tt.release}}
			}
			cfg.Strict = tt.strict
			must(t, run(t, c, cfg), "kubernetes.version", tt.want, tt.mention)
		})
	}
}

func pc(name string, v int32) *schedulingv1.PriorityClass {
	return &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Value: v}
}

func TestPriorityClasses(t *testing.T) {
	tests := []struct {
		name    string
		objs    []runtime.Object
		want    check.Status
		mention string
	}{
		{"none", nil, check.Fail, "missing PriorityClass(es) thingpark-datapath, thingpark-data, thingpark-others (docs spelling"},
		{"docs", []runtime.Object{pc("thingpark-datapath", 1000000), pc("thingpark-data", 999800), pc("thingpark-others", 999500)}, check.Pass, "docs spelling"},
		{"vendor", []runtime.Object{pc("thingpark-data-path", 1000000), pc("thingpark-data", 999800), pc("thingpark-other", 999500)}, check.Pass, "vendor spelling"},
		{"partial vendor", []runtime.Object{pc("thingpark-data-path", 1000000), pc("thingpark-data", 999800)}, check.Fail, "missing PriorityClass(es) thingpark-other (vendor"},
		{"out of order", []runtime.Object{pc("thingpark-datapath", 10), pc("thingpark-data", 999800), pc("thingpark-others", 999500)}, check.Fail, "out of order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cluster(t, "26", nil, tt.objs...)
			res := must(t, run(t, c, baseConfig(t, "v7.3.1")), "priorityclasses", tt.want, tt.mention)
			if tt.want == check.Fail && !strings.Contains(res.Remediation, "{cmd:prereqs-apply}") {
				t.Errorf("remediation %q", res.Remediation)
			}
		})
	}
}

func sc(name, provisioner string, wffc, expand bool) *storagev1.StorageClass {
	mode := storagev1.VolumeBindingImmediate
	if wffc {
		mode = storagev1.VolumeBindingWaitForFirstConsumer
	}
	return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: provisioner, VolumeBindingMode: &mode, AllowVolumeExpansion: &expand}
}

func TestStorage(t *testing.T) {
	prereqObjs := func(h string) []runtime.Object {
		var out []runtime.Object
		cfg := prereq.Config{Hosting: h, Provisioner: map[string]string{"other": "rancher.io/local-path"}[h]}
		for _, s := range prereq.Build(cfg).StorageClasses {
			out = append(out, s)
		}
		return out
	}
	tests := []struct {
		name    string
		hosting string
		objs    []runtime.Object
		values  string
		id      string
		want    check.Status
		mention string
	}{
		{"nothing", "other", nil, "", "storage.dynamic-provisioning", check.Fail, "no StorageClass with a dynamic provisioner"},
		{"no-provisioner only", "other", []runtime.Object{sc("local", "kubernetes.io/no-provisioner", true, false)}, "", "storage.dynamic-provisioning", check.Fail, "none provisions"},
		{"missing hosting class", "other", []runtime.Object{sc("x", "a.b/c", true, true)}, "", "storage.classes", check.Fail, "missing StorageClass(es) thingpark-standard (of hosting other)"},
		{"after prereqs", "other", prereqObjs("other"), "", "storage.classes", check.Pass, "thingpark-standard exist"},
		{"aks classes", "aks", prereqObjs("aks"), "", "storage.classes", check.Pass, "thingpark-csi-premium-lrs-xfs"},
		{"aks without driver", "aks", prereqObjs("aks"), "", "storage.csi-driver", check.Fail, "disk.csi.azure.com of aks is not installed"},
		{"values name a missing class", "eks", prereqObjs("eks"), "mongo-replicaset: {persistence: {storageClass: fast}}", "storage.classes", check.Fail, "missing StorageClass(es) fast (named by the values)"},
		{"immediate across zones", "other", []runtime.Object{sc("thingpark-standard", "a.b/c", false, true)}, "", "storage.binding-mode", check.Warn, "Immediately"},
		{"no expansion", "eks", prereqObjs("eks"), "", "storage.expansion", check.Warn, "do not allow volume expansion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cluster(t, "26", nil, append(tt.objs, threeNodes()...)...)
			cfg := baseConfig(t, "v7.3.1")
			cfg.Hosting, cfg.Prereq.Hosting = tt.hosting, tt.hosting
			if tt.hosting != "other" {
				cfg.Prereq.Provisioner = ""
			}
			if tt.values != "" {
				v, _ := values.Parse([]byte(tt.values))
				cfg.Values, cfg.HasValues = v, true
			}
			must(t, run(t, c, cfg), tt.id, tt.want, tt.mention)
		})
	}
}

// TestStorageEKS80 checks that a TPE 8.0 target on EKS needs the gp3 StorageClasses of the vendor's
// 8.0 configuration, and that the 7.3 gp2 ones do not satisfy it.
func TestStorageEKS80(t *testing.T) {
	objs := func(release string) []runtime.Object {
		var out []runtime.Object
		for _, s := range prereq.Build(prereq.Config{Hosting: "eks", TPEVersion: release}).StorageClasses {
			out = append(out, s)
		}
		return append(out, threeNodes()...)
	}
	tests := []struct {
		name, target, built string
		want                check.Status
		mention             string
	}{
		{"8.0 with gp3", "v8.0.0", "v8.0.0", check.Pass, "thingpark-csi-gp3-xfs, thingpark-csi-gp3-ext4 exist"},
		{"8.0 with only gp2", "v8.0.0", "v7.3.6", check.Fail, "missing StorageClass(es) thingpark-csi-gp3-xfs, thingpark-csi-gp3-ext4"},
		{"7.3 with gp2", "v7.3.6", "v7.3.6", check.Pass, "thingpark-csi-gp2-xfs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cluster(t, "27", nil, objs(tt.built)...)
			cfg := baseConfig(t, tt.target)
			cfg.Hosting, cfg.Prereq.Hosting, cfg.Prereq.Provisioner = "eks", "eks", ""
			got := must(t, run(t, c, cfg), "storage.classes", tt.want, tt.mention)
			if tt.want == check.Fail && !strings.Contains(got.Remediation, "{flag:to} v8.0.0") {
				t.Errorf("remediation %q does not name the target release", got.Remediation)
			}
		})
	}
}

func TestNodes(t *testing.T) {
	tests := []struct {
		name    string
		objs    []runtime.Object
		segment string
		id      string
		want    check.Status
		mention string
	}{
		{"three zones", threeNodes(), "L", "nodes.zones", check.Pass, "3 zone(s): zone-a, zone-b, zone-c"},
		{"L fits", threeNodes(), "L", "nodes.allocatable", check.Pass, "segment L"},
		{"XL too small", threeNodes(), "XL", "nodes.allocatable", check.Fail, "segment XL needs 3 nodes with at least 7500m CPU"},
		{"two zones", []runtime.Object{node("a", "z1", "4", "16Gi"), node("b", "z1", "4", "16Gi"), node("c", "z2", "4", "16Gi")}, "", "nodes.zones", check.Fail, "2 zone(s)"},
		{"two nodes", []runtime.Object{node("a", "z1", "4", "16Gi"), node("b", "z2", "4", "16Gi")}, "", "nodes.count", check.Fail, "only 2"},
		{"a node with a taint TPE does not tolerate is not counted",
			[]runtime.Object{node("a", "z1", "4", "16Gi"), node("b", "z2", "4", "16Gi"), tainted(node("c", "z3", "4", "16Gi"), "dedicated", "gpu", corev1.TaintEffectNoSchedule)},
			"", "nodes.count", check.Fail, "only 2 schedulable, ready node(s) (of 3); TPE needs at least 3; 1 ready node(s) not counted"},
		{"NoExecute counts too",
			[]runtime.Object{node("a", "z1", "4", "16Gi"), node("b", "z2", "4", "16Gi"), tainted(node("c", "z3", "4", "16Gi"), "maintenance", "", corev1.TaintEffectNoExecute)},
			"", "nodes.zones", check.Fail, "2 zone(s)"},
		{"the TPE node-group taint is tolerated",
			[]runtime.Object{node("a", "z1", "4", "16Gi"), node("b", "z2", "4", "16Gi"), tainted(node("c", "z3", "4", "16Gi"), NodeGroupLabel, "tpe", corev1.TaintEffectNoSchedule)},
			"", "nodes.count", check.Pass, "3 schedulable"},
		{"PreferNoSchedule does not exclude",
			[]runtime.Object{node("a", "z1", "4", "16Gi"), node("b", "z2", "4", "16Gi"), tainted(node("c", "z3", "4", "16Gi"), "dedicated", "gpu", corev1.TaintEffectPreferNoSchedule)},
			"", "nodes.count", check.Pass, "3 schedulable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cluster(t, "26", nil, tt.objs...)
			cfg := baseConfig(t, "v7.3.1")
			cfg.Segment = tt.segment
			must(t, run(t, c, cfg), tt.id, tt.want, tt.mention)
		})
	}
}

func TestRBACProfiles(t *testing.T) {
	admin := rbac.EmbeddedAdminRules()
	var operator []authv1.ResourceRule
	for _, r := range admin {
		operator = append(operator, authv1.ResourceRule{Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources})
	}
	full := append(append([]authv1.ResourceRule(nil), operator...), authv1.ResourceRule{Verbs: []string{"*"}, APIGroups: []string{"kafka.strimzi.io", "psmdb.percona.com"}, Resources: []string{"*"}})
	noPatch := append(append([]authv1.ResourceRule(nil), operator...),
		authv1.ResourceRule{Verbs: []string{"*"}, APIGroups: []string{"kafka.strimzi.io"}, Resources: []string{"*"}},
		authv1.ResourceRule{Verbs: []string{"get", "list", "watch", "create", "update", "delete", "deletecollection"}, APIGroups: []string{"psmdb.percona.com"}, Resources: []string{"*"}})
	tests := []struct {
		name    string
		rules   []authv1.ResourceRule
		profile string
		id      string
		want    check.Status
		mention []string
	}{
		{"operator passes operator", full, ProfileOperator, "rbac.operator", check.Pass, []string{"every permission of the operator profile"}},
		{"operator fails admin", full, ProfileAdmin, "rbac.admin", check.Fail, []string{"lacks 24 of the 24", "create storageclasses.storage.k8s.io", "delete clusterrolebindings.rbac.authorization.k8s.io"}},
		{"psmdb verb removed", noPatch, ProfileOperator, "rbac.operator", check.Fail, []string{"patch perconaservermongodbs.psmdb.percona.com in namespace thingpark-enterprise"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cluster(t, "26", tt.rules)
			cfg := baseConfig(t, "v7.3.1")
			cfg.Profile = tt.profile
			cfg.User = "tpe-operator"
			rep := run(t, c, cfg)
			res, _ := rep.Find(tt.id)
			if res.Status != tt.want {
				t.Fatalf("%s = %+v", tt.id, res)
			}
			all := res.Message + "\n" + strings.Join(res.Details, "\n")
			for _, m := range tt.mention {
				if !strings.Contains(all, m) {
					t.Errorf("%s does not mention %q:\n%s", tt.id, m, all)
				}
			}
			if tt.want == check.Fail && !strings.Contains(res.Remediation, "name: tpe-operator}") {
				t.Errorf("remediation: %s", res.Remediation)
			}
			other := map[string]string{ProfileAdmin: "rbac.operator", ProfileOperator: "rbac.admin"}[tt.profile]
			if _, found := rep.Find(other); found {
				t.Errorf("profile %s must not check %s", tt.profile, other)
			}
		})
	}
}

// TestRequestsAreBounded proves that preflight's cost does not depend on the size of the
// cluster: the same number of API requests for 3 nodes and 3 StorageClasses as for 300 nodes,
// 150 StorageClasses and 200 Services.
func TestRequestsAreBounded(t *testing.T) {
	small := threeNodes()
	var big []runtime.Object
	for i := range 300 {
		big = append(big, node(fmt.Sprintf("n%d", i), fmt.Sprintf("zone-%d", i%3), "4", "16Gi"))
	}
	for i := range 150 {
		big = append(big, sc(fmt.Sprintf("sc%d", i), "a.b/c", true, true))
	}
	for i := range 200 {
		big = append(big, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("s%d", i), Namespace: "thingpark-enterprise"}})
	}
	count := func(objs []runtime.Object) (int, map[string]int) {
		c := cluster(t, "37", nil, objs...)
		run(t, c, baseConfig(t, "v7.3.1"))
		by := map[string]int{}
		for _, a := range c.Actions() {
			by[a.GetVerb()+" "+a.GetResource().Resource]++
		}
		return len(c.Actions()), by
	}
	n1, by1 := count(small)
	n2, by2 := count(big)
	if n1 != n2 {
		t.Errorf("requests grow with the cluster: %d vs %d\n%v\n%v", n1, n2, by1, by2)
	}
	// version, groups, 5 lists (PriorityClasses, Nodes, StorageClasses, IngressClasses, Services),
	// ClusterRole admin, 2 rules reviews, the resources of the 2 operator CRD groups.
	const budget = 12
	if n1 > budget {
		t.Errorf("%d requests, budget %d: %v", n1, budget, by1)
	}
	for k, v := range by1 {
		if v > 1 && !strings.HasPrefix(k, "create selfsubject") && !(k == "get resource" && v == 2) {
			t.Errorf("%s sent %d times: list each kind once", k, v)
		}
	}
	t.Logf("preflight --profile all: %d API requests (%v)", n1, by1)
}

func TestBadInput(t *testing.T) {
	c := cluster(t, "26", nil)
	cfg := baseConfig(t, "v7.3.1")
	cfg.TLS = &values.TLSInput{Source: "--tls-cert cert.pem", CertPEM: []byte("garbage")}
	_, err := Run(t.Context(), c, cfg)
	if err == nil || !strings.Contains(err.Error(), "--tls-cert cert.pem") {
		t.Fatalf("err = %v", err)
	}
	if len(c.Actions()) != 0 {
		t.Errorf("bad input must stop before any request, made %d", len(c.Actions()))
	}
}

func TestResolveTarget(t *testing.T) {
	m := manifest.MustLoad()
	dir := t.TempDir()
	known := filepath.Join(dir, "VERSIONS")
	mustWrite(t, known, ("THINGPARK_DATA_CONTROLLERS_VERSION=1.2.4\nTHINGPARK_DATA_VERSION=1.3.5\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=1.2.4\nTHINGPARK_ENTERPRISE_VERSION=1.4.1\n"))
	unknown := filepath.Join(dir, "VERSIONS.new")
	mustWrite(t, unknown, ("THINGPARK_DATA_CONTROLLERS_VERSION=9.2.4\nTHINGPARK_DATA_VERSION=9.3.5\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=9.2.4\nTHINGPARK_ENTERPRISE_VERSION=9.4.1\n"))
	tests := []struct {
		name, version, file string
		want                string
		known               bool
		err                 string
	}{
		{"default", "", "", "v8.0.0", true, ""},
		{"tag", "7.3.1", "", "v7.3.1", true, ""},
		{"upper case", "V7.3.1", "", "v7.3.1", true, ""},
		{"unknown tag", "v9.9.9", "", "", false, "--tpe-version: unknown TPE release \"v9.9.9\": known releases are"},
		{"malformed", "latest", "", "", false, "--tpe-version"},
		{"manifest", "", known, "v7.3.1", true, ""},
		{"unknown manifest", "", unknown, "the release of " + unknown, false, ""},
		{"missing manifest", "", filepath.Join(dir, "nope"), "", false, "--manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, err := ResolveTarget(m, manifest.Request{Name: tt.version, File: tt.file})
			err = manifest.InputError(err, "--tpe-version", "--manifest")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || tg.Release.Name != tt.want || tg.Known != tt.known {
				t.Errorf("ResolveTarget = %+v, %v", tg, err)
			}
		})
	}
}

func TestNetworkChecklist(t *testing.T) {
	lb := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: IngressServiceName, Namespace: "thingpark-enterprise"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 443}, {Port: 3001}, {Port: 3101}, {Port: 2022}}}}
	tests := []struct {
		name    string
		objs    []runtime.Object
		id      string
		want    check.Status
		mention string
	}{
		{"no lb: manual", nil, "network.inbound.iec104", check.Manual, "TCP/3001, TCP/3101"},
		{"lb with port", []runtime.Object{lb}, "network.inbound.iec104", check.Pass, "exposes TCP/3001, TCP/3101"},
		{"lb without sftp", []runtime.Object{lb}, "network.inbound.sftp", check.Fail, "does not expose TCP port(s) 3002"},
		{"outbound smtp", nil, "network.outbound.smtp", check.Manual, "TCP/25, TCP/587, TCP/465"},
		{"snmp", nil, "network.outbound.snmp", check.Manual, "UDP/162"},
		{"dns", nil, "network.base-stations.bs-dns", check.Manual, "allow base stations to reach a DNS server, which TPE does not provide (UDP/53)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cluster(t, "26", nil, tt.objs...)
			must(t, run(t, c, baseConfig(t, "v7.3.1")), tt.id, tt.want, tt.mention)
		})
	}
}

func TestCRDs(t *testing.T) {
	nsOnly := []authv1.ResourceRule{{Verbs: []string{"*"}, APIGroups: []string{"apps"}, Resources: []string{"*"}}}
	tests := []struct {
		name    string
		served  bool
		rules   []authv1.ResourceRule
		profile string
		want    check.Status
		mention string
	}{
		{"served", true, nsOnly, ProfileOperator, check.Pass, "psmdb.percona.com is served (v1)"},
		{"missing, admin may create", false, nil, ProfileAll, check.Pass, "may create its CRDs"},
		{"missing, operator", false, nsOnly, ProfileOperator, check.Warn, "the cluster administrator must create its CRDs"},
		{"missing, admin profile without rights", false, nsOnly, ProfileAdmin, check.Fail, "may not create CustomResourceDefinitions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cluster(t, "26", tt.rules)
			if !tt.served {
				c.Discovery().(*fakediscovery.FakeDiscovery).Resources = nil
			}
			cfg := baseConfig(t, "v7.3.1")
			cfg.Profile = tt.profile
			must(t, run(t, c, cfg), "crds.psmdb.percona.com", tt.want, tt.mention)
		})
	}
}

func TestOperatorProfileIncludesDiscoveredKinds(t *testing.T) {
	c := cluster(t, "26", []authv1.ResourceRule{
		{Verbs: []string{"*"}, APIGroups: []string{"", "apps", "batch", "autoscaling", "extensions", "policy", "networking.k8s.io", "coordination.k8s.io", "resource.k8s.io", "events.k8s.io", "discovery.k8s.io", "authorization.k8s.io", "rbac.authorization.k8s.io"}, Resources: []string{"*"}},
		{Verbs: []string{"*"}, APIGroups: []string{"psmdb.percona.com", "kafka.strimzi.io"}, Resources: []string{"perconaservermongodbs", "perconaservermongodbbackups", "perconaservermongodbrestores",
			"kafkas", "kafkaconnects", "kafkatopics", "kafkausers", "kafkamirrormakers", "kafkabridges", "kafkaconnectors", "kafkamirrormaker2s", "kafkarebalances"}},
	})
	d := c.Discovery().(*fakediscovery.FakeDiscovery)
	d.Resources[0].APIResources = append(d.Resources[0].APIResources, metav1.APIResource{Name: "kafkanodepools", Namespaced: true})
	cfg := baseConfig(t, "v7.3.1")
	cfg.Profile = ProfileOperator
	rep := run(t, c, cfg)
	res, _ := rep.Find("rbac.operator")
	if res.Status != check.Fail || !strings.Contains(res.Message, "kafkanodepools.kafka.strimzi.io") {
		t.Fatalf("rbac.operator = %+v", res)
	}
}

func mustWrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
