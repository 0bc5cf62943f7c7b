// Package prereq builds the cluster-wide objects a cluster administrator creates before TPE is
// installed (the TPE cluster prerequisites): the three PriorityClasses, the StorageClasses of the
// hosting and the IngressClass nginx-tpe; and applies them with server-side apply.
package prereq

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// Hostings.
const (
	HostingAKS   = "aks"
	HostingEKS   = "eks"
	HostingGKE   = "gke"
	HostingOther = "other"
)

// Hostings lists the supported hosting values.
var Hostings = []string{HostingAKS, HostingEKS, HostingGKE, HostingOther}

// CSIDrivers is the CSI driver each managed hosting's StorageClasses use (the vendor's
// examples/storage/storage-class-*.yaml).
var CSIDrivers = map[string]string{
	HostingAKS: "disk.csi.azure.com",
	HostingEKS: "ebs.csi.aws.com",
	HostingGKE: "pd.csi.storage.gke.io",
}

// Priority class spellings.
const (
	SpellingDocs   = "docs"
	SpellingVendor = "vendor"
)

// PriorityNames are the three PriorityClass names of one spelling, highest priority first.
type PriorityNames struct {
	Spelling string
	DataPath string
	Data     string
	Others   string
}

// Names returns the three names, highest priority first.
func (p PriorityNames) Names() []string { return []string{p.DataPath, p.Data, p.Others} }

// The two spellings found in the field: the TPE cluster prerequisites (and the charts' defaults)
// and the vendor's examples/priority-class/default.yaml.
var (
	DocsPriorityNames   = PriorityNames{SpellingDocs, "thingpark-datapath", "thingpark-data", "thingpark-others"}
	VendorPriorityNames = PriorityNames{SpellingVendor, "thingpark-data-path", "thingpark-data", "thingpark-other"}
)

// PriorityValues are the vendor manifest's values, highest first.
var PriorityValues = []int32{1000000, 999800, 999500}

// Config selects which objects to build.
type Config struct {
	Hosting string
	// PriorityClassNames is SpellingDocs (default) or SpellingVendor.
	PriorityClassNames string
	// StorageClassName and Provisioner define the class of hosting "other".
	StorageClassName string
	Provisioner      string
	// IngressClassName defaults to nginx-tpe.
	IngressClassName string
	// TPEVersion is the TPE release the objects are for (e.g. v8.0.0). The StorageClasses of
	// hosting eks depend on it: gp3 volumes from 8.0, gp2 before (and when it is empty or not a
	// release name).
	TPEVersion string
}

// EKSVolumeType is the EBS volume type of the vendor's EKS StorageClasses for a TPE release, as
// the release matrix states it (manifest.Matrix.EKSVolumeType: gp3 from 8.0.0, gp2 before).
func EKSVolumeType(tpeVersion string) string {
	return manifest.MustLoad().EKSVolumeType(tpeVersion)
}

// DefaultOtherStorageClass is the StorageClass name for hosting "other".
const DefaultOtherStorageClass = "thingpark-standard"

// Config fields named by a ConfigError; the command words them with its flag names.
const (
	FieldHosting            = "Hosting"
	FieldPriorityClassNames = "PriorityClassNames"
	FieldProvisioner        = "Provisioner"
)

// ConfigError is an invalid field of Config: Field is one of the Field constants, Err says what
// is wrong with it, worded to follow the field's name ("must be one of ...").
type ConfigError struct {
	Field string
	Err   error
}

