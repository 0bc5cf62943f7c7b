package kubectltpe

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
)

// pumMissing returns a *pum.NotShippedError, naming the installed release, when deploy/pum does not
// exist. It reads the cluster only through a real executor (tests inject theirs).
func pumMissing(ctx context.Context, ex podexec.Executor, namespace string) error {
	k, ok := ex.(podexec.Kube)
	if !ok || k.Client == nil {
		return nil
	}
	if _, err := k.Client.AppsV1().Deployments(namespace).Get(ctx, pum.Deployment, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		return pum.Explain(ctx, k.Client, manifest.MustLoad(), &pum.NotShippedError{Namespace: namespace})
	}
	return nil
}

// explainPUM names the installed release in a *pum.NotShippedError (a release without a
// post-upgrade manager); other errors are returned as they are.
func explainPUM(ctx context.Context, ex podexec.Executor, err error) error {
	if k, ok := ex.(podexec.Kube); ok {
		return pum.Explain(ctx, k.Client, manifest.MustLoad(), err)
	}
	return err
}
