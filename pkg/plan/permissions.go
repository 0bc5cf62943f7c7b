package plan

import (
	"context"

	"k8s.io/client-go/kubernetes"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/rbac"
)

// permissionsCheck checks that the user who runs the plan holds the operator profile of the TPE
// cluster prerequisites in the namespace (the admin ClusterRole plus every verb on kafka.strimzi.io and
// psmdb.percona.com), with the same function as `kubectl tpe preflight --profile operator`
// (rbac.OperatorCheck), so that a permission missing half-way through an upgrade stops it before
// anything changes. A review that cannot be made warns rather than fails.
func permissionsCheck(ctx context.Context, kube kubernetes.Interface, ns string) check.Check {
	return rbac.OperatorCheck(ctx, kube, rbac.SelfReviewer{Client: kube, Who: "you"}, rbac.OperatorConfig{
		CheckConfig: rbac.CheckConfig{ID: "permissions.operator", Category: CategoryPermissions, OnError: check.Warn},
		Namespace:   ns,
	})
}
