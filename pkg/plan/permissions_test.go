package plan

import (
	"strings"
	"testing"

	authv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
)

func TestPermissionsCheck(t *testing.T) {
	tests := []struct {
		name     string
		deny     func(a *authv1.ResourceAttributes) bool
		want     check.Status
		contains []string
	}{
		{"everything allowed", func(*authv1.ResourceAttributes) bool { return false }, check.Pass, []string{"you hold the operator profile"}},
		{"psmdb delete missing", func(a *authv1.ResourceAttributes) bool {
			return a.Group == "psmdb.percona.com" && a.Verb == "delete"
		}, check.Fail, []string{"psmdb.percona.com", "delete", "namespace tpe"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kube := fake.NewClientset()
			kube.PrependReactor("create", "selfsubjectrulesreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
				return true, a.(k8stesting.CreateAction).GetObject(), nil // no rules listed: every permission is reviewed
			})
			kube.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
				r := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview)
				r.Status.Allowed = !tt.deny(r.Spec.ResourceAttributes)
				return true, r, nil
			})
			c := permissionsCheck(t.Context(), kube, "tpe")
			if c.Status != tt.want {
				t.Fatalf("status %s, want %s: %s", c.Status, tt.want, c.Message)
			}
			for _, w := range tt.contains {
				if !strings.Contains(c.Message, w) {
					t.Errorf("message %q lacks %q", c.Message, w)
				}
			}
			if tt.want == check.Fail && !strings.Contains(c.Remediation, "kind: Role") {
				t.Errorf("remediation is not a Role to apply: %s", c.Remediation)
			}
		})
	}
}
