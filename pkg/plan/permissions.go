package plan

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/client-go/kubernetes"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/rbac"
)

// permissionsCheck checks that the user who runs the plan holds the operator profile of the TPE
// cluster prerequisites in the namespace (the admin ClusterRole plus every verb on kafka.strimzi.io and
// psmdb.percona.com), with the same code as `kubectl tpe preflight --profile operator`, so that a
// permission missing half-way through an upgrade stops it before anything changes.
func permissionsCheck(ctx context.Context, kube kubernetes.Interface, ns string) check.Check {
	c := check.Check{ID: "permissions.operator", Category: CategoryPermissions}
	rules, _, err := rbac.AdminRules(ctx, kube)
	if err == nil {
		p := rbac.OperatorProfile(ns, rules, nil)
		var res rbac.Result
		if res, err = rbac.Check(ctx, rbac.SelfReviewer{Client: kube, Who: "you"}, p); err == nil {
			if len(res.Missing) == 0 {
				c.Status = check.Pass
				c.Message = fmt.Sprintf("you hold the operator profile in namespace %s (%d permissions)", ns, len(p.Permissions))
				return c
			}
			c.Status = check.Fail
			c.Message = fmt.Sprintf("you lack %d of the %d permissions of the operator profile in namespace %s: %s",
				len(res.Missing), len(p.Permissions), ns, strings.Join(rbac.Group(res.Missing), "; "))
			c.Remediation = "a cluster administrator can grant them with `kubectl apply -f -` of:\n" + rbac.RemediationYAML(p, res.Missing, "")
			return c
		}
	}
	c.Status = check.Warn
	c.Message = fmt.Sprintf("cannot verify your permissions in namespace %s: %v", ns, err)
	c.Remediation = "run `kubectl tpe preflight --profile operator` to see which permissions are missing"
	return c
}
