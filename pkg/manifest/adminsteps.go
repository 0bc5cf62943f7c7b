package manifest

import "strings"

// AdminStepKind says how a cluster-admin step is verified.
type AdminStepKind string

// Admin step kinds.
const (
	// AdminCRDs: the live CRDs match the vendor's CRD manifest of the step's last version
	// (pkg/adminstep compares served and storage versions and each version's schema).
	AdminCRDs AdminStepKind = "crds"
	// AdminPriorityClasses: the three PriorityClasses exist (the rule of the TPE cluster prerequisites).
	AdminPriorityClasses AdminStepKind = "priorityclasses"
	// AdminStorageClasses: the StorageClasses the values name exist.
	AdminStorageClasses AdminStepKind = "storageclasses"
	// AdminManual: nothing can verify it; the operator acknowledges it.
	AdminManual AdminStepKind = "manual"
	// AdminBlocking: a procedure the tools do not run (the vendor's legacy 1.0.x → 1.1 upgrade):
	// the plan fails its hop, whatever is acknowledged, until the user has done it by hand.
	AdminBlocking AdminStepKind = "blocking"
)

// AdminStep is a step a cluster administrator must take before a hop: the vendor's upgrade
// procedure lists them per release line, and Helm cannot do them (CRDs, cluster-wide objects).
// This is the one place that says which hop needs which step; pkg/adminstep judges and applies them.
type AdminStep struct {
	ID          string
	Description string
	Kind        AdminStepKind
	// Operator names the operator whose CRDs an AdminCRDs step upgrades ("Percona", "Strimzi").
	Operator string
	// From is the operator version the CRDs have before the hop ("" when unknown); Versions are
	// the versions to apply, in order, one at a time (the last one is the step's target).
	From     string
	Versions []string
	// CRDFile and RBACFile are the vendor's CRD manifest and namespaced RBAC manifest ("" when
	// none) of one version, as paths of the configuration repository with {version}.
	CRDFile, RBACFile string
	// Fix is the command or action, with {namespace} and {tag} (the hop's target) to fill in.
	Fix string
	// Inferred marks a step the vendor's text could not be read for: the plan says so.
	Inferred bool
	// Doc names the vendor document the step comes from.
	Doc string
	// Files are the manifests of the vendor's configuration repository (paths at the ref of the
	// hop's target) that the step reads or applies: a release bundle carries them.
	Files []string
}

// Target is the version an AdminCRDs step ends at.
func (s AdminStep) Target() string {
	if len(s.Versions) == 0 {
		return ""
	}
	return s.Versions[len(s.Versions)-1]
}

// CRDPath is the CRD manifest of version v.
func (s AdminStep) CRDPath(v string) string { return strings.ReplaceAll(s.CRDFile, "{version}", v) }

// RBACPath is the RBAC manifest of version v ("" when the step has none).
func (s AdminStep) RBACPath(v string) string {
	return strings.ReplaceAll(s.RBACFile, "{version}", v)
}

// FixFor returns Fix for a namespace and the hop's target tag.
func (s AdminStep) FixFor(namespace, tag string) string {
	return strings.NewReplacer("{namespace}", namespace, "{tag}", tag).Replace(s.Fix)
}

// FixAt is FixFor for the hop's target release: {ref} says where its files are (a tag, or the
// commit of an untagged release, never a tag that does not exist).
func (s AdminStep) FixAt(namespace string, to Release) string {
	return strings.NewReplacer("{namespace}", namespace, "{tag}", to.Name, "{ref}", to.Where()).Replace(s.Fix)
}

// adminRule adds steps to the hops it matches.
type adminRule struct {
	// match reports whether the hop (from = nil for a fresh install) needs the steps.
	match func(from *Tag, to Tag) bool
	// matchHop, when set, is used instead of match: for a rule on the hop's charts.
	matchHop func(h Hop) bool
	steps    []AdminStep
}

// fromChartLine10 matches a hop from a release on the 1.0.x thingpark-enterprise chart (v1.0.2,
// v1.0.3 = v7.1.0) to a later chart line: the vendor's "upgrade from 1.0.x".
func fromChartLine10(h Hop) bool {
	line := func(v string) string {
		if p := strings.SplitN(v, ".", 3); len(p) == 3 {
			return p[0] + "." + p[1]
		}
		return v
	}
	return h.From != nil && line(h.From.Enterprise) == "1.0" && line(h.To.Enterprise) != "1.0"
}

// intoLine matches a hop that enters release line `line` (from another line, or a fresh
// install when fresh is true).
func intoLine(line string, fresh bool) func(from *Tag, to Tag) bool {
	return func(from *Tag, to Tag) bool {
		if to.Line() != line {
			return false
		}
		if from == nil {
			return fresh
		}
		return from.Line() != line
	}
}

