package plan

import (
	"strings"
	"testing"

	authv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/rbac"
)

func TestPermissionsCheck(t *testing.T) {
	var admin []authv1.ResourceRule
	for _, r := range rbac.EmbeddedAdminRules() {
		admin = append(admin, authv1.ResourceRule{Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources})
	}
	full := append(append([]authv1.ResourceRule(nil), admin...),
		authv1.ResourceRule{Verbs: []string{"*"}, APIGroups: []string{"kafka.strimzi.io", "psmdb.percona.com"}, Resources: []string{"*"}})
	noDelete := append(append([]authv1.ResourceRule(nil), admin...),
		authv1.ResourceRule{Verbs: []string{"*"}, APIGroups: []string{"kafka.strimzi.io"}, Resources: []string{"*"}},
		authv1.ResourceRule{Verbs: []string{"get", "list", "watch", "create", "update", "patch", "deletecollection"}, APIGroups: []string{"psmdb.percona.com"}, Resources: []string{"*"}})
	tests := []struct {
		name       string
		rules      []authv1.ResourceRule
		incomplete bool
		// allow answers the access reviews (only asked when the rules review is incomplete).
		allow    func(a *authv1.ResourceAttributes) bool
		want     check.Status
		contains []string
	}{
		{"everything granted", full, false, nil, check.Pass, []string{"you have every permission of the operator profile"}},
		{"psmdb delete missing", noDelete, false, nil, check.Fail, []string{"you lack 3 of", "psmdb.percona.com: delete", "namespace tpe"}},
		{"a webhook grants what the rules miss", noDelete, true, func(*authv1.ResourceAttributes) bool { return true }, check.Pass, []string{"you have every permission"}},
		{"a webhook denies it too", noDelete, true, func(*authv1.ResourceAttributes) bool { return false }, check.Fail, []string{"psmdb.percona.com: delete"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kube := fake.NewClientset()
			kube.PrependReactor("create", "selfsubjectrulesreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, &authv1.SelfSubjectRulesReview{Status: authv1.SubjectRulesReviewStatus{ResourceRules: tt.rules, Incomplete: tt.incomplete}}, nil
			})
			kube.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
				if tt.allow == nil {
					t.Error("an access review although the rules review is complete")
				}
				r := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview)
				r.Status.Allowed = tt.allow(r.Spec.ResourceAttributes)
				return true, r, nil
			})
			c := permissionsCheck(t.Context(), kube, "tpe")
			if c.Status != tt.want || c.ID != "permissions.operator" || c.Category != CategoryPermissions {
				t.Fatalf("%s %s %s, want %s: %s", c.ID, c.Category, c.Status, tt.want, c.Message)
			}
			for _, w := range tt.contains {
				if !strings.Contains(c.Message, w) {
					t.Errorf("message %q lacks %q", c.Message, w)
				}
			}
			if tt.want == check.Fail && (!strings.Contains(c.Remediation, "kind: Role") || len(c.Items) != 3) {
				t.Errorf("remediation is not a Role to apply, or %d items: %s", len(c.Items), c.Remediation)
			}
		})
	}
}
