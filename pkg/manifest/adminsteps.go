package manifest

import "strings"

// AdminStepKind says how the plan verifies a cluster-admin step.
type AdminStepKind string

// Admin step kinds.
const (
	// AdminCRDs: the CRDs exist, at MinVersion or newer (read from their version labels).
	AdminCRDs AdminStepKind = "crds"
	// AdminPriorityClasses: the three PriorityClasses exist (the rule of the TPE cluster prerequisites).
	AdminPriorityClasses AdminStepKind = "priorityclasses"
	// AdminStorageClasses: the StorageClasses the values name exist.
	AdminStorageClasses AdminStepKind = "storageclasses"
	// AdminManual: the plan cannot verify it; the operator acknowledges it.
	AdminManual AdminStepKind = "manual"
	// AdminBlocking: a procedure the tools do not run (the vendor's legacy 1.0.x → 1.1 upgrade):
	// the plan fails its hop, whatever is acknowledged, until the user has done it by hand.
	AdminBlocking AdminStepKind = "blocking"
)

// AdminStep is a step a cluster administrator must take before a hop: the vendor's upgrade
// procedure lists them per release line, and Helm cannot do them (CRDs, cluster-wide objects).
// This is the one place that says which hop needs which step; the plan verifies them read-only.
type AdminStep struct {
	ID          string
	Description string
	Kind        AdminStepKind
	// CRDs and MinVersion are the CRDs of an AdminCRDs step and the operator version they must have.
	CRDs       []string
	MinVersion string
	// Fix is the command or action, with {namespace} and {tag} (the hop's target) to fill in.
	Fix string
	// Inferred marks a step the vendor's text could not be read for: the plan says so.
	Inferred bool
	// Doc names the vendor document the step comes from.
	Doc string
	// Files are the manifests of the vendor's configuration repository (paths at the ref of the
	// hop's target) that the step applies: a release bundle carries them.
	Files []string
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

// storageFiles are the vendor's StorageClass examples, one per hosting.
var storageFiles = []string{"examples/storage/storage-class-amazon.yaml", "examples/storage/storage-class-azure.yaml", "examples/storage/storage-class-google.yaml"}

// psmdbFiles are the Percona MongoDB operator CRD and RBAC manifests of the versions, in order.
func psmdbFiles(versions ...string) []string {
	var out []string
	for _, v := range versions {
		out = append(out, "manifests/upgrade/percona-server-mongodb-operator-crds-"+v+".yaml", "manifests/upgrade/percona-server-mongodb-operator-rbac-"+v+".yaml")
	}
	return out
}

// adminRules are the cluster-admin steps per hop, in the order they must be done. To add a step
// for a new release line, add a rule here (and, when the plan cannot verify its kind, use
// AdminManual).
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
		{ID: "crd-strimzi", Kind: AdminCRDs, Description: "upgrade the Strimzi CRDs to 0.32.0 (Helm does not upgrade CRDs)",
			CRDs: []string{"kafkas.kafka.strimzi.io", "strimzipodsets.core.strimzi.io"}, MinVersion: "0.32.0",
			Fix:   "as cluster admin: kubectl apply --server-side -f manifests/upgrade/strimzi-crds-0.32.0.yaml (vendor repository, {ref})",
			Doc:   "the TPE upgrade procedure, 7.2 to 7.3",
			Files: []string{"manifests/upgrade/strimzi-crds-0.32.0.yaml"}},
		{ID: "crd-psmdb", Kind: AdminCRDs, Description: "upgrade the Percona MongoDB operator CRDs to 1.13.0",
			CRDs:       []string{"perconaservermongodbs.psmdb.percona.com", "perconaservermongodbbackups.psmdb.percona.com", "perconaservermongodbrestores.psmdb.percona.com"},
			MinVersion: "1.13.0",
			Fix:        "as cluster admin: kubectl apply --server-side -f manifests/upgrade/percona-server-mongodb-operator-crds-1.13.0.yaml and -n {namespace} -f manifests/upgrade/percona-server-mongodb-operator-rbac-1.13.0.yaml",
			Doc:        "the TPE upgrade procedure, 7.2 to 7.3",
			Files:      []string{"manifests/upgrade/percona-server-mongodb-operator-crds-1.13.0.yaml", "manifests/upgrade/percona-server-mongodb-operator-rbac-1.13.0.yaml"}},
	}},
	{match: intoLine("7.3", true), steps: []AdminStep{
		{ID: "priorityclasses", Kind: AdminPriorityClasses, Description: "create the 3 PriorityClasses (7.3 no longer ships them in the charts)",
			Fix:   "as cluster admin: kubectl apply -f examples/priority-class/default.yaml (vendor repository), then add -f examples/priority-class/values-default-priority-class.yaml to your values",
			Doc:   "the TPE cluster prerequisites",
			Files: []string{"examples/priority-class/default.yaml", "examples/priority-class/values-default-priority-class.yaml"}},
		{ID: "storageclasses", Kind: AdminStorageClasses, Description: "create the StorageClasses the values name (7.3 no longer ships them in the charts)",
			Fix:   "as cluster admin: kubectl apply -f examples/storage/storage-class-<hosting>.yaml (vendor repository), and use examples/hosting/<hosting>/values-storage.yaml",
			Doc:   "the TPE cluster prerequisites",
			Files: storageFiles},
	}},
}