func (e *ConfigError) Error() string { return e.Field + " " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Validate checks the configuration; its errors are *ConfigError naming the field at fault.
func (c Config) Validate() error {
	if !slices.Contains(Hostings, c.Hosting) {
		return &ConfigError{FieldHosting, fmt.Errorf("must be one of %s, got %q", strings.Join(Hostings, ", "), c.Hosting)}
	}
	if c.PriorityClassNames != "" && c.PriorityClassNames != SpellingDocs && c.PriorityClassNames != SpellingVendor {
		return &ConfigError{FieldPriorityClassNames, fmt.Errorf("must be docs or vendor, got %q", c.PriorityClassNames)}
	}
	if c.Hosting == HostingOther && c.Provisioner == "" {
		return &ConfigError{FieldProvisioner, fmt.Errorf("is required with hosting other (the CSI driver or provisioner of your dynamic storage, e.g. rancher.io/local-path)")}
	}
	if c.Hosting != HostingOther && c.Provisioner != "" {
		return &ConfigError{FieldProvisioner, fmt.Errorf("only applies to hosting other (%s uses %s)", c.Hosting, CSIDrivers[c.Hosting])}
	}
	return nil
}

// Priority returns the configured spelling.
func (c Config) Priority() PriorityNames {
	if c.PriorityClassNames == SpellingVendor {
		return VendorPriorityNames
	}
	return DocsPriorityNames
}

// Objects is the set of cluster-wide objects of a Config.
type Objects struct {
	PriorityClasses []*schedulingv1.PriorityClass
	StorageClasses  []*storagev1.StorageClass
	IngressClass    *networkingv1.IngressClass
}

// ManagedByLabel marks the objects kubectl-tpe creates.
const ManagedByLabel = "app.kubernetes.io/managed-by"

// FieldManager is the server-side apply field manager.
const FieldManager = "kubectl-tpe"

// Build returns the objects for c (call Validate first).
func Build(c Config) Objects {
	labels := map[string]string{ManagedByLabel: FieldManager, "app.kubernetes.io/part-of": "thingpark-enterprise"}
	var o Objects
	pn := c.Priority()
	desc := []string{"PriorityClass for data path pods", "PriorityClass for data stack pods", "PriorityClass for other services pods"}
	for i, n := range pn.Names() {
		o.PriorityClasses = append(o.PriorityClasses, &schedulingv1.PriorityClass{
			TypeMeta:    metav1.TypeMeta{APIVersion: "scheduling.k8s.io/v1", Kind: "PriorityClass"},
			ObjectMeta:  metav1.ObjectMeta{Name: n, Labels: labels},
			Value:       PriorityValues[i],
			Description: desc[i],
		})
	}
	for _, s := range storageSpecs(c) {
		wffc := storagev1.VolumeBindingWaitForFirstConsumer
		del := corev1.PersistentVolumeReclaimDelete
		sc := &storagev1.StorageClass{
			TypeMeta:          metav1.TypeMeta{APIVersion: "storage.k8s.io/v1", Kind: "StorageClass"},
			ObjectMeta:        metav1.ObjectMeta{Name: s.name, Labels: labels},
			Provisioner:       s.provisioner,
			Parameters:        s.params,
			ReclaimPolicy:     &del,
			VolumeBindingMode: &wffc,
		}
		if s.expand {
			t := true
			sc.AllowVolumeExpansion = &t
		}
		o.StorageClasses = append(o.StorageClasses, sc)
	}
	name := c.IngressClassName
	if name == "" {
		name = "nginx-tpe"
	}
	o.IngressClass = &networkingv1.IngressClass{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "IngressClass"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec:       networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"},
	}
	return o
}

type scSpec struct {
	name, provisioner string
	params            map[string]string
	expand            bool
}

// storageSpecs are the vendor's examples/storage/storage-class-*.yaml (7.3).
func storageSpecs(c Config) []scSpec {
	switch c.Hosting {
	case HostingAKS:
		d := CSIDrivers[HostingAKS]
		return []scSpec{
			{"thingpark-csi-standard-lrs-xfs", d, map[string]string{"fsType": "xfs", "skuName": "StandardSSD_LRS"}, true},
			{"thingpark-csi-premium-lrs-xfs", d, map[string]string{"fsType": "xfs", "skuName": "Premium_LRS"}, true},
			{"thingpark-csi-premium-lrs-ext4", d, map[string]string{"fsType": "ext4", "skuName": "Premium_LRS"}, true},
		}
	case HostingEKS:
		d, gp := CSIDrivers[HostingEKS], EKSVolumeType(c.TPEVersion)
		return []scSpec{
			{"thingpark-csi-" + gp + "-xfs", d, map[string]string{"fsType": "xfs", "type": gp}, false},
			{"thingpark-csi-" + gp + "-ext4", d, map[string]string{"fsType": "ext4", "type": gp}, false},
		}
	case HostingGKE:
		d := CSIDrivers[HostingGKE]
		return []scSpec{
			{"thingpark-csi-standard-xfs", d, map[string]string{"csi.storage.k8s.io/fstype": "xfs", "type": "pd-standard"}, true},
			{"thingpark-csi-ssd-xfs", d, map[string]string{"csi.storage.k8s.io/fstype": "xfs", "type": "pd-ssd"}, true},
			{"thingpark-csi-ssd-ext4", d, map[string]string{"csi.storage.k8s.io/fstype": "ext4", "type": "pd-ssd"}, true},
		}
	}
	name := c.StorageClassName
	if name == "" {
		name = DefaultOtherStorageClass
	}
	return []scSpec{{name, c.Provisioner, nil, true}}
}

// StorageClassNames returns the names of the StorageClasses Build creates for c.
func StorageClassNames(c Config) []string {
	var out []string
	for _, s := range storageSpecs(c) {
		out = append(out, s.name)
	}
	return out
}

// YAML renders the objects as one multi-document YAML stream, for review.
func (o Objects) YAML() (string, error) {
	var docs []string
	add := func(v any) error {
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		docs = append(docs, strings.TrimSpace(stripCreationTimestamp(string(b))))
		return nil
	}
	for _, p := range o.PriorityClasses {
		if err := add(p); err != nil {
			return "", err
		}
	}
	for _, s := range o.StorageClasses {
		if err := add(s); err != nil {
			return "", err
		}
	}
	if err := add(o.IngressClass); err != nil {
		return "", err
	}
	return "---\n" + strings.Join(docs, "\n---\n") + "\n", nil
}

func stripCreationTimestamp(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	for _, l := range lines {
		if strings.TrimSpace(l) == "creationTimestamp: null" {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