// freshFrom matches a fresh install of release line `line` or a later one.
func freshFrom(line string) func(from *Tag, to Tag) bool {
	first := MustParseTag("v" + line + ".0")
	return func(from *Tag, to Tag) bool {
		return from == nil && (to.Line() == line || first.Less(to))
	}
}

// anyOf matches a hop any of ms matches.
func anyOf(ms ...func(from *Tag, to Tag) bool) func(from *Tag, to Tag) bool {
	return func(from *Tag, to Tag) bool {
		for _, m := range ms {
			if m(from, to) {
				return true
			}
		}
		return false
	}
}

// storageFiles are the vendor's StorageClass examples, one per hosting.
var storageFiles = []string{"examples/storage/storage-class-amazon.yaml", "examples/storage/storage-class-azure.yaml", "examples/storage/storage-class-google.yaml"}

// priorityFiles are the vendor's PriorityClass example and the values that name its classes.
var priorityFiles = []string{"examples/priority-class/default.yaml", "examples/priority-class/values-default-priority-class.yaml"}

// The vendor's CRD and RBAC manifests of the operators, with {version}.
const (
	strimziCRDs = "manifests/upgrade/strimzi-crds-{version}.yaml"
	psmdbCRDs   = "manifests/upgrade/percona-server-mongodb-operator-crds-{version}.yaml"
	psmdbRBAC   = "manifests/upgrade/percona-server-mongodb-operator-rbac-{version}.yaml"
)

// crdStep completes an AdminCRDs step: Kind, and Files (the CRD manifest of From, to tell where
// the cluster stands, and the CRD and RBAC manifests of each version).
func crdStep(s AdminStep) AdminStep {
	s.Kind = AdminCRDs
	s.Files = nil
	if s.From != "" {
		s.Files = append(s.Files, s.CRDPath(s.From))
	}
	for _, v := range s.Versions {
		s.Files = append(s.Files, s.CRDPath(v))
		if s.RBACFile != "" {
			s.Files = append(s.Files, s.RBACPath(v))
		}
	}
	return s
}

// doc80 names where the steps of the 7.3 → 8.0 hop come from: the TPE upgrade procedure sends 7.3
// users to the 8.0 upgrade procedure, whose text could not be read; the steps below follow the
// manifests the vendor's configuration repository ships for 8.0 (manifests/upgrade on its main
// branch) and the operator versions of 8.0's container manifest, so they are marked inferred.
const doc80 = "the TPE 8.0 upgrade procedure (steps inferred from the vendor's configuration repository, main branch, manifests/upgrade)"

