package helmtpe

// This file is named zz_ on purpose: Go runs a package's init functions in file-name order, so
// its commandAdders entry runs after every subcommand file has added its command, and can walk
// the whole tree. TestFlagCompletionsAreWired fails if a flag loses its completion.
//
// Run through Helm, `helm tpe <TAB>` is answered by plugin.complete, which calls
// `helm-tpe __complete ...`: these are the completions it returns. Helm completes its own global
// flags (-n, --kube-context) itself; the registrations below serve helm-tpe run on its own.

import (
	"github.com/spf13/cobra"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/complete"
)

func init() {
	commandAdders = append(commandAdders, func(root *cobra.Command, env *Env) {
		getter := env.Settings.RESTClientGetter()
		complete.Flag(root, "namespace", complete.Namespaces(getter))
		complete.Flag(root, "kube-context", complete.Contexts(getter))
		complete.Tree(root)
	})
}
