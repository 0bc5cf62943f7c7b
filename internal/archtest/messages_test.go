package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/helmtpe"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/kubectltpe"
)

// messageAllowList holds the string literals of library packages that may name one of our flags
// or commands, each with why. Keep it small: a library message names neither; the command words
// it with its flag names (docs/architecture.md, "Who words a message").
var messageAllowList = map[string]string{
	"-s": "iperf3's own server flag, an argument of the network probe pod's command",
	// pkg/cli is the flag plumbing both trees share: it defines --color and -o itself.
	"invalid value %q for --color: %w": "pkg/cli defines the --color flag of both trees and parses its value",
	"warning: -o %s: -o is an output format; name the file with --output-file (taken as the file this time)\n": "pkg/cli defines -o and --output-file for both trees",
}

// notConvertedYet lists, by file, the library strings that still name our flags or commands
// (issue 23 item 14 is converting them package by package). It only shrinks: a new string that
// names a flag or a command fails the test, and an entry that no longer matches fails it too.
var notConvertedYet = map[string][]string{
	"pkg/charts/bundle.go": {
		"bundle %s lacks %s (it holds %s): build a bundle for this path on a connected machine (`helm tpe bundle create --from FROM --to TO`)",
	},
	"pkg/manifest/adminsteps.go": {
		"as cluster admin: kubectl tpe prereqs apply --to {tag} (or kubectl apply --server-side -f manifests/upgrade/strimzi-crds-0.32.0.yaml, vendor repository, {ref})",
		"as cluster admin: kubectl tpe prereqs apply --to {tag} (or kubectl apply --server-side -f manifests/upgrade/percona-server-mongodb-operator-crds-1.13.0.yaml and -n {namespace} -f manifests/upgrade/percona-server-mongodb-operator-rbac-1.13.0.yaml)",
		"as cluster admin: kubectl tpe prereqs apply --to {tag} -f <your values> (or kubectl apply -f examples/priority-class/default.yaml, vendor repository, and add -f examples/priority-class/values-default-priority-class.yaml to your values)",
		"as cluster admin: kubectl tpe prereqs apply --to {tag} -f <your values> (or kubectl apply -f examples/storage/storage-class-<hosting>.yaml, vendor repository, and use examples/hosting/<hosting>/values-storage.yaml)",
		"as cluster admin, before the upgrade: kubectl tpe prereqs apply --to {tag} (or kubectl apply --server-side -f manifests/upgrade/strimzi-crds-0.44.0.yaml, vendor repository, the ref of {tag})",
		"as cluster admin, before the upgrade: kubectl tpe prereqs apply --to {tag} (or, in this order for v in 1.14.0 1.15.0 1.16.1 1.17.0: kubectl apply --server-side -f manifests/upgrade/percona-server-mongodb-operator-crds-$v.yaml ",
		"as cluster admin: kubectl tpe prereqs apply --to {tag} -f <your values>, and use the matching values-storage.yaml",
	},
	"pkg/manifest/path.go": {
		"%s is older than the installed %s: going backwards is a rollback, use `helm tpe rollback`",
	},
	"pkg/netprobe/pull.go": {
		"push the images to the registry the values point at (`helm tpe images --registry`), and check the image pull Secret (global.imagePullSecrets)",
		"check that the probe pods can be scheduled, or raise --probe-timeout",
	},
	"pkg/plan/adminsteps.go": {
		"no values file names a StorageClass (pass -f with your values-storage.yaml)",
	},
	"pkg/plan/backups.go": {
		"--skip-backup: no upgrade backup ",
		"run without --skip-backup",
	},
	"pkg/plan/plan.go": {
		"the installed charts match no known TPE release (%s): upgrade them to a release of `helm tpe releases` by hand, or pass that release's VERSIONS file with --manifest",
		"` with `helm tpe releases`",
		"an interrupted `helm tpe install|upgrade` continues with --resume",
		"as the TPE rollback procedure says: roll back to the revision that ran %s (`helm tpe rollback`, which restores the backup taken before the upgrade), or reinstall %s and restore a backup taken on it",
		"pick a newer --to (see `helm tpe releases`), or use `helm tpe rollback`",
		"hop %d: release %s changes chart from %s to %s (the vendor renamed it in 7.2.2); helm tpe upgrades it in place",
		" (give the cluster's version with --kube-version to judge it)",
		"--to ",
		"build a bundle for this path on a connected machine: helm tpe bundle create ",
		"--from ",
	},
	"pkg/plan/values.go": {
		"no values file given (-f): the values are not checked",
		"pass your values files with -f; `helm tpe values get` saves the installed ones",
		"run `helm tpe repo add` so that plan can fetch the charts, or give plan the charts with --chart-dir",
	},
	"pkg/preflight/cluster.go": {
		"no sizing segment given (--segment S|M|L|XL|XXL): allocatable CPU and memory not judged",
		"no StorageClass is marked default, and neither --hosting nor the values name one",
		"kubectl tpe prereqs apply --hosting <aks|eks|gke|other>, or set the persistence.storageClass keys in the values",
		"kubectl tpe prereqs apply --hosting ",
		" --tpe-version ",
		" --storage-provisioner ",
		"check --kubeconfig/--context and that this machine reaches the API server (bastion, VPN)",
		"ask the cluster administrator to apply the CRDs of the release (manifests/upgrade/ of the vendor repository), or to run preflight --profile admin",
		"pass a known release with --tpe-version (e.g. v7.3.1), or upgrade kubectl-tpe",
	},
	"pkg/preflight/network.go": {
		"no values given (-f): the backup storage (mandatory for upgrades) was not checked",
		"run with --probe to check that ",
		"; give -f with global.installationId to check the installation ID too",
		" from this machine (or mirror the release manifests and pass --config-repo)",
		"build the bundle again on a connected machine (`helm tpe bundle create`) and carry it again",
		" (`helm tpe bundle create --to ",
		"run with --probe to check that the cluster can pull the %d images of the bundle",
		"verify < 10 ms latency and ≥ 1 Gbps bandwidth between the nodes of different zones (a TPE cluster prerequisite), or run with --network-test",
		"no certificate given (--tls-cert or global.ingress.tls.certificate in -f values)",
	},
	"pkg/preflight/selection.go": {
		"%s %q matches no check: give a check id (see -o json), an id glob such as \"tls.*\", or a category: %s",
		"--only",
		"--skip",
	},
	"pkg/prereq/checks.go": {
		"; --strict makes this a failure",
		"kubectl tpe prereqs apply --hosting %s --priority-class-names=%s",
		"add the vendor's examples/priority-class/values-default-priority-class.yaml to your -f files",
		"name a known release (see `helm tpe releases`), or upgrade the plugins",
	},
	"pkg/pum/ships.go": {
		"no post-upgrade manager in namespace %s: deploy/%s does not exist (TPE is not installed there, or its release ships no post-upgrade manager; `kubectl tpe status` shows what is installed)",
	},
	"pkg/rollback/backup.go": {
		"the %s to %s stopped in hop %d (step %d, %s) before tpe was upgraded: tpe still runs %s, so this rollback returns it further back, to %s; to finish the upgrade instead, fix the cause and rerun it with --resume",
		"--backup",
		"recorded by helm tpe ",
	},
	"pkg/rollback/rollback.go": {
		"--all-charts: charts 1–3 carry operators and CRDs that only move forward; Helm does not roll CRDs back, so the older operators will run against the newer CRD versions (strimzi kafka.strimzi.io, psmdb psmdb.percona.com, cert-manager.io)",
		"waiting after the rollback: %w; the backup %s was NOT restored: once the workloads are ready run `helm tpe rollback --backup %s`",
	},
	"pkg/status/release.go": {
		"install the missing chart of the TPE release (helm tpe install), or pass the namespace of the installation with -n",
		"see `helm history %s -n %s`; resume or roll back the upgrade (helm tpe upgrade / helm tpe rollback)",
		"once the upgrade backup is restored (helm tpe rollback does it) and the cause of the failure fixed, upgrade again: helm tpe upgrade --to %s -f <values files>",
		"finish the upgrade so that all four charts are at the versions of one release (helm tpe plan shows the path)",
	},
	"pkg/status/sections.go": {
		"see `kubectl tpe pum status` for the full output",
		"wait for it: kubectl tpe pum status --wait",
		"read `kubectl tpe pum logs`, fix the cause, then `kubectl tpe pum restart`",
	},
	"pkg/status/status.go": {
		"kubectl tpe",
	},
	"pkg/supportbundle/supportbundle.go": {
		"kubectl tpe preflight report (same schema as preflight -o json)",
		"kubectl tpe status report (same schema as status -o json)",
		"StatefulSets, Deployments and Jobs with their rollout state (as kubectl tpe wait judges it)",
	},
	"pkg/upgrade/record.go": {
		"or roll back to %s with `helm tpe rollback`, which restores %s",
	},
	"pkg/upgrade/run.go": {
		"--resume needs the same values files (-f) as the interrupted run: %s",
		"the plan to %s has cluster-admin steps that cannot be verified: %s; make sure a cluster admin did them, then pass --ack-admin-steps (nothing was changed)",
		"namespace %s already holds %s: use `helm tpe upgrade --to %s`",
		"namespace %s holds no TPE release: use `helm tpe install --to %s`",
	},
	"pkg/upgrade/runner.go": {
		"--resume: there is no unfinished run in namespace %s (no ConfigMap %s in progress): run without --resume",
		"--resume: the unfinished run in namespace %s goes to %s, not %s: rerun with --to %s --resume",
		"--resume",
		" --resume`",
		"every step is done, but %w; next: %s --resume (it records the run as done)",
		" --resume",
		"SKIPPED by --skip-backup: there is no backup to roll back to",
		"WARNING: --skip-backup: no upgrade backup is taken; a failed upgrade cannot be restored",
		"the backup tooling does not answer (%w): an upgrade backup is mandatory; fix the controller or pass --skip-backup",
		"interrupted; marked failed by helm tpe --resume",
		"post-upgrade procedure: %w (see `kubectl tpe pum status`)",
		"post-upgrade procedure ABORTED (%s): read `kubectl logs -n %s jobs.batch/%s`, fix the cause, run `kubectl tpe pum restart`",
	},
}