// adminRules are the cluster-admin steps per hop, in the order they must be done: one rule per
// hop kind, matched in order. To add a step for a new release line, add a rule here (and, when
// nothing can verify its kind, use AdminManual).
var adminRules = []adminRule{
	{matchHop: fromChartLine10, steps: []AdminStep{
		{ID: "legacy-1.1", Kind: AdminBlocking, Description: "the vendor's legacy upgrade from 1.0.x, which a Helm upgrade does not do: " +
			"upgrade tpe with the 1.1 chart and the configs/legacy values of your hosting and segment, then back up, " +
			"uninstall the four releases, delete the namespace (its volumes), reinstall with the new sizing and restore the backup",
			Fix: "follow the TPE upgrade procedure, \"Upgrade from 1.0.x\" ({ref}): helm upgrade tpe with -f configs/legacy/values-<segment>-<hosting>.yaml, " +
				"kubectl exec -n {namespace} deploy/thingpark-enterprise-controller -- backup, helm uninstall the four releases, kubectl delete namespace {namespace}, " +
				"install {tag} again, then restore that backup; plan again once it is done",
			Doc: "the TPE upgrade procedure, upgrade from 1.0.x"}},
	},
	{match: intoLine("7.3", false), steps: []AdminStep{
		crdStep(AdminStep{ID: "crd-strimzi", Operator: "Strimzi", Description: "upgrade the Strimzi CRDs to 0.32.0 (Helm does not upgrade CRDs)",
			Versions: []string{"0.32.0"}, CRDFile: strimziCRDs,
			Fix: "as cluster admin: {cmd:prereqs-apply} {flag:to} {tag} (or kubectl apply --server-side -f manifests/upgrade/strimzi-crds-0.32.0.yaml, vendor repository, {ref})",
			Doc: "the TPE upgrade procedure, 7.2 to 7.3"}),
		crdStep(AdminStep{ID: "crd-psmdb", Operator: "Percona", Description: "upgrade the Percona MongoDB operator CRDs and RBAC to 1.13.0",
			Versions: []string{"1.13.0"}, CRDFile: psmdbCRDs, RBACFile: psmdbRBAC,
			Fix: "as cluster admin: {cmd:prereqs-apply} {flag:to} {tag} (or kubectl apply --server-side -f manifests/upgrade/percona-server-mongodb-operator-crds-1.13.0.yaml and -n {namespace} -f manifests/upgrade/percona-server-mongodb-operator-rbac-1.13.0.yaml)",
			Doc: "the TPE upgrade procedure, 7.2 to 7.3"}),
	}},
	{match: anyOf(intoLine("7.3", false), freshFrom("7.3")), steps: []AdminStep{
		{ID: "priorityclasses", Kind: AdminPriorityClasses, Description: "create the 3 PriorityClasses the values name (the charts no longer ship them since 7.3)",
			Fix:   "as cluster admin: {cmd:prereqs-apply} {flag:to} {tag} {flag:values} <your values> (or kubectl apply -f examples/priority-class/default.yaml, vendor repository, and add examples/priority-class/values-default-priority-class.yaml to your values files)",
			Doc:   "the TPE cluster prerequisites",
			Files: priorityFiles},
		{ID: "storageclasses", Kind: AdminStorageClasses, Description: "create the StorageClasses the values name (the charts no longer ship them since 7.3)",
			Fix:   "as cluster admin: {cmd:prereqs-apply} {flag:to} {tag} {flag:values} <your values> (or kubectl apply -f examples/storage/storage-class-<hosting>.yaml, vendor repository, and use examples/hosting/<hosting>/values-storage.yaml)",
			Doc:   "the TPE cluster prerequisites",
			Files: storageFiles},
	}},
	{match: intoLine("8.0", false), steps: []AdminStep{
		crdStep(AdminStep{ID: "crd-strimzi", Operator: "Strimzi", Description: "upgrade the Strimzi CRDs to 0.44.0 (8.0 runs the Strimzi operator 0.44.0; Helm does not upgrade CRDs)",
			From: "0.32.0", Versions: []string{"0.44.0"}, CRDFile: strimziCRDs,
			Fix:      "as cluster admin, before the upgrade: {cmd:prereqs-apply} {flag:to} {tag} (or kubectl apply --server-side -f manifests/upgrade/strimzi-crds-0.44.0.yaml, vendor repository, the ref of {tag})",
			Inferred: true, Doc: doc80}),
		crdStep(AdminStep{ID: "crd-psmdb", Operator: "Percona", Description: "upgrade the Percona MongoDB operator CRDs and RBAC to 1.17.0, one minor version at a time (1.14.0, 1.15.0, 1.16.1, 1.17.0: the operator supports one minor version at a time)",
			From: "1.13.0", Versions: []string{"1.14.0", "1.15.0", "1.16.1", "1.17.0"}, CRDFile: psmdbCRDs, RBACFile: psmdbRBAC,
			Fix: "as cluster admin, before the upgrade: {cmd:prereqs-apply} {flag:to} {tag} (or, in this order for v in 1.14.0 1.15.0 1.16.1 1.17.0: kubectl apply --server-side -f manifests/upgrade/percona-server-mongodb-operator-crds-$v.yaml " +
				"and kubectl apply -n {namespace} -f manifests/upgrade/percona-server-mongodb-operator-rbac-$v.yaml)",
			Inferred: true, Doc: doc80}),
		{ID: "storageclasses", Kind: AdminStorageClasses, Description: "create the StorageClasses the values name (8.0 uses gp3 volumes on EKS: thingpark-csi-gp3-xfs, thingpark-csi-gp3-ext4)",
			Fix:      "as cluster admin: {cmd:prereqs-apply} {flag:to} {tag} {flag:values} <your values>, and use the matching values-storage.yaml",
			Inferred: true, Doc: doc80,
			Files: storageFiles},
	}},
}

// AdminSteps returns the cluster-admin steps hop h needs, in order (none for a release name that
// is not a tag).
func AdminSteps(h Hop) []AdminStep {
	to, err := ParseTag(h.To.Name)
	if err != nil {
		return nil
	}
	var from *Tag
	if h.From != nil {
		t, err := ParseTag(h.From.Name)
		if err != nil {
			return nil
		}
		from = &t
	}
	var out []AdminStep
	for _, r := range adminRules {
		if r.matchHop != nil && r.matchHop(h) || r.matchHop == nil && r.match(from, to) {
			out = append(out, r.steps...)
		}
	}
	return out
}
