// Package rbac checks the two Kubernetes account profiles of the vendor's TPE cluster
// prerequisites: the cluster administrator (cluster-wide objects) and the application operator
// (the `admin` ClusterRole plus all verbs on kafka.strimzi.io and psmdb.percona.com in the TPE
// namespace).
//
// A profile is a list of (verb, group, resource) triples. The check asks the API server once for
// the subject's rules (SelfSubjectRulesReview). When the answer is complete it is authoritative
// and the missing triples follow from it without another request; only when it is incomplete (a
// webhook authorizer the rules review cannot enumerate) are the uncovered triples confirmed with
// access reviews, concurrently and at most MaxConfirmations of them. So the check costs a handful
// of requests whatever is missing, and the result names every missing triple, not a yes/no.
package rbac

import (
	"context"
	_ "embed"
	"fmt"
	"slices"
	"sort"
	"strings"

	authv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// Permission is one (verb, group, resource) a profile needs, in a namespace ("" = cluster scope),
// on one named object if ResourceName is set. Resource may name a subresource ("pods/exec").
type Permission struct {
	Verb         string `json:"verb"`
	Group        string `json:"group"`
	Resource     string `json:"resource"`
	Namespace    string `json:"namespace,omitempty"`
	ResourceName string `json:"resourceName,omitempty"`
}

// Item is a permission as the checks list it in check.Check.Items (docs/output-schema.md).
type Item struct {
	Verb          string   `json:"verb"`
	Group         string   `json:"group"`
	Resource      string   `json:"resource"`
	Namespace     string   `json:"namespace,omitempty"`
	ResourceNames []string `json:"resourceNames,omitempty"`
}

// Item returns p for check.Check.Items.
func (p Permission) Item() Item {
	it := Item{Verb: p.Verb, Group: p.Group, Resource: p.Resource, Namespace: p.Namespace}
	if p.ResourceName != "" {
		it.ResourceNames = []string{p.ResourceName}
	}
	return it
}

// String renders p like `create storageclasses.storage.k8s.io` (core group: `create pods`).
func (p Permission) String() string {
	r := p.Resource
	if p.Group != "" {
		r += "." + p.Group
	}
	s := p.Verb + " " + r
	if p.ResourceName != "" {
		s += " " + p.ResourceName
	}
	if p.Namespace != "" {
		s += " in namespace " + p.Namespace
	}
	return s
}

// Profile is a named set of permissions.
type Profile struct {
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Namespace   string       `json:"namespace,omitempty"`
	Permissions []Permission `json:"permissions"`
}

// Profile names.
const (
	ProfileAdmin    = "admin"
	ProfileOperator = "operator"
)

// AdminVerbs are the verbs the cluster administrator needs on every cluster-wide kind (patch is
// what server-side apply sends).
var AdminVerbs = []string{"create", "update", "patch", "delete"}

// AdminResources are the cluster-wide kinds of the vendor's prerequisites, as group → resources.
var AdminResources = []Permission{
	{Group: "storage.k8s.io", Resource: "storageclasses"},
	{Group: "scheduling.k8s.io", Resource: "priorityclasses"},
	{Group: "networking.k8s.io", Resource: "ingressclasses"},
	{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"},
	{Group: "rbac.authorization.k8s.io", Resource: "clusterroles"},
	{Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"},
}

// AdminProfile is the cluster administrator profile.
func AdminProfile() Profile {
	p := Profile{Name: ProfileAdmin, Description: "cluster administrator: create, update and delete the cluster-wide TPE prerequisites"}
	for _, r := range AdminResources {
		for _, v := range AdminVerbs {
			p.Permissions = append(p.Permissions, Permission{Verb: v, Group: r.Group, Resource: r.Resource})
		}
	}
	return p
}

// AllVerbs is what "all verbs" on a custom resource means.
var AllVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}

// DataGroups are the custom resource groups the operator needs every verb on, with the
// resources their CRDs define; resources found by discovery are added.
var DataGroups = map[string][]string{
	"kafka.strimzi.io": {"kafkas", "kafkaconnects", "kafkatopics", "kafkausers", "kafkamirrormakers", "kafkabridges",
		"kafkaconnectors", "kafkamirrormaker2s", "kafkarebalances"},
	"psmdb.percona.com": {"perconaservermongodbs", "perconaservermongodbbackups", "perconaservermongodbrestores"},
}

//go:embed admin-clusterrole.yaml
var adminClusterRoleYAML []byte

// EmbeddedAdminRules returns the rules of Kubernetes' `admin` ClusterRole (v1.37.2).
func EmbeddedAdminRules() []rbacv1.PolicyRule {
	var r struct {
		Rules []rbacv1.PolicyRule `json:"rules"`
	}
	if err := yaml.UnmarshalStrict(adminClusterRoleYAML, &r); err != nil {
		panic(fmt.Sprintf("embedded admin ClusterRole: %v", err)) // covered by tests
	}
	return r.Rules
}

// OperatorProfile is the application operator profile in namespace ns: every verb of adminRules
// (the `admin` ClusterRole) plus AllVerbs on the DataGroups resources (extra adds resources
// found by discovery, group → resources).
func OperatorProfile(ns string, adminRules []rbacv1.PolicyRule, extra map[string][]string) Profile {
	p := Profile{Name: ProfileOperator, Namespace: ns,
		Description: "application operator: the admin ClusterRole plus all verbs on kafka.strimzi.io and psmdb.percona.com in " + ns}
	seen := map[Permission]bool{}
	add := func(perm Permission) {
		if !seen[perm] {
			seen[perm] = true
			p.Permissions = append(p.Permissions, perm)
		}
	}
	for _, perm := range RulePermissions(ns, adminRules) {
		add(perm)
	}
	groups := make([]string, 0, len(DataGroups))
	for g := range DataGroups {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		res := append(append([]string(nil), DataGroups[g]...), extra[g]...)
		for _, r := range res {
			if strings.Contains(r, "/") {
				continue // status subresources are the operators' business
			}
			for _, v := range AllVerbs {
				add(Permission{Verb: v, Group: g, Resource: r, Namespace: ns})
			}
		}
	}
	return p
}

// RulePermissions expands resource rules into permissions in ns, in rule order, without
// duplicates (rules on non-resource URLs are skipped).
func RulePermissions(ns string, rules []rbacv1.PolicyRule) []Permission {
	var out []Permission
	seen := map[Permission]bool{}
	for _, r := range rules {
		if len(r.NonResourceURLs) > 0 {
			continue
		}
		names := r.ResourceNames
		if len(names) == 0 {
			names = []string{""}
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					for _, n := range names {
						perm := Permission{Verb: v, Group: g, Resource: res, Namespace: ns, ResourceName: n}
						if !seen[perm] {
							seen[perm] = true
							out = append(out, perm)
						}
					}
				}
			}
		}
	}
	return out
}

