// Package rbac checks the two Kubernetes account profiles TPE needs (seed 000, domain.md §3):
// the cluster administrator (cluster-wide objects) and the application operator (the `admin`
// ClusterRole plus all verbs on kafka.strimzi.io and psmdb.percona.com in the TPE namespace).
//
// A profile is a list of (verb, group, resource) triples. The check asks the API server once for
// the subject's rules (SelfSubjectRulesReview) and then confirms each triple the rules do not
// cover with an access review, so that an authorizer the rules review cannot enumerate (webhooks)
// still gets its say. The result names every missing triple, not a yes/no.
package rbac

import (
	"context"
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	authv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// Permission is one (verb, group, resource) a profile needs, in a namespace ("" = cluster scope).
type Permission struct {
	Verb      string `json:"verb"`
	Group     string `json:"group"`
	Resource  string `json:"resource"`
	Namespace string `json:"namespace,omitempty"`
}

// String renders p like `create storageclasses.storage.k8s.io` (core group: `create pods`).
func (p Permission) String() string {
	r := p.Resource
	if p.Group != "" {
		r += "." + p.Group
	}
	s := p.Verb + " " + r
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

// AdminResources are the cluster-wide kinds of seed 000, as group → resources.
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
// resources their CRDs define (domain.md §2.4); resources found by discovery are added.
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
		perm.Namespace = ns
		if !seen[perm] {
			seen[perm] = true
			p.Permissions = append(p.Permissions, perm)
		}
	}
	for _, r := range adminRules {
		if len(r.NonResourceURLs) > 0 {
			continue
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					add(Permission{Verb: v, Group: g, Resource: res})
				}
			}
		}
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
				add(Permission{Verb: v, Group: g, Resource: r})
			}
		}
	}
	return p
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

// Reviewer answers access questions about one subject.
type Reviewer interface {
	// Rules returns the subject's resource rules in ns; ok=false when the reviewer cannot list
	// rules (then every permission is reviewed one by one).
	Rules(ctx context.Context, ns string) (rules []authv1.ResourceRule, incomplete, ok bool, err error)
	// Allowed reviews one permission.
	Allowed(ctx context.Context, p Permission) (allowed bool, reason string, err error)
	// Subject describes who is checked ("the current user", "user alice").
	Subject() string
}

// SelfReviewer reviews the client's own user (SelfSubjectRulesReview, SelfSubjectAccessReview).
// With --as/--as-group the client impersonates, so the reviews are about the impersonated user.
type SelfReviewer struct {
	Client kubernetes.Interface
	// Who describes the subject for messages.
	Who string
}

// Subject implements Reviewer.
func (r SelfReviewer) Subject() string {
	if r.Who == "" {
		return "the current user"
	}
	return r.Who
}

// Rules implements Reviewer.
func (r SelfReviewer) Rules(ctx context.Context, ns string) ([]authv1.ResourceRule, bool, bool, error) {
	if ns == "" {
		ns = "default" // the review needs a namespace; cluster-wide rules show in every namespace
	}
	res, err := r.Client.AuthorizationV1().SelfSubjectRulesReviews().Create(ctx,
		&authv1.SelfSubjectRulesReview{Spec: authv1.SelfSubjectRulesReviewSpec{Namespace: ns}}, metav1.CreateOptions{})
	if err != nil {
		return nil, false, false, fmt.Errorf("SelfSubjectRulesReview in %s: %w", ns, err)
	}
	return res.Status.ResourceRules, res.Status.Incomplete, true, nil
}

// Allowed implements Reviewer.
func (r SelfReviewer) Allowed(ctx context.Context, p Permission) (bool, string, error) {
	res, err := r.Client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authv1.SelfSubjectAccessReview{
		Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: attrs(p)}}, metav1.CreateOptions{})
	if err != nil {
		return false, "", fmt.Errorf("SelfSubjectAccessReview %s: %w", p, err)
	}
	return res.Status.Allowed, res.Status.Reason, nil
}

// SubjectReviewer reviews another user with SubjectAccessReview (the caller needs create on
// subjectaccessreviews). It cannot list rules, so each permission is one review.
type SubjectReviewer struct {
	Client kubernetes.Interface
	User   string
	Groups []string
}