// ourCommands matches a command of either plugin named in a string.
var ourCommands = regexp.MustCompile(`\b(helm tpe|kubectl tpe)\b`)

// flagNames returns the long and short flags of every command of both plugins.
func flagNames(t *testing.T) (long, short map[string]bool) {
	t.Helper()
	long, short = map[string]bool{}, map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		add := func(f *pflag.Flag) {
			long[f.Name] = true
			if f.Shorthand != "" {
				short[f.Shorthand] = true
			}
		}
		c.LocalFlags().VisitAll(add)
		c.PersistentFlags().VisitAll(add)
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	streams := genericiooptions.NewTestIOStreamsDiscard()
	walk(helmtpe.NewCmdRoot(streams))
	walk(kubectltpe.NewCmdRoot(streams))
	return long, short
}

// upstreamCommand matches a command line of kubectl or helm themselves (not of our plugins), up
// to the end of its clause: their flags are the vendor's procedure, not ours.
var upstreamCommand = regexp.MustCompile("\\b(kubectl|helm) [a-z][^;,`]*")

// namesOurs says which of our flags or commands s names ("" when none).
func namesOurs(s string, long, short map[string]bool) string {
	if m := ourCommands.FindString(s); m != "" {
		return m
	}
	s = upstreamCommand.ReplaceAllString(s, "")
	for _, m := range regexp.MustCompile(`(?:^|[\s("'\x60\[,=])--([a-z][a-z0-9-]*)`).FindAllStringSubmatch(s, -1) {
		if long[m[1]] {
			return "--" + m[1]
		}
	}
	for _, m := range regexp.MustCompile(`(?:^|[\s("'\x60\[,])-([a-zA-Z])(?:$|[\s)"'\x60\],=])`).FindAllStringSubmatch(s, -1) {
		if short[m[1]] {
			return "-" + m[1]
		}
	}
	return ""
}

