package rbac

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	authnv1 "k8s.io/api/authentication/v1"
	authv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Reviewer answers access questions about one subject.
type Reviewer interface {
	// Rules returns the subject's resource rules in ns; incomplete=true when other authorizers
	// may grant more than the rules show; ok=false when the reviewer cannot list rules (then
	// every permission is reviewed one by one).
	Rules(ctx context.Context, ns string) (rules []authv1.ResourceRule, incomplete, ok bool, err error)
	// Allowed reviews one permission.
	Allowed(ctx context.Context, p Permission) (allowed bool, reason string, err error)
	// Subject describes who is checked ("the current user", "user alice").
	Subject() string
}

// ReviewerConfig is what NewReviewer chooses from: the command line's client and flags.
type ReviewerConfig struct {
	// Client talks as the kubeconfig's user, impersonating Impersonate if set.
	Client kubernetes.Interface
	// Impersonate is --as / --as-group.
	Impersonate rest.ImpersonationConfig
	// Namespace is where the impersonation is tried (any namespace will do).
	Namespace string
	// Direct builds a client without the impersonation, for SubjectAccessReviews (nil: none).
	Direct func() (kubernetes.Interface, error)
}

// NewReviewer picks how the permissions of cfg's subject are reviewed:
//
//   - without --as: the user's own reviews (SelfSubjectRulesReview, SelfSubjectAccessReview);
//     user is the name the API server knows the user by ("" if it cannot say);
//   - with --as, when the caller may impersonate: the impersonated user's own reviews, the same
//     few requests;
//   - with --as, when the caller may not impersonate but may create SubjectAccessReviews: a
//     SubjectReviewer, whose rules are read from the RBAC objects (four lists).
//
// It is an error when --as is given and neither works.
func NewReviewer(ctx context.Context, cfg ReviewerConfig) (r Reviewer, user string, err error) {
	if name := cfg.Impersonate.UserName; name != "" {
		self := SelfReviewer{Client: cfg.Client, Who: "user " + name + " (impersonated)"}
		// One rules review tells whether the impersonation is allowed.
		_, _, _, impErr := self.Rules(ctx, cfg.Namespace)
		if impErr == nil {
			return self, name, nil
		}
		if cfg.Direct != nil {
			if dc, err := cfg.Direct(); err == nil && CanCreateSubjectAccessReviews(ctx, dc) {
				return SubjectReviewer{Client: dc, User: name, Groups: cfg.Impersonate.Groups}, name, nil
			}
		}
		return nil, "", &ImpersonationError{User: name, Err: impErr}
	}
	if ssr, err := cfg.Client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{}); err == nil {
		user = ssr.Status.UserInfo.Username
	}
	who := "the current user"
	if user != "" {
		who = "user " + user
	}
	return SelfReviewer{Client: cfg.Client, Who: who}, user, nil
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
// subjectaccessreviews). Kubernetes has no rules review of another user, so Rules evaluates the
// RBAC objects (ClusterRoleBindings, ClusterRoles, and the RoleBindings and Roles of the
// namespace: four lists) for the user and its groups. Those rules are incomplete by nature
// (other authorizers are not seen), so the permissions they do not cover are confirmed with
// access reviews, within MaxConfirmations.
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

