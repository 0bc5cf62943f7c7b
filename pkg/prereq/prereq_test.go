package prereq

import (
	"strings"
	"testing"

	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		err  string
	}{
		{"aks", Config{Hosting: "aks"}, ""},
		{"other with provisioner", Config{Hosting: "other", Provisioner: "rancher.io/local-path"}, ""},
		{"bad hosting", Config{Hosting: "ovh"}, "Hosting must be one of"},
		{"other without provisioner", Config{Hosting: "other"}, "Provisioner is required with hosting other"},
		{"provisioner on eks", Config{Hosting: "eks", Provisioner: "x"}, "Provisioner only applies to hosting other"},
		{"bad spelling", Config{Hosting: "eks", PriorityClassNames: "mine"}, "PriorityClassNames must be docs or vendor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("Validate() = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestBuild(t *testing.T) {
	tests := []struct {
		cfg         Config
		pcs, scs    []string
		provisioner string
	}{
		{Config{Hosting: "aks"}, []string{"thingpark-datapath", "thingpark-data", "thingpark-others"},
			[]string{"thingpark-csi-standard-lrs-xfs", "thingpark-csi-premium-lrs-xfs", "thingpark-csi-premium-lrs-ext4"}, "disk.csi.azure.com"},
		{Config{Hosting: "eks", PriorityClassNames: "vendor"}, []string{"thingpark-data-path", "thingpark-data", "thingpark-other"},
			[]string{"thingpark-csi-gp2-xfs", "thingpark-csi-gp2-ext4"}, "ebs.csi.aws.com"},
		{Config{Hosting: "eks", TPEVersion: "v7.3.6"}, nil, []string{"thingpark-csi-gp2-xfs", "thingpark-csi-gp2-ext4"}, "ebs.csi.aws.com"},
		{Config{Hosting: "eks", TPEVersion: "v8.0.0"}, nil, []string{"thingpark-csi-gp3-xfs", "thingpark-csi-gp3-ext4"}, "ebs.csi.aws.com"},
		{Config{Hosting: "gke"}, nil, []string{"thingpark-csi-standard-xfs", "thingpark-csi-ssd-xfs", "thingpark-csi-ssd-ext4"}, "pd.csi.storage.gke.io"},
		{Config{Hosting: "other", Provisioner: "rancher.io/local-path"}, nil, []string{"thingpark-standard"}, "rancher.io/local-path"},
	}
	for _, tt := range tests {
		t.Run(tt.cfg.Hosting+tt.cfg.TPEVersion, func(t *testing.T) {
			o := Build(tt.cfg)
			if tt.pcs != nil {
				for i, p := range o.PriorityClasses {
					if p.Name != tt.pcs[i] || p.Value != PriorityValues[i] {
						t.Errorf("PriorityClass %d = %s/%d", i, p.Name, p.Value)
					}
				}
			}
			if got := StorageClassNames(tt.cfg); strings.Join(got, ",") != strings.Join(tt.scs, ",") {
				t.Errorf("StorageClasses %v, want %v", got, tt.scs)
			}
			for _, sc := range o.StorageClasses {
				if sc.Provisioner != tt.provisioner || *sc.VolumeBindingMode != storagev1.VolumeBindingWaitForFirstConsumer {
					t.Errorf("StorageClass %s: %s %s", sc.Name, sc.Provisioner, *sc.VolumeBindingMode)
				}
			}
			if o.IngressClass.Name != "nginx-tpe" || o.IngressClass.Spec.Controller != "k8s.io/ingress-nginx" {
				t.Errorf("IngressClass %+v", o.IngressClass)
			}
			y, err := o.YAML()
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(y, "\n---\n") + 1; n != 3+len(tt.scs)+1 || strings.Contains(y, "creationTimestamp") {
				t.Errorf("YAML has %d documents:\n%s", n, y)
			}
		})
	}
}

func TestApply(t *testing.T) {
	cfg := Config{Hosting: "other", Provisioner: "rancher.io/local-path"}
	// Someone else created thingpark-data with another value.
	foreign := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "thingpark-data"}, Value: 5}

	t.Run("client dry run makes no mutating request", func(t *testing.T) {
		c := fake.NewClientset(foreign)
		res, err := Apply(t.Context(), c, Build(cfg), ApplyOptions{DryRun: DryRunClient})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range c.Actions() {
			if a.GetVerb() != "list" {
				t.Errorf("mutating request %s %s", a.GetVerb(), a.GetResource().Resource)
			}
		}
		if len(c.Actions()) != 3 {
			t.Errorf("%d requests, want 3 lists", len(c.Actions()))
		}
		want := map[string]string{"thingpark-datapath": ActionWouldCreate, "thingpark-data": ActionWouldConfigure, "nginx-tpe": ActionWouldCreate}
		for _, r := range res {
			if w, ok := want[r.Name]; ok && r.Action != w {
				t.Errorf("%s %s: %s, want %s", r.Kind, r.Name, r.Action, w)
			}
		}
	})

	t.Run("apply then re-apply", func(t *testing.T) {
		c := fake.NewClientset()
		res, err := Apply(t.Context(), c, Build(cfg), ApplyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Action != ActionCreated {
				t.Errorf("first apply %s %s: %s %s", r.Kind, r.Name, r.Action, r.Message)
			}
		}
		pc, err := c.SchedulingV1().PriorityClasses().Get(t.Context(), "thingpark-datapath", metav1.GetOptions{})
		if err != nil || pc.Value != 1000000 {
			t.Fatalf("thingpark-datapath: %v %v", pc, err)
		}
		res, err = Apply(t.Context(), c, Build(cfg), ApplyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Action != ActionUnchanged {
				t.Errorf("second apply %s %s: %s", r.Kind, r.Name, r.Action)
			}
		}
		c.ClearActions()
		res, _ = Apply(t.Context(), c, Build(cfg), ApplyOptions{DryRun: DryRunServer})
		for _, r := range res {
			if r.Action != ActionWouldBeUnchanged {
				t.Errorf("server dry run %s %s: %s", r.Kind, r.Name, r.Action)
			}
		}
	})
}

