package cli

import (
	"io"

	"github.com/spf13/cobra"
)

// NewVersionCommand builds the `version` command both plugins share.
func NewVersionCommand(binary string, out io.Writer, example string) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print the version of " + binary,
		Long:    "Print the version, the commit and the Go version " + binary + " was built with.",
		Example: example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := ParseFormat(output, FormatTable, FormatJSON, FormatYAML)
			if err != nil {
				return err
			}
			return WriteVersion(out, binary, f, Version())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Output format: table, wide, json or yaml")
	return cmd
}
