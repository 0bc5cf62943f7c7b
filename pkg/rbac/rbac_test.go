package rbac

import (
	"strings"
	"testing"

	authv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// fakeAuthz answers rules reviews with rules and access reviews with allow(attrs).
func fakeAuthz(rules []authv1.ResourceRule, incomplete bool, allow func(*authv1.ResourceAttributes) bool) *fake.Clientset {
	c := fake.NewClientset()
	c.PrependReactor("create", "selfsubjectrulesreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authv1.SelfSubjectRulesReview{Status: authv1.SubjectRulesReviewStatus{ResourceRules: rules, Incomplete: incomplete}}, nil
	})
	c.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview)
		r.Status.Allowed = allow(r.Spec.ResourceAttributes)
		return true, r, nil
	})
	c.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authv1.SubjectAccessReview)
		r.Status.Allowed = r.Spec.User == "alice" && allow(r.Spec.ResourceAttributes)
		return true, r, nil
	})
	return c
}

func deny(*authv1.ResourceAttributes) bool { return false }

func toResourceRules(rs []rbacv1.PolicyRule) []authv1.ResourceRule {
	out := make([]authv1.ResourceRule, 0, len(rs))
	for _, r := range rs {
		out = append(out, authv1.ResourceRule{Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources})
	}
	return out
}

func TestEmbeddedAdminRules(t *testing.T) {
	rules := EmbeddedAdminRules()
	p := OperatorProfile("tpe", rules, nil)
	if len(rules) < 20 || len(p.Permissions) < 200 {
		t.Fatalf("embedded admin role looks truncated: %d rules, %d permissions", len(rules), len(p.Permissions))
	}
	want := Permission{Verb: "create", Group: "apps", Resource: "statefulsets", Namespace: "tpe"}
	found := false
	for _, perm := range p.Permissions {
		found = found || perm == want
	}
	if !found {
		t.Errorf("operator profile lacks %s", want)
	}
}

func TestCheck(t *testing.T) {
	admin := EmbeddedAdminRules()
	fullOperator := append(toResourceRules(admin), authv1.ResourceRule{Verbs: []string{"*"},
		APIGroups: []string{"kafka.strimzi.io", "psmdb.percona.com"}, Resources: []string{"*"}})
	// The same, with every psmdb verb but delete.
	noDelete := append(toResourceRules(admin),
		authv1.ResourceRule{Verbs: []string{"*"}, APIGroups: []string{"kafka.strimzi.io"}, Resources: []string{"*"}},
		authv1.ResourceRule{Verbs: []string{"get", "list", "watch", "create", "update", "patch", "deletecollection"},
			APIGroups: []string{"psmdb.percona.com"}, Resources: []string{"*"}})
	clusterAdmin := []authv1.ResourceRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}

	tests := []struct {
		name        string
		rules       []authv1.ResourceRule
		incomplete  bool
		allow       func(*authv1.ResourceAttributes) bool
		profile     Profile
		wantMissing []string
		wantUnconf  int
		maxReviews  int
	}{
		{"operator ok", fullOperator, false, deny, OperatorProfile("tpe", admin, nil), nil, 0, 1},
		{"operator without psmdb delete", noDelete, false, deny, OperatorProfile("tpe", admin, nil), []string{
			"delete perconaservermongodbs.psmdb.percona.com in namespace tpe",
			"delete perconaservermongodbbackups.psmdb.percona.com in namespace tpe",
			"delete perconaservermongodbrestores.psmdb.percona.com in namespace tpe"}, 0, 1},
		{"complete rules are authoritative: no access review", fullOperator, false, func(*authv1.ResourceAttributes) bool { return true },
			AdminProfile(), permStrings(AdminProfile().Permissions), 0, 1},
		{"nothing granted costs one request", nil, false, deny, OperatorProfile("tpe", admin, nil),
			permStrings(OperatorProfile("tpe", admin, nil).Permissions), 0, 1},
		{"cluster admin", clusterAdmin, false, deny, AdminProfile(), nil, 0, 1},
		{"incomplete: a webhook allows one missing permission", noDelete, true, func(a *authv1.ResourceAttributes) bool { return a.Resource == "perconaservermongodbbackups" },
			OperatorProfile("tpe", admin, nil), []string{
				"delete perconaservermongodbs.psmdb.percona.com in namespace tpe",
				"delete perconaservermongodbrestores.psmdb.percona.com in namespace tpe"}, 0, 4},
		{"incomplete: denied sample, the rest inferred", nil, true, deny, OperatorProfile("tpe", admin, nil),
			permStrings(OperatorProfile("tpe", admin, nil).Permissions), 0, 1 + MaxConfirmations},
		{"incomplete: webhook allows all, the rest unconfirmed", nil, true, func(*authv1.ResourceAttributes) bool { return true }, AdminProfile(),
			nil, len(AdminProfile().Permissions) - MaxConfirmations, 1 + MaxConfirmations},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeAuthz(tt.rules, tt.incomplete, tt.allow)
			res, err := Check(t.Context(), SelfReviewer{Client: c}, tt.profile)
			if err != nil {
				t.Fatal(err)
			}
			if got := permStrings(res.Missing); strings.Join(got, "\n") != strings.Join(tt.wantMissing, "\n") {
				t.Errorf("missing:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantMissing, "\n"))
			}
			if len(res.Unconfirmed) != tt.wantUnconf {
				t.Errorf("%d unconfirmed, want %d", len(res.Unconfirmed), tt.wantUnconf)
			}
			if res.Reviews > tt.maxReviews || res.Reviews != len(c.Actions()) {
				t.Errorf("%d reviews (%d actions), want at most %d", res.Reviews, len(c.Actions()), tt.maxReviews)
			}
		})
	}
}

