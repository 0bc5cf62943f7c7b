package kubectltpe

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"

	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
)

// PUMLogsOptions are the options of `kubectl tpe pum logs`.
type PUMLogsOptions struct {
	Follow bool
	Since  time.Duration

	Namespace string
	Client    kubernetes.Interface

	genericiooptions.IOStreams
}

// NewCmdPUMLogs builds `kubectl tpe pum logs`.
func NewCmdPUMLogs(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &PUMLogsOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:     "logs [-f] [--since 10m]",
		Short:   "Print the logs of Job pum-process (the post-upgrade procedure)",
		Long:    pumLogsLong,
		Example: fmt.Sprintf(pumLogsExample, DisplayName),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			if err := o.Complete(cmd.Context(), f); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().BoolVarP(&o.Follow, "follow", "f", o.Follow, "stream the logs until the containers stop or Ctrl-C")
	cmd.Flags().DurationVar(&o.Since, "since", o.Since, "only logs newer than this duration (e.g. 10m); 0 means all")
	return cmd
}

// Validate checks the flags.
func (o *PUMLogsOptions) Validate() error {
	if o.Since < 0 {
		return fmt.Errorf("--since must not be negative")
	}
	return nil
}

// Complete builds the client.
func (o *PUMLogsOptions) Complete(ctx context.Context, f cmdutil.Factory) error {
	return completeInTPE(ctx, f, o.ErrOut, &o.Client, &o.Namespace, kubeClient)
}

// Run prints the logs of every container of every pod of the Job, prefixed with pod/container.
func (o *PUMLogsOptions) Run(ctx context.Context) error {
	err := pum.Logs(ctx, o.Client, o.Out, pum.LogsOptions{Namespace: o.Namespace, Follow: o.Follow, Since: o.Since})
	if err == nil {
		return nil
	}
	// No Job and no deploy/pum while the thingpark-enterprise chart is installed: the release
	// has no post-upgrade manager, which says more than "job not found".
	if _, derr := o.Client.AppsV1().Deployments(o.Namespace).Get(ctx, pum.Deployment, metav1.GetOptions{}); apierrors.IsNotFound(derr) {
		ns := &pum.NotShippedError{Namespace: o.Namespace}
		_ = pum.Explain(ctx, o.Client, manifest.MustLoad(), ns)
		if ns.Installed != "" {
			return ns
		}
	}
	return err
}