// AdminRules reads the live `admin` ClusterRole, and falls back to the embedded copy when the
// caller may not read it (operators usually cannot). source says which was used.
func AdminRules(ctx context.Context, c kubernetes.Interface) (rules []rbacv1.PolicyRule, source string, err error) {
	cr, err := c.RbacV1().ClusterRoles().Get(ctx, "admin", metav1.GetOptions{})
	switch {
	case err == nil && len(cr.Rules) > 0:
		return cr.Rules, "the cluster's admin ClusterRole", nil
	case err == nil, apierrors.IsForbidden(err), apierrors.IsNotFound(err), apierrors.IsUnauthorized(err):
		return EmbeddedAdminRules(), "the admin ClusterRole of Kubernetes v1.37 (the cluster's could not be read)", nil
	}
	return nil, "", fmt.Errorf("reading ClusterRole admin: %w", err)
}

// Covers reports whether rules grant perm (RBAC matching: "*" matches any verb, group or resource,
// "x/*" any subresource of x).
func Covers(rules []authv1.ResourceRule, perm Permission) bool {
	for _, r := range rules {
		if match(r.Verbs, perm.Verb) && match(r.APIGroups, perm.Group) && matchResource(r.ResourceNames, r.Resources, perm) {
			return true
		}
	}
	return false
}

func match(list []string, v string) bool {
	for _, x := range list {
		if x == "*" || x == v {
			return true
		}
	}
	return false
}

func matchResource(names, list []string, perm Permission) bool {
	if len(names) > 0 && !slices.Contains(names, perm.ResourceName) {
		return false // a rule restricted to named objects does not grant the whole resource
	}
	res := perm.Resource
	_, sub, hasSub := strings.Cut(res, "/")
	for _, x := range list {
		if x == "*" || x == res || (hasSub && x == "*/"+sub) {
			return true
		}
	}
	return false
}

// Group gathers missing permissions by (group, resource) → verbs, for short messages.
func Group(ps []Permission) []string {
	type key struct{ group, res string }
	var order []key
	verbs := map[key][]string{}
	for _, p := range ps {
		k := key{p.Group, p.Resource}
		if _, ok := verbs[k]; !ok {
			order = append(order, k)
		}
		verbs[k] = append(verbs[k], p.Verb)
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		r := k.res
		if k.group != "" {
			r += "." + k.group
		}
		out = append(out, fmt.Sprintf("%s: %s", r, strings.Join(verbs[k], ", ")))
	}
	return out
}

// RemediationYAML renders the (Cluster)Role and binding that would grant the missing permissions
// to user, ready for `kubectl apply -f -` by a cluster administrator.
func RemediationYAML(p Profile, missing []Permission, user string) string {
	type rk struct{ group, res string }
	byRes := map[rk][]string{}
	var order []rk
	for _, m := range missing {
		k := rk{m.Group, m.Resource}
		if _, ok := byRes[k]; !ok {
			order = append(order, k)
		}
		byRes[k] = append(byRes[k], m.Verb)
	}
	var b strings.Builder
	kind, bkind, nsLine := "ClusterRole", "ClusterRoleBinding", ""
	if p.Namespace != "" {
		kind, bkind, nsLine = "Role", "RoleBinding", "\n  namespace: "+p.Namespace
	}
	name := "tpe-" + p.Name + "-missing"
	fmt.Fprintf(&b, "apiVersion: rbac.authorization.k8s.io/v1\nkind: %s\nmetadata:\n  name: %s%s\nrules:\n", kind, name, nsLine)
	for _, k := range order {
		fmt.Fprintf(&b, "- apiGroups: [%q]\n  resources: [%q]\n  verbs: [%s]\n", k.group, k.res, quoteJoin(byRes[k]))
	}
	if user == "" {
		user = "<user>"
	}
	fmt.Fprintf(&b, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: %s\nmetadata:\n  name: %s%s\n"+
		"roleRef: {apiGroup: rbac.authorization.k8s.io, kind: %s, name: %s}\n"+
		"subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: %s}]", bkind, name, nsLine, kind, name, user)
	return b.String()
}

func quoteJoin(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}
