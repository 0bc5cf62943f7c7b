package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// AliasFlag adds alias as another name of the flag name of fs (which must exist): both set the
// same value. The alias is hidden from help; usage of name says it exists. Both plugins keep
// their older flag names this way (--tpe-version for --to, repo add's --name for --repo).
func AliasFlag(fs *pflag.FlagSet, name, alias string) {
	f := fs.Lookup(name)
	if f == nil {
		panic("cli.AliasFlag: no flag --" + name)
	}
	f.Usage += fmt.Sprintf(" (alias: --%s)", alias)
	fs.AddFlag(&pflag.Flag{Name: alias, Usage: "alias of --" + name, Value: f.Value, DefValue: f.DefValue, Hidden: true})
}

// Color modes of --color.
var colorModes = []string{"auto", "always", "never"}

// ColorFlag adds --color (auto, always or never; auto by default) bound to p: any other value is
// refused when the flags are parsed, in both plugins alike.
func ColorFlag(fs *pflag.FlagSet, p *string) {
	*p = "auto"
	fs.Var(&enumValue{p: p, allowed: colorModes}, "color", "colour: "+strings.Join(colorModes[:2], ", ")+" or "+colorModes[2]+" (NO_COLOR is honoured)")
}

// ValidColor checks a --color value set without the flag (Options built directly).
func ValidColor(mode string) error {
	if err := (&enumValue{p: new(string), allowed: colorModes}).Set(mode); err != nil {
		return fmt.Errorf("invalid value %q for --color: %w", mode, err)
	}
	return nil
}

// enumValue is a string flag restricted to a few values.
type enumValue struct {
	p       *string
	allowed []string
}

func (e *enumValue) String() string { return *e.p }
func (e *enumValue) Type() string   { return "string" }
func (e *enumValue) Set(s string) error {
	for _, a := range e.allowed {
		if s == a {
			*e.p = s
			return nil
		}
	}
	return fmt.Errorf("must be %s or %s", strings.Join(e.allowed[:len(e.allowed)-1], ", "), e.allowed[len(e.allowed)-1])
}

// FileAndFormat resolves the flags of a command that writes a file (bundle create,
// support-bundle): the file is --output-file, and -o is only an output format. For scripts
// written before, an -o value that is no format name and --output-file unset is still taken as
// the file, with a warning; "-o json" never writes a file named json.
func FileAndFormat(output, file string, warn io.Writer, allowed ...Format) (Format, string, error) {
	if output != "" && output != "wide" && file == "" && !slices.Contains(allowed, Format(output)) &&
		(strings.ContainsAny(output, "./\\") || strings.HasSuffix(output, "gz")) {
		fmt.Fprintf(warn, "warning: -o %s: -o is an output format; name the file with --output-file (taken as the file this time)\n", output)
		return allowed[0], output, nil
	}
	f, err := ParseFormat(output, allowed...)
	return f, file, err
}