// Subject implements Reviewer.
func (r SubjectReviewer) Subject() string {
	s := "user " + r.User
	if len(r.Groups) > 0 {
		s += " (groups " + strings.Join(r.Groups, ", ") + ")"
	}
	return s
}

// Rules implements Reviewer: a SubjectAccessReview cannot list rules.
func (r SubjectReviewer) Rules(context.Context, string) ([]authv1.ResourceRule, bool, bool, error) {
	return nil, false, false, nil
}

// Allowed implements Reviewer.
func (r SubjectReviewer) Allowed(ctx context.Context, p Permission) (bool, string, error) {
	res, err := r.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authv1.SubjectAccessReview{
		Spec: authv1.SubjectAccessReviewSpec{User: r.User, Groups: r.Groups, ResourceAttributes: attrs(p)}}, metav1.CreateOptions{})
	if err != nil {
		return false, "", fmt.Errorf("SubjectAccessReview %s for %s: %w", p, r.User, err)
	}
	return res.Status.Allowed, res.Status.Reason, nil
}

func attrs(p Permission) *authv1.ResourceAttributes {
	res, sub, _ := strings.Cut(p.Resource, "/")
	return &authv1.ResourceAttributes{Namespace: p.Namespace, Verb: p.Verb, Group: p.Group, Resource: res, Subresource: sub}
}

// CanCreateSubjectAccessReviews reports whether c may create SubjectAccessReviews (so that it can
// check another user without impersonating).
func CanCreateSubjectAccessReviews(ctx context.Context, c kubernetes.Interface) bool {
	ok, _, err := SelfReviewer{Client: c}.Allowed(ctx, Permission{Verb: "create", Group: "authorization.k8s.io", Resource: "subjectaccessreviews"})
	return err == nil && ok
}

// Result is the outcome of checking a profile.
type Result struct {
	Profile Profile      `json:"profile"`
	Subject string       `json:"subject"`
	Missing []Permission `json:"missing"`
	// Reviews is the number of API requests the check made.
	Reviews int `json:"reviews"`
	// Incomplete is true when the rules review said it could not list every rule.
	Incomplete bool `json:"incomplete"`
}

// MaxParallelReviews bounds the concurrent access reviews.
const MaxParallelReviews = 8

// Check checks profile p for the reviewer's subject.
func Check(ctx context.Context, r Reviewer, p Profile) (Result, error) {
	res := Result{Profile: p, Subject: r.Subject()}
	rules, incomplete, ok, err := r.Rules(ctx, p.Namespace)
	if err != nil {
		return res, err
	}
	if ok {
		res.Reviews++
		res.Incomplete = incomplete
	}
	var candidates []Permission
	for _, perm := range p.Permissions {
		if ok && Covers(rules, perm) {
			continue
		}
		candidates = append(candidates, perm)
	}
	// Confirm every permission the rules do not grant: the rules review omits what webhook
	// authorizers allow, and an access review is the authoritative answer.
	var mu sync.Mutex // guards res
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(MaxParallelReviews)
	for _, perm := range candidates {
		g.Go(func() error {
			allowed, _, err := r.Allowed(gctx, perm)
			mu.Lock()
			defer mu.Unlock()
			res.Reviews++
			if err != nil {
				return err
			}
			if !allowed {
				res.Missing = append(res.Missing, perm)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return res, err
	}
	sortPerms(res.Missing, p.Permissions)
	return res, nil
}

// sortPerms orders missing permissions like the profile lists them.
func sortPerms(ps, order []Permission) {
	idx := map[Permission]int{}
	for i, p := range order {
		idx[p] = i
	}
	sort.Slice(ps, func(i, j int) bool { return idx[ps[i]] < idx[ps[j]] })
}

// Covers reports whether rules grant perm (RBAC matching: "*" matches any verb, group or resource,
// "x/*" any subresource of x).
func Covers(rules []authv1.ResourceRule, perm Permission) bool {
	for _, r := range rules {
		if match(r.Verbs, perm.Verb) && match(r.APIGroups, perm.Group) && matchResource(r.ResourceNames, r.Resources, perm.Resource) {
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

func matchResource(names, list []string, res string) bool {
	if len(names) > 0 {
		return false // a rule restricted to named objects does not grant the whole resource
	}
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
