package kubectltpe

import (
	"context"
	"io"

	"k8s.io/client-go/kubernetes"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"

	"github.com/thingpark-tools/kubectl-tpe/pkg/kube"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
)

// completeInTPE completes a command that works in the TPE namespace (wait, pum logs, pum status,
// pum restart): unless a test set *v, it builds the clients (clientsFor), sets *v to what the
// command runs on (from: the client, or an executor in the pum pod) and *namespace to the TPE
// namespace (-n, else the kubeconfig's, else the vendor's).
func completeInTPE[T comparable](ctx context.Context, f cmdutil.Factory, errOut io.Writer, v *T, namespace *string, from func(*kube.Clients) T) error {
	var unset T
	if *v != unset {
		return nil
	}
	c, err := clientsFor(ctx, f, errOut)
	if err != nil {
		return err
	}
	*v, *namespace = from(c), c.TPENamespace()
	return nil
}

// kubeClient is the client of a command that reads the cluster (wait, pum logs).
func kubeClient(c *kube.Clients) kubernetes.Interface { return c.Kube }

// pumExec runs commands in the pum pod (pum status, pum restart).
func pumExec(c *kube.Clients) podexec.Executor { return podexec.Kube{Client: c.Kube, Config: c.Config} }
