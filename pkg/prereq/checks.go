package prereq

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// The rules below are the TPE cluster prerequisites that `kubectl tpe preflight` and
// `helm tpe plan` both judge: each exists once, here, and returns checks of pkg/check. They take
// what the caller listed from the cluster, so that each caller decides how many requests to make.

// Check categories of the rules.
const (
	CategoryKubernetes = "Kubernetes"
	CategoryPriority   = "PriorityClasses"
	CategoryStorage    = "Storage"
)

// ServerVersion is the cluster's version as the API server reports it (/version).
type ServerVersion struct {
	Major, Minor, GitVersion string
}

// Parse reads "1", "27+" (GKE/EKS) or falls back to GitVersion "v1.27.3-eks-…".
func (v ServerVersion) Parse() (major, minor int, ok bool) {
	ma, err1 := strconv.Atoi(strings.TrimRight(v.Major, "+"))
	mi, err2 := strconv.Atoi(strings.TrimRight(v.Minor, "+"))
	if err1 == nil && err2 == nil && ma > 0 {
		return ma, mi, true
	}
	parts := strings.SplitN(strings.TrimPrefix(strings.TrimSpace(v.GitVersion), "v"), ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	ma, err1 = strconv.Atoi(parts[0])
	mi, err2 = strconv.Atoi(strings.TrimRight(parts[1], "+"))
	// v0.0.0 is a development build (or a fake API server): not a version to judge.
	return ma, mi, err1 == nil && err2 == nil && ma > 0
}

// kubeVersion is a Kubernetes major.minor, compared as a pair (2.25 is newer than 1.27, not older).
type kubeVersion struct{ major, minor int }

// parseKube reads "1.27" (0.0 when malformed; the matrix is tested to be well formed).
func parseKube(v string) kubeVersion {
	ma, mi, _ := strings.Cut(v, ".")
	a, _ := strconv.Atoi(ma)
	b, _ := strconv.Atoi(mi)
	return kubeVersion{a, b}
}

// less reports whether v is older than w.
func (v kubeVersion) less(w kubeVersion) bool {
	return v.major < w.major || v.major == w.major && v.minor < w.minor
}

// CheckKubernetes judges the cluster's Kubernetes version against the range TPE release rel
// supports: older fails, newer than validated warns (fails when strict), an unknown release or
// range warns, an unknown cluster version skips.
func CheckKubernetes(rel manifest.Release, known bool, sv ServerVersion, strict bool) check.Check {
	c := check.Check{ID: "kubernetes.version", Category: CategoryKubernetes}
	if sv == (ServerVersion{}) {
		c.Status = check.Skip
		c.Message = fmt.Sprintf("the cluster's Kubernetes version is unknown; TPE %s supports %s–%s", rel.Name, rel.Kubernetes.Min, rel.Kubernetes.Max)
		return c
	}
	major, minor, ok := sv.Parse()
	if !ok {
		c.Status, c.Message = check.Warn, fmt.Sprintf("cannot read the Kubernetes version from %q", sv.GitVersion)
		return c
	}
	have := fmt.Sprintf("%d.%d", major, minor)
	if !known || rel.Kubernetes.Min == "" || rel.Kubernetes.Max == "" {
		c.Status = check.Warn
		c.Message = fmt.Sprintf("Kubernetes %s (%s): TPE release %s is unknown to this version of the plugins, so its supported Kubernetes versions are not known", have, sv.GitVersion, rel.Name)
		c.Remediation = "name a known release (see `{cmd:releases}`), or upgrade the plugins"
		return c
	}
	lo, hi := parseKube(rel.Kubernetes.Min), parseKube(rel.Kubernetes.Max)
	cur := kubeVersion{major, minor}
	rng := fmt.Sprintf("%s–%s", rel.Kubernetes.Min, rel.Kubernetes.Max)
	src := ""
	if rel.Kubernetes.Source == "inferred" {
		src = " (range inferred from the vendor's repository, not stated by its docs)"
	}
	switch {
	case cur.less(lo):
		c.Status = check.Fail
		c.Message = fmt.Sprintf("Kubernetes %s is older than the versions supported by TPE %s (%s)%s", have, rel.Name, rng, src)
		c.Remediation = fmt.Sprintf("upgrade the cluster to Kubernetes %s or later", rel.Kubernetes.Min)
	case hi.less(cur):
		c.Status = check.Warn
		c.Message = fmt.Sprintf("Kubernetes %s is newer than the versions validated for TPE %s (%s)%s", have, rel.Name, rng, src)
		c.Remediation = "the vendor did not validate this version: plan for it with Actility support, or use a cluster version in " + rng
		if strict {
			c.Status = check.Fail
			c.Message += "; {flag:strict} makes this a failure"
		}
	default:
		c.Status = check.Pass
		c.Message = fmt.Sprintf("Kubernetes %s is supported by TPE %s (%s)%s", have, rel.Name, rng, src)
	}
	return c
}

// HostingOr is the hosting for a command line, or a placeholder naming the choices.
func HostingOr(h string) string {
	if h == "" {
		return "<aks|eks|gke|other>"
	}
	return h
}

// PriorityInput is what CheckPriorityClasses judges.
type PriorityInput struct {
	// Have maps the cluster's PriorityClasses to their values.
	Have map[string]int32
	// Spelling is the spelling the user asked for (SpellingDocs or SpellingVendor; "" = docs).
	Spelling string
	Hosting  string
	// Values are the user's values (nil: none given).
	Values values.Values
}

// CheckPriorityClasses judges the three PriorityClasses (either spelling, the one found more
// completely wins; values in order datapath > data > others) and, with values, that every
// priorityClassName the values set exists.
func CheckPriorityClasses(in PriorityInput) []check.Check {
	c := check.Check{ID: "priorityclasses", Category: CategoryPriority}
	have := in.Have
	count := func(p PriorityNames) int {
		n := 0
		for _, name := range p.Names() {
			if _, ok := have[name]; ok {
				n++
			}
		}
		return n
	}
	// Prefer the spelling the operator asked for, else the one found more completely.
	spellings := []PriorityNames{DocsPriorityNames, VendorPriorityNames}
	if in.Spelling == SpellingVendor {
		spellings[0], spellings[1] = spellings[1], spellings[0]
	}
	best := spellings[0]
	if count(spellings[1]) > count(best) {
		best = spellings[1]
	}
	fix := fmt.Sprintf("{cmd:prereqs-apply} {flag:hosting} %s {flag:priority-class-names}=%s", HostingOr(in.Hosting), best.Spelling)
	var missing []string
	for _, n := range best.Names() {
		if _, ok := have[n]; !ok {
			missing = append(missing, n)
		}
	}
	switch {
	case len(missing) > 0:
		c.Status = check.Fail
		c.Message = fmt.Sprintf("missing PriorityClass(es) %s (%s spelling: %s)", join(missing), best.Spelling, join(best.Names()))
		c.Remediation = fix
	case have[best.DataPath] <= have[best.Data] || have[best.Data] <= have[best.Others]:
		c.Status = check.Fail
		c.Message = fmt.Sprintf("PriorityClass values are out of order: %s=%d, %s=%d, %s=%d; datapath must be highest, others lowest",
			best.DataPath, have[best.DataPath], best.Data, have[best.Data], best.Others, have[best.Others])
		c.Remediation = "recreate them with values 1000000 > 999800 > 999500 (PriorityClass values are immutable: delete, then " + fix + ")"
	default:
		c.Status = check.Pass
		c.Message = fmt.Sprintf("PriorityClasses %s exist in the %s spelling, values %d > %d > %d",
			join(best.Names()), best.Spelling, have[best.DataPath], have[best.Data], have[best.Others])
		if best.Spelling == SpellingVendor && in.Values != nil && len(in.Values.PriorityClassNames()) == 0 {
			c.Status = check.Warn
			c.Message += "; the charts default to the docs spelling (thingpark-datapath, thingpark-others)"
			c.Remediation = "add the vendor's examples/priority-class/values-default-priority-class.yaml to your {flag:values} files"
		}
	}
	out := []check.Check{c}
	if in.Values == nil {
		return out
	}
	used := in.Values.PriorityClassNames()
	keys := make([]string, 0, len(used))
	for k := range used {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var miss []string
	for _, n := range keys {
		if _, ok := have[n]; !ok {
			miss = append(miss, fmt.Sprintf("%s (set by %s)", n, used[n]))
		}
	}
	if len(keys) > 0 {
		v := check.Check{ID: "priorityclasses.values", Category: CategoryPriority, Status: check.Pass,
			Message: fmt.Sprintf("every priorityClassName of the values exists (%s)", join(keys))}
		if len(miss) > 0 {
			v.Status, v.Message = check.Fail, "the values name PriorityClasses that do not exist: "+join(miss)
			v.Remediation = "create them, or change priorityClassName in the values"
		}
		out = append(out, v)
	}
	return out
}

// CheckStorageClasses judges that the StorageClasses TPE will use exist: required are their
// names, why says where they come from ("named by the values"), fix is the remediation. It
// returns the check and the required classes that exist.
func CheckStorageClasses(exists func(name string) bool, required []string, why, fix string) (check.Check, []string) {
	c := check.Check{ID: "storage.classes", Category: CategoryStorage}
	var missing, present []string
	for _, n := range required {
		if exists(n) {
			present = append(present, n)
		} else {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		c.Status = check.Fail
		c.Message = fmt.Sprintf("missing StorageClass(es) %s (%s)", join(missing), why)
		c.Remediation = fix
	} else {
		c.Status, c.Message = check.Pass, fmt.Sprintf("StorageClass(es) %s exist (%s)", join(present), why)
	}
	return c, present
}

// ValuesStorageClasses are the StorageClasses the values name, in the order of
// values.StorageClassKeys, each once.
func ValuesStorageClasses(v values.Values) []string {
	used := v.StorageClasses()
	seen := map[string]bool{}
	var out []string
	for _, k := range values.StorageClassKeys {
		if n, ok := used[k]; ok && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

func join(list []string) string { return strings.Join(list, ", ") }
