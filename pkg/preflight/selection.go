package preflight

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
)

// A group is a set of checks that run together (one function of the Runner).
type group struct {
	// known lists every check the group may report, as (id, category) pairs.
	known []check.Check
	// cluster says whether the group sends requests to the API server.
	cluster func(Config) bool
	run     func(*Runner, context.Context) []check.Check
}

func always(Config) bool { return true }
func never(Config) bool  { return false }

func known(cat string, ids ...string) []check.Check {
	out := make([]check.Check, 0, len(ids))
	for _, id := range ids {
		out = append(out, check.Check{ID: id, Category: cat})
	}
	return out
}

// groups are the checks in the order they run: nodes before storage (zones decide the
// binding-mode warning), CRDs before RBAC (the served groups extend the operator profile).
// TLS and the installation ID are handled by Run (bad input must stop a run first).
func groups() []group {
	var crds []string
	for _, g := range CRDGroups {
		crds = append(crds, "crds."+g)
	}
	var network, firewall []check.Check
	network = append(network, known(CatNetwork, "network.ingress-service", "network.probe.smtp", "network.probe.oidc", "network.probe.backup")...)
	for _, f := range InboundFlows {
		network = append(network, check.Check{ID: "network.inbound." + f.ID, Category: CatNetwork})
		firewall = append(firewall, f.manual())
	}
	for _, fs := range [][]Flow{OutboundFlows, BaseStationServices} {
		for _, f := range fs {
			firewall = append(firewall, f.manual())
		}
	}
	return []group{
		{known: known(CatKubernetes, "kubernetes.version"), cluster: always,
			run: func(r *Runner, _ context.Context) []check.Check { return r.checkVersion() }},
		{known: known(CatPriority, "priorityclasses", "priorityclasses.values"), cluster: always, run: (*Runner).checkPriorityClasses},
		{known: known(CatNodes, "nodes.count", "nodes.zones", "nodes.nodegroup-label", "nodes.allocatable"), cluster: always, run: (*Runner).checkNodes},
		{known: known(CatStorage, "storage.dynamic-provisioning", "storage.classes", "storage.csi-driver", "storage.binding-mode", "storage.expansion"),
			cluster: always, run: (*Runner).checkStorage},
		{known: known(CatIngress, "ingress.class"), cluster: always, run: (*Runner).checkIngressClass},
		{known: known(CatCRDs, append([]string{"crds"}, crds...)...), cluster: always, run: (*Runner).checkCRDs},
		{known: known(CatRBAC, "rbac.admin", "rbac.operator"), cluster: always, run: (*Runner).checkRBAC},
		{known: append(network, firewall...), cluster: always, run: (*Runner).checkNetwork},
		{known: known(CatBackup, "backup.config", "backup.reachable"), cluster: never, run: (*Runner).checkBackup},
		{known: known(CatMachine, "machine.apiserver"), cluster: always, run: (*Runner).checkAPIServer},
		{known: known(CatMachine, "machine.chart-repository", "machine.config-repository", "machine.bundle"), cluster: never, run: (*Runner).checkRepositories},
		{known: known(CatImages, "images.pull"), cluster: func(c Config) bool { return c.Bundle != nil && c.Probe }, run: (*Runner).checkImages},
		{known: known(CatInterZone, "network.inter-zone"), cluster: func(c Config) bool { return c.NetworkTest.Enabled }, run: (*Runner).checkInterZone},
	}
}

// offline are the checks Run handles itself; none needs the cluster.
var offline = append(known(CatTLS, "tls", "tls.parse", "tls.keypair", "tls.chain", "tls.expiry", "tls.hostname"),
	known(CatValues, "values.installation-id")...)

// Selection picks checks by id, id glob or category, as --only and --skip give them. A term
// matches a check when it is
//
//   - its id ("tls.expiry"), or a prefix of it up to a dot ("tls" matches "tls.expiry");
//   - a glob on its id ("tls.*", "storage.*-provisioning"; "tls.*" also matches "tls");
//   - its category, in any case, with spaces or dashes ("TLS", "deployment-machine").
//
// An empty Only selects every check; Skip removes checks from what Only selects.
type Selection struct {
	Only []string
	Skip []string
}

// Empty reports whether the selection keeps every check.
func (s Selection) Empty() bool { return len(s.Only) == 0 && len(s.Skip) == 0 }

// Validate rejects terms that match no known check (a typo would otherwise silently run
// nothing, or everything) and malformed globs.
func (s Selection) Validate() error {
	all := knownChecks()
	for _, list := range []struct {
		flag  string
		terms []string
	}{{"{flag:only}", s.Only}, {"{flag:skip}", s.Skip}} {
		for _, t := range list.terms {
			if strings.TrimSpace(t) == "" {
				return fmt.Errorf("%s: empty check id", list.flag)
			}
			if _, err := path.Match(t, ""); err != nil {
				return fmt.Errorf("%s %q: malformed glob: %w", list.flag, t, err)
			}
			hit := false
			for _, c := range all {
				hit = hit || termMatches(t, c)
			}
			if !hit {
				return fmt.Errorf("%s %q matches no check: give a check id (see {flag:output} json), an id glob such as \"tls.*\", or a category: %s",
					list.flag, t, strings.Join(Categories(), ", "))
			}
		}
	}
	return nil
}

// Keeps reports whether the selection keeps check c.
func (s Selection) Keeps(c check.Check) bool {
	if len(s.Only) > 0 && !anyMatches(s.Only, c) {
		return false
	}
	return !anyMatches(s.Skip, c)
}

// runs reports whether a group has at least one check the selection keeps.
func (s Selection) runs(g group) bool {
	for _, c := range g.known {
		if s.Keeps(c) {
			return true
		}
	}
	return false
}

// NeedsCluster reports whether the checks cfg selects send any request to the API server. When
// it is false (only TLS, values, backup configuration, repositories), preflight needs no
// kubeconfig.
func NeedsCluster(cfg Config) bool {
	for _, g := range groups() {
		if cfg.Select.runs(g) && g.cluster(cfg) {
			return true
		}
	}
	return false
}

// Categories returns the report categories in report order.
func Categories() []string { return append([]string(nil), categoryOrder...) }

func knownChecks() []check.Check {
	var out []check.Check
	for _, g := range groups() {
		out = append(out, g.known...)
	}
	return append(out, offline...)
}

// KnownIDs returns the id of every check preflight may report, sorted.
func KnownIDs() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range knownChecks() {
		if !seen[c.ID] {
			seen[c.ID] = true
			out = append(out, c.ID)
		}
	}
	sort.Strings(out)
	return out
}

func anyMatches(terms []string, c check.Check) bool {
	for _, t := range terms {
		if termMatches(t, c) {
			return true
		}
	}
	return false
}

func normCategory(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), " ", "-")
}

func termMatches(term string, c check.Check) bool {
	t := strings.TrimSpace(term)
	if normCategory(t) == normCategory(c.Category) {
		return true
	}
	t = strings.ToLower(t)
	if t == c.ID || strings.HasPrefix(c.ID, t+".") {
		return true
	}
	if ok, _ := path.Match(t, c.ID); ok {
		return true
	}
	return strings.HasSuffix(t, ".*") && strings.TrimSuffix(t, ".*") == c.ID
}