// Rules implements Reviewer. ok is false when the caller may not list the RBAC objects.
func (r SubjectReviewer) Rules(ctx context.Context, ns string) ([]authv1.ResourceRule, bool, bool, error) {
	api := r.Client.RbacV1()
	crbs, err := api.ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, false, false, nil
	}
	crs, err := api.ClusterRoles().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, false, false, nil
	}
	clusterRoles := map[string][]rbacv1.PolicyRule{}
	for _, cr := range crs.Items {
		clusterRoles[cr.Name] = cr.Rules
	}
	var policy []rbacv1.PolicyRule
	for _, b := range crbs.Items {
		if r.bound(b.Subjects, "") && b.RoleRef.Kind == "ClusterRole" {
			policy = append(policy, clusterRoles[b.RoleRef.Name]...)
		}
	}
	if ns != "" {
		rbs, err := api.RoleBindings(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, false, false, nil
		}
		roles, err := api.Roles(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, false, false, nil
		}
		nsRoles := map[string][]rbacv1.PolicyRule{}
		for _, ro := range roles.Items {
			nsRoles[ro.Name] = ro.Rules
		}
		for _, b := range rbs.Items {
			if !r.bound(b.Subjects, ns) {
				continue
			}
			switch b.RoleRef.Kind {
			case "ClusterRole":
				policy = append(policy, clusterRoles[b.RoleRef.Name]...)
			case "Role":
				policy = append(policy, nsRoles[b.RoleRef.Name]...)
			}
		}
	}
	out := make([]authv1.ResourceRule, 0, len(policy))
	for _, p := range policy {
		if len(p.NonResourceURLs) == 0 {
			out = append(out, authv1.ResourceRule{Verbs: p.Verbs, APIGroups: p.APIGroups, Resources: p.Resources, ResourceNames: p.ResourceNames})
		}
	}
	return out, true, true, nil
}

// groups are the subject's groups as the API server would see them once authenticated.
func (r SubjectReviewer) groups() []string {
	gs := append([]string(nil), r.Groups...)
	if !slices.Contains(gs, "system:authenticated") {
		gs = append(gs, "system:authenticated")
	}
	return gs
}

// bound reports whether one of subjects is this user (or one of its groups); ns is the
// binding's namespace ("" for a ClusterRoleBinding).
func (r SubjectReviewer) bound(subjects []rbacv1.Subject, ns string) bool {
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			if s.Name == r.User {
				return true
			}
		case rbacv1.GroupKind:
			if slices.Contains(r.groups(), s.Name) {
				return true
			}
		case rbacv1.ServiceAccountKind:
			sns := s.Namespace
			if sns == "" {
				sns = ns
			}
			if r.User == "system:serviceaccount:"+sns+":"+s.Name {
				return true
			}
		}
	}
	return false
}

// Allowed implements Reviewer.
func (r SubjectReviewer) Allowed(ctx context.Context, p Permission) (bool, string, error) {
	res, err := r.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authv1.SubjectAccessReview{
		Spec: authv1.SubjectAccessReviewSpec{User: r.User, Groups: r.groups(), ResourceAttributes: attrs(p)}}, metav1.CreateOptions{})
	if err != nil {
		return false, "", fmt.Errorf("SubjectAccessReview %s for %s: %w", p, r.User, err)
	}
	return res.Status.Allowed, res.Status.Reason, nil
}

func attrs(p Permission) *authv1.ResourceAttributes {
	res, sub, _ := strings.Cut(p.Resource, "/")
	return &authv1.ResourceAttributes{Namespace: p.Namespace, Verb: p.Verb, Group: p.Group, Resource: res, Subresource: sub, Name: p.ResourceName}
}

// CanCreateSubjectAccessReviews reports whether c may create SubjectAccessReviews (so that it can
// check another user without impersonating).
func CanCreateSubjectAccessReviews(ctx context.Context, c kubernetes.Interface) bool {
	ok, _, err := SelfReviewer{Client: c}.Allowed(ctx, Permission{Verb: "create", Group: "authorization.k8s.io", Resource: "subjectaccessreviews"})
	return err == nil && ok
}

// Result is the outcome of checking a profile.
type Result struct {
	Profile Profile `json:"profile"`
	Subject string  `json:"subject"`
	// Missing are the permissions the subject lacks, in profile order.
	Missing []Permission `json:"missing"`
	// Unconfirmed are permissions the rules do not grant but that were not confirmed with an
	// access review (beyond MaxConfirmations) while some confirmed ones were granted by another
	// authorizer: they may or may not be granted. Empty when the rules review is complete.
	Unconfirmed []Permission `json:"unconfirmed,omitempty"`
	// Reviews is the number of API requests the check made.
	Reviews int `json:"reviews"`
	// Incomplete is true when the rules review said it could not list every rule.
	Incomplete bool `json:"incomplete"`
	// Inferred counts the Missing permissions taken from the rules without an access review of
	// their own because the confirmed sample of MaxConfirmations was denied throughout.
	Inferred int `json:"inferred,omitempty"`
}