// doc80 names where the steps of the 7.3 → 8.0 hop come from: the TPE upgrade procedure sends 7.3
// users to the 8.0 upgrade procedure, whose text could not be read; the steps below follow the
// manifests the vendor's configuration repository ships for 8.0 (manifests/upgrade on its main
// branch) and the operator versions of 8.0's container manifest, so they are marked inferred.
const doc80 = "the TPE 8.0 upgrade procedure (steps inferred from the vendor's configuration repository, main branch, manifests/upgrade)"

// adminRules80 are the steps of the 7.3 → 8.0 hop, in order.
var adminRules80 = adminRule{match: intoLine("8.0", false), steps: []AdminStep{
	{ID: "crd-strimzi", Kind: AdminCRDs, Description: "upgrade the Strimzi CRDs to 0.44.0 (8.0 runs the Strimzi operator 0.44.0; Helm does not upgrade CRDs)",
		// kafkanodepools is not in the 0.32.0 CRDs of 7.3: its presence marks the newer ones
		// (the vendor's Strimzi CRDs carry no version label).
		CRDs:       []string{"kafkas.kafka.strimzi.io", "strimzipodsets.core.strimzi.io", "kafkanodepools.kafka.strimzi.io"},
		MinVersion: "0.44.0",
		Fix:        "as cluster admin, before the upgrade: kubectl apply --server-side -f manifests/upgrade/strimzi-crds-0.44.0.yaml (vendor repository, the ref of {tag})",
		Inferred:   true, Doc: doc80,
		Files: []string{"manifests/upgrade/strimzi-crds-0.44.0.yaml"}},
	{ID: "crd-psmdb", Kind: AdminCRDs, Description: "upgrade the Percona MongoDB operator CRDs and RBAC to 1.17.0, one minor version at a time (1.14.0, 1.15.0, 1.16.1, 1.17.0: the operator supports one minor version at a time)",
		CRDs:       []string{"perconaservermongodbs.psmdb.percona.com", "perconaservermongodbbackups.psmdb.percona.com", "perconaservermongodbrestores.psmdb.percona.com"},
		MinVersion: "1.17.0",
		Fix: "as cluster admin, in this order for v in 1.14.0 1.15.0 1.16.1 1.17.0: kubectl apply --server-side -f manifests/upgrade/percona-server-mongodb-operator-crds-$v.yaml " +
			"and kubectl apply -n {namespace} -f manifests/upgrade/percona-server-mongodb-operator-rbac-$v.yaml",
		Inferred: true, Doc: doc80,
		Files: psmdbFiles("1.14.0", "1.15.0", "1.16.1", "1.17.0")},
	{ID: "storageclasses", Kind: AdminStorageClasses, Description: "create the StorageClasses the values name (8.0 uses gp3 volumes on EKS: thingpark-csi-gp3-xfs, thingpark-csi-gp3-ext4)",
		Fix:      "as cluster admin: kubectl tpe prereqs apply --hosting <hosting> --tpe-version {tag}, and use the matching values-storage.yaml",
		Inferred: true, Doc: doc80,
		Files: storageFiles},
}}

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
	for _, r := range append(adminRules, adminRules80) {
		if r.matchHop != nil && r.matchHop(h) || r.matchHop == nil && r.match(from, to) {
			out = append(out, r.steps...)
		}
	}
	return out
}
