package kubectltpe

// This file is named zz_ on purpose: Go runs a package's init functions in file-name order, so
// its commandAdders entry runs after every subcommand file has added its command, and can walk
// the whole tree. TestFlagCompletionsAreWired fails if a flag loses its completion.

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/complete"
)

func init() {
	commandAdders = append(commandAdders, func(root *cobra.Command, f cmdutil.Factory, _ genericiooptions.IOStreams) {
		complete.Flag(root, "namespace", complete.Namespaces(f))
		complete.Flag(root, "context", complete.Contexts(f))
		complete.Tree(root)
	})
}
