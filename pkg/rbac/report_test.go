package rbac

import (
	"strings"
	"testing"

	authv1 "k8s.io/api/authorization/v1"
	"k8s.io/client-go/rest"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
)

func TestOperatorCheck(t *testing.T) {
	admin := toResourceRules(EmbeddedAdminRules())
	data := authv1.ResourceRule{Verbs: []string{"*"}, APIGroups: []string{"kafka.strimzi.io", "psmdb.percona.com"}, Resources: []string{"*"}}
	psmdb := authv1.ResourceRule{Verbs: []string{"*"}, APIGroups: []string{"psmdb.percona.com"}, Resources: []string{"*"}}
	tests := []struct {
		name       string
		rules      []authv1.ResourceRule
		want       check.Status
		mention    []string
		absent     []string
		minItems   int
		maxDetails int
	}{
		{"all granted", append(append([]authv1.ResourceRule(nil), admin...), data), check.Pass, []string{"every permission of the operator profile"}, nil, 0, 0},
		{"no Kafka rights", append(append([]authv1.ResourceRule(nil), admin...), psmdb), check.Fail,
			[]string{"kafkas.kafka.strimzi.io: get, list, watch", `apiGroups: ["kafka.strimzi.io"]`},
			[]string{"probably bound", "kind: ClusterRole, name: admin"}, 9 * len(AllVerbs), 9 * len(AllVerbs)},
		{"admin bound elsewhere", []authv1.ResourceRule{data}, check.Fail,
			[]string{"admin is probably bound in another namespace or not at all", "kind: RoleBinding", "kind: ClusterRole, name: admin}", "name: tpe-operator}"},
			[]string{"kind: Role\n", "pods/exec"}, 200, 1},
		{"nothing", nil, check.Fail,
			[]string{"admin is probably bound in another namespace or not at all", "kind: ClusterRole, name: admin}", `apiGroups: ["psmdb.percona.com"]`},
			[]string{"pods/exec"}, 300, 1 + 12*len(AllVerbs)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeAuthz(tt.rules, false, deny)
			got := OperatorCheck(t.Context(), c, SelfReviewer{Client: c, Who: "user tpe-operator"},
				OperatorConfig{CheckConfig: CheckConfig{User: "tpe-operator"}, Namespace: "tpe"})
			if got.Status != tt.want || got.ID != "rbac.operator" || got.Category != Category {
				t.Fatalf("check = %+v", got)
			}
			text := got.Message + "\n" + strings.Join(got.Details, "\n") + "\n" + got.Remediation
			for _, m := range tt.mention {
				if !strings.Contains(text, m) {
					t.Errorf("does not mention %q:\n%s", m, text)
				}
			}
			for _, m := range tt.absent {
				if strings.Contains(text, m) {
					t.Errorf("mentions %q:\n%s", m, text)
				}
			}
			if len(got.Items) < tt.minItems || len(got.Details) > tt.maxDetails {
				t.Errorf("%d items (want >= %d), %d details (want <= %d)", len(got.Items), tt.minItems, len(got.Details), tt.maxDetails)
			}
			for _, it := range got.Items {
				if i, ok := it.(Item); !ok || i.Verb == "" || i.Resource == "" || i.Namespace != "tpe" {
					t.Fatalf("item %#v", it)
				}
			}
			// One GET of the admin ClusterRole and one rules review, whatever is missing.
			if n := len(c.Actions()); n != 2 {
				t.Errorf("%d requests, want 2", n)
			}
		})
	}
}

func TestNewReviewer(t *testing.T) {
	c := fakeAuthz(nil, false, deny)
	r, _, err := NewReviewer(t.Context(), ReviewerConfig{Client: c, Namespace: "tpe"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.(SelfReviewer); !ok {
		t.Errorf("without --as: %T, want SelfReviewer", r)
	}
	r, user, err := NewReviewer(t.Context(), ReviewerConfig{Client: c, Impersonate: rest.ImpersonationConfig{UserName: "bob"}, Namespace: "tpe"})
	if err != nil || user != "bob" || !strings.Contains(r.Subject(), "bob (impersonated)") {
		t.Errorf("--as bob: %v %q %v", r, user, err)
	}
}
