//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestPreflightOperatorRequestBound: the operator profile's check costs the same few API requests
// whatever is missing. The local API server's authorizer is RBAC only, so its rules review is
// complete and no permission needs an access review of its own.
func TestPreflightOperatorRequestBound(t *testing.T) {
	const (
		ns    = "e2e-rbac-bound"
		other = "e2e-rbac-elsewhere"
		user  = "tpe-operator"
	)
	for _, n := range []string{ns, other} {
		env.KubectlAdmin(t, "create", "namespace", n)
	}
	t.Cleanup(func() {
		for _, n := range []string{ns, other} {
			_, _ = env.KubectlOK(t, env.AdminKubeconfig, "delete", "namespace", n, "--wait=false")
		}
	})
	binding := func(namespace, name, kind, role string) string {
		return fmt.Sprintf("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: %s, namespace: %s}\n"+
			"roleRef: {apiGroup: rbac.authorization.k8s.io, kind: %s, name: %s}\n"+
			"subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: %s}]\n", name, namespace, kind, role, user)
	}
	dataRole := func(groups string) string {
		return fmt.Sprintf("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: e2e-data-crs, namespace: %s}\n"+
			"rules: [{apiGroups: [%s], resources: [\"*\"], verbs: [\"*\"]}]\n", ns, groups)
	}
	reset := func(t *testing.T) {
		_, _ = env.KubectlOK(t, env.AdminKubeconfig, "-n", ns, "delete", "rolebinding,role", "--all")
		_, _ = env.KubectlOK(t, env.AdminKubeconfig, "-n", other, "delete", "rolebinding,role", "--all")
	}
	tests := []struct {
		name   string
		rbac   string
		status string
		// mention must appear in the message, the remediation or the details.
		mention []string
		// wantItem is one permission the structured items must list ("" = none missing).
		wantItem string
	}{
		{"all granted", binding(ns, "admin", "ClusterRole", "admin") + "---\n" + dataRole("kafka.strimzi.io, psmdb.percona.com") + "---\n" +
			binding(ns, "data", "Role", "e2e-data-crs"), "pass", []string{"every permission of the operator profile"}, ""},
		{"no Kafka rights", binding(ns, "admin", "ClusterRole", "admin") + "---\n" + dataRole("psmdb.percona.com") + "---\n" +
			binding(ns, "data", "Role", "e2e-data-crs"), "fail", []string{"kafkas.kafka.strimzi.io: get, list, watch"}, "delete kafka.strimzi.io kafkatopics " + ns},
		{"admin bound in another namespace", binding(other, "admin", "ClusterRole", "admin") + "---\n" + dataRole("kafka.strimzi.io, psmdb.percona.com") + "---\n" +
			binding(ns, "data", "Role", "e2e-data-crs"), "fail", []string{"bound in another namespace or not at all", "name: admin}"}, "create apps statefulsets " + ns},
		{"no rights at all", "", "fail", []string{"bound in another namespace or not at all", "name: admin}", "kafkas.kafka.strimzi.io"}, "get psmdb.percona.com perconaservermongodbs " + ns},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reset(t)
			if tt.rbac != "" {
				adminApply(t, tt.rbac)
			}
			args := []string{"-n", ns, "preflight", "--profile", "operator", "-o", "json"}
			if bin := os.Getenv("TPE_E2E_COMPARE_KUBECTL_TPE"); bin != "" {
				// Another build (e.g. of the previous commit), for a before/after figure.
				since, start := time.Now(), time.Now()
				r := env.Run(t, append(os.Environ(), "KUBECONFIG="+env.OperatorKubeconfig), nil, bin, args...)
				wall := time.Since(start)
				t.Logf("FIGURE %s, %s: %d API requests, wall time %s, exit %d", bin, tt.name, len(env.Audit(t, since, "kubectl-tpe")), wall.Round(time.Millisecond), r.Code)
			}
			since, start := time.Now(), time.Now()
			r := env.KubectlTPE(t, env.OperatorKubeconfig, args...)
			wall := time.Since(start)
			noCrash(t, r)
			events := env.Audit(t, since, "kubectl-tpe")
			reviews := 0
			for _, e := range events {
				if e.APIGroup == "authorization.k8s.io" {
					reviews++
				}
			}
			t.Logf("FIGURE preflight --profile operator, %s: %d API requests (%d authorization reviews), wall time %s, exit %d",
				tt.name, len(events), reviews, wall.Round(time.Millisecond), r.Code)
			if len(events) > 20 {
				t.Errorf("preflight made %d requests, budget 20", len(events))
			}
			// About 0.2-0.6 s here; it took 7 to 9 s when each missing permission had its own review.
			if wall > 5*time.Second {
				t.Errorf("preflight took %s", wall.Round(time.Millisecond))
			}
			var rep struct {
				Checks []struct {
					ID, Status, Message, Remediation string
					Details                          []string
					Items                            []struct {
						Verb, Group, Resource, Namespace string
						ResourceNames                    []string
					}
				}
			}
			if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, r)
			}
			for _, c := range rep.Checks {
				if c.ID != "rbac.operator" {
					continue
				}
				text := c.Message + "\n" + c.Remediation + "\n" + strings.Join(c.Details, "\n")
				if c.Status != tt.status {
					t.Errorf("rbac.operator = %s, want %s: %s", c.Status, tt.status, text)
				}
				for _, m := range tt.mention {
					if !strings.Contains(text, m) {
						t.Errorf("rbac.operator does not mention %q:\n%s", m, text)
					}
				}
				if strings.Count(c.Remediation, "\n- apiGroups:") > 20 {
					t.Errorf("the remediation is a Role of %d rules:\n%s", strings.Count(c.Remediation, "\n- apiGroups:"), c.Remediation)
				}
				found := tt.wantItem == ""
				for _, it := range c.Items {
					found = found || strings.Join([]string{it.Verb, it.Group, it.Resource, it.Namespace}, " ") == tt.wantItem
				}
				if !found {
					t.Errorf("items do not list %q: %d items", tt.wantItem, len(c.Items))
				}
				if tt.wantItem == "" && len(c.Items) > 0 {
					t.Errorf("items listed when nothing is missing: %v", c.Items)
				}
				return
			}
			t.Fatalf("no rbac.operator check:\n%s", r)
		})
	}
}