// MaxParallelReviews bounds the concurrent access reviews.
const MaxParallelReviews = 8

// MaxConfirmations bounds the access reviews of one check when the rules review is incomplete.
const MaxConfirmations = 16

// Check checks profile p for the reviewer's subject.
//
// A complete rules review is authoritative: the permissions its rules do not cover are missing,
// and the check costs that one request. An incomplete one (a webhook authorizer, or the RBAC
// objects of a SubjectReviewer) is confirmed with access reviews of the uncovered permissions,
// at most MaxConfirmations of them (spread over every resource), MaxParallelReviews at a time;
// when all of those are denied the rest are taken as missing too (Inferred), otherwise they are
// reported as Unconfirmed. Only a reviewer that cannot list rules at all reviews every
// permission.
func Check(ctx context.Context, r Reviewer, p Profile) (Result, error) {
	res := Result{Profile: p, Subject: r.Subject()}
	rules, incomplete, ok, err := r.Rules(ctx, p.Namespace)
	if err != nil {
		return res, err
	}
	var uncovered []Permission
	for _, perm := range p.Permissions {
		if !ok || !Covers(rules, perm) {
			uncovered = append(uncovered, perm)
		}
	}
	if ok {
		res.Reviews++
		res.Incomplete = incomplete
		if !incomplete {
			res.Missing = uncovered
			return res, nil
		}
	}
	confirm, rest := uncovered, []Permission(nil)
	if ok && len(uncovered) > MaxConfirmations {
		confirm, rest = spread(uncovered, MaxConfirmations)
	}
	granted := 0
	var mu sync.Mutex // guards res and granted
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(MaxParallelReviews)
	for _, perm := range confirm {
		g.Go(func() error {
			allowed, _, err := r.Allowed(gctx, perm)
			mu.Lock()
			defer mu.Unlock()
			res.Reviews++
			if err != nil {
				return err
			}
			if allowed {
				granted++
			} else {
				res.Missing = append(res.Missing, perm)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return res, err
	}
	if granted == 0 {
		res.Missing = append(res.Missing, rest...)
		res.Inferred = len(rest)
	} else {
		res.Unconfirmed = rest
	}
	sortPerms(res.Missing, p.Permissions)
	sortPerms(res.Unconfirmed, p.Permissions)
	return res, nil
}

// spread returns n of ps taking each resource's first verb before any resource's second, so that
// a sample sees every resource; rest is the others, in their order.
func spread(ps []Permission, n int) (sample, rest []Permission) {
	type key struct{ group, res string }
	var order []key
	byRes := map[key][]Permission{}
	for _, p := range ps {
		k := key{p.Group, p.Resource}
		if _, seen := byRes[k]; !seen {
			order = append(order, k)
		}
		byRes[k] = append(byRes[k], p)
	}
	picked := map[Permission]bool{}
	for i := 0; len(sample) < n; i++ {
		for _, k := range order {
			if i < len(byRes[k]) && len(sample) < n {
				sample = append(sample, byRes[k][i])
				picked[byRes[k][i]] = true
			}
		}
	}
	for _, p := range ps {
		if !picked[p] {
			rest = append(rest, p)
		}
	}
	return sample, rest
}

// sortPerms orders permissions like the profile lists them.
func sortPerms(ps, order []Permission) {
	idx := make(map[Permission]int, len(order))
	for i, p := range order {
		idx[p] = i
	}
	sort.SliceStable(ps, func(i, j int) bool { return idx[ps[i]] < idx[ps[j]] })
}

// ImpersonationError says that the impersonated user's permissions cannot be checked: the current
// user may neither impersonate User nor create SubjectAccessReviews. The command names the flag
// that asked for User.
type ImpersonationError struct {
	User string
	Err  error
}

func (e *ImpersonationError) Error() string {
	return fmt.Sprintf("%s: you may neither impersonate this user nor create SubjectAccessReviews, so its permissions cannot be checked (%v)", e.User, e.Err)
}

func (e *ImpersonationError) Unwrap() error { return e.Err }