// TestLibraryMessagesNameNoFlagsOrCommands fails when a string literal of a non-test Go file of a
// library package (pkg/ outside pkg/cmd) names a flag or a command of our plugins: the library
// returns typed errors or fields, and the command words the message with its flag names.
func TestLibraryMessagesNameNoFlagsOrCommands(t *testing.T) {
	long, short := flagNames(t)
	root := filepath.Join("..", "..", "pkg")
	var bad []string
	used := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == filepath.Join(root, "cmd") || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, src, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			what := namesOurs(s, long, short)
			if what == "" {
				return true
			}
			if _, ok := messageAllowList[s]; ok {
				used[s] = true
				return true
			}
			rel, _ := filepath.Rel(filepath.Join("..", ".."), path)
			rel = filepath.ToSlash(rel)
			for _, p := range notConvertedYet[rel] {
				if p == s {
					used[rel+"\x00"+s] = true
					return true
				}
			}
			bad = append(bad, rel+":"+strconv.Itoa(fset.Position(lit.Pos()).Line)+": names "+what+": "+strconv.Quote(s))
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("%d string literals of library packages name our flags or commands; return a typed error or a field and let the command word it (or allow-list it with why):\n%s",
			len(bad), strings.Join(bad, "\n"))
	}
	for s := range messageAllowList {
		if !used[s] {
			t.Errorf("allow-list entry %q matches no string any more: remove it", s)
		}
	}
	for f, ss := range notConvertedYet {
		for _, s := range ss {
			if !used[f+"\x00"+s] {
				t.Errorf("notConvertedYet entry %s %q matches no string any more: remove it", f, s)
			}
		}
	}
}
