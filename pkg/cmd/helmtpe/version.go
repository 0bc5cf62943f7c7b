package helmtpe

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
)

// NewCmdVersion builds `helm tpe version`.
func NewCmdVersion(streams genericiooptions.IOStreams) *cobra.Command {
	return cli.NewVersionCommand("helm-tpe", streams.Out, templates.Examples(`
		# Print the version
		helm tpe version

		# Print it as JSON
		helm tpe version -o json`))
}