func TestApplyConflict(t *testing.T) {
	cfg := Config{Hosting: "other", Provisioner: "rancher.io/local-path"}
	c := fake.NewClientset()
	// Another tool owns thingpark-data's value.
	other := []byte(`{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"thingpark-data"},"value":5}`)
	if _, err := c.SchedulingV1().PriorityClasses().Patch(t.Context(), "thingpark-data", types.ApplyPatchType, other,
		metav1.PatchOptions{FieldManager: "helm"}); err != nil {
		t.Fatal(err)
	}
	res, err := Apply(t.Context(), c, Build(cfg), ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Result{}
	for _, r := range res {
		got[r.Name] = r
	}
	if r := got["thingpark-data"]; r.Action != ActionConflict || !strings.Contains(r.Message, "another field manager owns these fields") || !r.Failed() {
		t.Errorf("thingpark-data: %+v, want a conflict", r)
	}
	if got["thingpark-datapath"].Action != ActionCreated {
		t.Errorf("a conflict must not stop the other objects: %+v", got["thingpark-datapath"])
	}
	res, _ = Apply(t.Context(), c, Build(cfg), ApplyOptions{ForceConflicts: true})
	for _, r := range res {
		if r.Name == "thingpark-data" && r.Action != ActionConfigured {
			t.Errorf("--force-conflicts: %+v", r)
		}
	}
	pc, _ := c.SchedulingV1().PriorityClasses().Get(t.Context(), "thingpark-data", metav1.GetOptions{})
	if pc.Value != 999800 {
		t.Errorf("value %d after --force-conflicts", pc.Value)
	}
}
