package kubectltpe

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"
)

// CompletionHelperName is the executable kubectl (>= 1.26) runs to complete `kubectl tpe ...`:
// a copy of or link to kubectl-tpe under this name answers completion requests.
const CompletionHelperName = "kubectl_complete-tpe"

var completionShells = []string{"bash", "zsh", "fish", "powershell"}

var (
	completionLong = `
		Print a shell completion script for kubectl-tpe (bash, zsh, fish or powershell).

		There are two ways to complete the plugin:

		* "kubectl tpe [TAB]": kubectl completes plugins itself when an executable named
		  kubectl_complete-tpe is on PATH. The release archive ships it (a two-line script); a
		  link to the kubectl-tpe binary named kubectl_complete-tpe works too, on every OS.
		  kubectl's own completion must be loaded ("kubectl completion bash").

		* "kubectl-tpe [TAB]": load the script this command prints.

		Flags complete their values: --namespace from the cluster, --context from the kubeconfig,
		--to from the embedded TPE release list, --hosting, --profile and
		--output from their fixed values.`

	completionExample = templates.Examples(`
		# kubectl tpe <TAB>: put the completion helper next to kubectl-tpe on PATH
		ln -s "$(command -v kubectl-tpe)" "$(dirname "$(command -v kubectl-tpe)")/kubectl_complete-tpe"

		# kubectl-tpe <TAB> in the current bash session
		source <(kubectl-tpe completion bash)

		# ... in every zsh session
		kubectl-tpe completion zsh > "${fpath[1]}/_kubectl-tpe"

		# ... in fish
		kubectl-tpe completion fish > ~/.config/fish/completions/kubectl-tpe.fish

		# ... in PowerShell
		kubectl-tpe completion powershell | Out-String | Invoke-Expression`)
)

// Args returns the arguments the root command executes for the process's command line argv
// (os.Args): argv[1:], or, when the process runs as kubectl_complete-tpe (a link to this binary),
// kubectl's completion request: kubectl passes the words typed after "kubectl tpe", the last one
// being the word to complete.
func Args(argv []string) []string {
	if len(argv) == 0 {
		return []string{}
	}
	if isCompletionHelper(argv[0]) {
		return append([]string{cobra.ShellCompRequestCmd}, argv[1:]...)
	}
	return argv[1:]
}

func isCompletionHelper(arg0 string) bool {
	return strings.TrimSuffix(filepath.Base(arg0), ".exe") == CompletionHelperName
}

// NewCmdCompletion builds `kubectl tpe completion SHELL`.
func NewCmdCompletion(streams genericiooptions.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:                   "completion bash|zsh|fish|powershell",
		DisableFlagsInUseLine: true,
		Short:                 "Print the shell completion script of kubectl-tpe",
		Long:                  completionLong,
		Example:               completionExample,
		ValidArgs:             completionShells,
		Args:                  cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeCompletion(cmd.Root(), args[0], streams.Out)
		},
	}
}

func writeCompletion(root *cobra.Command, shell string, out io.Writer) error {
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(out, true)
	case "zsh":
		return root.GenZshCompletion(out)
	case "fish":
		return root.GenFishCompletion(out, true)
	case "powershell":
		return root.GenPowerShellCompletionWithDesc(out)
	default:
		return fmt.Errorf("unsupported shell %q: want one of %s", shell, strings.Join(completionShells, ", "))
	}
}