func permStrings(ps []Permission) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func TestSubjectReviewer(t *testing.T) {
	admin := EmbeddedAdminRules()
	objs := []runtime.Object{
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "admin"}, Rules: admin},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "tpe"}, Rules: []rbacv1.PolicyRule{
			{Verbs: []string{"*"}, APIGroups: []string{"kafka.strimzi.io", "psmdb.percona.com"}, Resources: []string{"*"}}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "admin", Namespace: "tpe"},
			RoleRef:  rbacv1.RoleRef{Kind: "ClusterRole", Name: "admin"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "alice"}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "tpe"},
			RoleRef:  rbacv1.RoleRef{Kind: "Role", Name: "data"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, Name: "operators"}}},
		// Bound elsewhere: does not count in tpe.
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "admin", Namespace: "other"},
			RoleRef:  rbacv1.RoleRef{Kind: "ClusterRole", Name: "admin"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "bob"}}},
	}
	p := OperatorProfile("tpe", admin, nil)
	tests := []struct {
		name        string
		user        string
		groups      []string
		wantMissing int
	}{
		{"admin and data group", "alice", []string{"operators"}, 0},
		{"admin only", "alice", nil, len(p.Permissions) - len(RulePermissions("tpe", admin))},
		{"bound in another namespace", "bob", []string{"operators"}, len(RulePermissions("tpe", admin))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fake.NewClientset(objs...)
			c.PrependReactor("create", "subjectaccessreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, &authv1.SubjectAccessReview{}, nil // denied: RBAC is all there is
			})
			res, err := Check(t.Context(), SubjectReviewer{Client: c, User: tt.user, Groups: tt.groups}, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Missing) != tt.wantMissing || len(res.Unconfirmed) != 0 || !strings.Contains(res.Subject, tt.user) {
				t.Errorf("%d missing, %d unconfirmed, want %d", len(res.Missing), len(res.Unconfirmed), tt.wantMissing)
			}
			if bound := 4 + MaxConfirmations; len(c.Actions()) > bound {
				t.Errorf("%d requests, want at most %d", len(c.Actions()), bound)
			}
		})
	}
}

func TestCovers(t *testing.T) {
	tests := []struct {
		name string
		rule authv1.ResourceRule
		perm Permission
		want bool
	}{
		{"exact", authv1.ResourceRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}, Permission{Verb: "get", Resource: "pods"}, true},
		{"verb wildcard", authv1.ResourceRule{Verbs: []string{"*"}, APIGroups: []string{"apps"}, Resources: []string{"deployments"}}, Permission{Verb: "delete", Group: "apps", Resource: "deployments"}, true},
		{"other group", authv1.ResourceRule{Verbs: []string{"*"}, APIGroups: []string{"apps"}, Resources: []string{"*"}}, Permission{Verb: "get", Group: "batch", Resource: "jobs"}, false},
		{"subresource wildcard", authv1.ResourceRule{Verbs: []string{"create"}, APIGroups: []string{""}, Resources: []string{"*/exec"}}, Permission{Verb: "create", Resource: "pods/exec"}, true},
		{"named only", authv1.ResourceRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}, ResourceNames: []string{"p"}}, Permission{Verb: "get", Resource: "pods"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Covers([]authv1.ResourceRule{tt.rule}, tt.perm); got != tt.want {
				t.Errorf("Covers = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAdminRules(t *testing.T) {
	live := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "admin"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}
	rules, src, err := AdminRules(t.Context(), fake.NewClientset(live))
	if err != nil || len(rules) != 1 || !strings.Contains(src, "cluster's") {
		t.Errorf("live: %v %q %v", rules, src, err)
	}
	c := fake.NewClientset()
	c.PrependReactor("get", "clusterroles", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "clusterroles"}, "admin", nil)
	})
	rules, src, err = AdminRules(t.Context(), c)
	if err != nil || len(rules) < 20 || !strings.Contains(src, "v1.37") {
		t.Errorf("forbidden: %d rules %q %v", len(rules), src, err)
	}
}

func TestRemediationYAML(t *testing.T) {
	p := OperatorProfile("tpe", nil, nil)
	y := RemediationYAML(p, []Permission{{Verb: "delete", Group: "psmdb.percona.com", Resource: "perconaservermongodbs", Namespace: "tpe"}}, "tpe-operator")
	for _, want := range []string{"kind: Role", "namespace: tpe", `apiGroups: ["psmdb.percona.com"]`, `verbs: ["delete"]`, "name: tpe-operator}"} {
		if !strings.Contains(y, want) {
			t.Errorf("remediation lacks %q:\n%s", want, y)
		}
	}
}
