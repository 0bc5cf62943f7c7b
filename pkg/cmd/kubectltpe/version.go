package kubectltpe

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
)

// NewCmdVersion builds `kubectl tpe version`.
func NewCmdVersion(streams genericiooptions.IOStreams) *cobra.Command {
	return cli.NewVersionCommand("kubectl-tpe", streams.Out, templates.Examples(`
		# Print the version
		kubectl tpe version

		# Print it as JSON
		kubectl tpe version -o json`))
}
