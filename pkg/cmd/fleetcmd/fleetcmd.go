// Package fleetcmd is the command-line side of pkg/fleet shared by both plugins' trees: the flags
// that choose many installations (--context repeated, --all-contexts, --fleet) and run them
// (--concurrency, --timeout-per-installation), the wording of their errors, the table cells of a
// row and the exit code of a run.
package fleetcmd

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/fleet"
	"github.com/thingpark-tools/kubectl-tpe/pkg/input"
)

// Flag names.
const (
	FlagContext     = "context"
	FlagAllContexts = "all-contexts"
	FlagFleet       = "fleet"
	FlagConcurrency = "concurrency"
	FlagTimeout     = "timeout-per-installation"
)

// ContextUsage is the help of a repeatable --context.
const ContextUsage = "kubeconfig context of the TPE cluster; repeat it (--context prod --context staging) to look at several installations at once (status, preflight, plan)"

// Flags are the options that choose and run many installations.
type Flags struct {
	// Contexts are the values of --context, in order.
	Contexts    []string
	AllContexts bool
	File        string
	Concurrency int
	Timeout     time.Duration
}

// Add registers --all-contexts, --fleet, --concurrency and --timeout-per-installation (--context
// is the command's: kubectl's global one, wrapped by WrapContext, or helm tpe plan's own).
func (f *Flags) Add(fs *pflag.FlagSet) {
	if f.Concurrency == 0 {
		f.Concurrency = fleet.DefaultConcurrency
	}
	if f.Timeout == 0 {
		f.Timeout = fleet.DefaultTimeout
	}
	fs.BoolVar(&f.AllContexts, FlagAllContexts, f.AllContexts, "look at the installation of every context of the kubeconfig (one row each)")
	fs.StringVar(&f.File, FlagFleet, f.File, "fleet `FILE`: a YAML list of installations {name, kubeconfig, context, namespace} to look at, one row each (docs/output-schema.md)")
	fs.IntVar(&f.Concurrency, FlagConcurrency, f.Concurrency, "with several installations, how many are read at once")
	fs.DurationVar(&f.Timeout, FlagTimeout, f.Timeout, "with several installations, the time limit of each (connection included): one that takes longer is a row with its error; 0 for no limit")
}

// Active reports whether the command runs over several installations (as opposed to its
// single-cluster form: no --context or one).
func (f *Flags) Active() bool { return f.AllContexts || f.File != "" || len(dedup(f.Contexts)) > 1 }

// Validate checks the flags alone (--concurrency and --timeout-per-installation only matter
// with several installations).
func (f *Flags) Validate() error {
	n := 0
	if len(f.Contexts) > 0 {
		n++
	}
	if f.AllContexts {
		n++
	}
	if f.File != "" {
		n++
	}
	if n > 1 {
		return fmt.Errorf("--%s, --%s and --%s each choose the installations: give one of them", FlagContext, FlagAllContexts, FlagFleet)
	}
	if !f.Active() {
		return nil
	}
	if f.Concurrency < 1 {
		return fmt.Errorf("--%s must be at least 1, got %d", FlagConcurrency, f.Concurrency)
	}
	if f.Timeout < 0 {
		return fmt.Errorf("--%s must not be negative, got %s", FlagTimeout, f.Timeout)
	}
	return nil
}

// Selection is the fleet.Selection of the flags; kubeconfig and namespace are the command's
// (--kubeconfig, -n when given).
func (f *Flags) Selection(kubeconfig, namespace string) fleet.Selection {
	return fleet.Selection{Contexts: dedup(f.Contexts), AllContexts: f.AllContexts, File: f.File,
		Kubeconfig: kubeconfig, Namespace: namespace}
}

// Config is the fleet.Config of the flags: requestTimeout is the command's --request-timeout (0:
// none), redact its redactor.
func (f *Flags) Config(requestTimeout time.Duration, redact func(string) string) fleet.Config {
	timeout := f.Timeout
	if timeout == 0 {
		timeout = -1
	}
	if requestTimeout == 0 {
		requestTimeout = -1
	}
	return fleet.Config{Concurrency: f.Concurrency, Timeout: timeout, RequestTimeout: requestTimeout, Redact: redact}
}

// ResolveError words an error of fleet.Resolve with the flag that named the input.
func ResolveError(err error) error {
	var ie *fleet.InputError
	var tl *input.TooLargeError
	switch {
	case errors.As(err, &tl):
		return fmt.Errorf("--%s: %w", FlagFleet, err)
	case errors.As(err, &ie) && strings.HasPrefix(ie.Input, "the fleet file"):
		return fmt.Errorf("--%s: %w (see the fleet file format in docs/output-schema.md)", FlagFleet, err)
	case errors.As(err, &ie) && strings.HasPrefix(ie.Input, "the kubeconfig"):
		return fmt.Errorf("--%s: %w: check --kubeconfig and KUBECONFIG", FlagAllContexts, err)
	case err != nil:
		return fmt.Errorf("--%s: %w", FlagFleet, err)
	}
	return nil
}

// Exit is the exit code of a run: 1 when an installation could not be read (its row says why),
// else 2 when one failed its checks, else 0. The message says how many could not be read.
func Exit(unreadable, failed, total int) error {
	switch {
	case unreadable > 0:
		return &cli.ExitError{Code: cli.ExitErr, Err: fmt.Errorf("%d of %d installation(s) could not be read: their rows say why", unreadable, total)}
	case failed > 0:
		return cli.Silent
	}
	return nil
}

// Print writes doc as JSON or YAML, or calls table for the table format.
func Print(w io.Writer, f cli.Format, doc any, table func() error) error {
	if f == cli.FormatTable {
		return table()
	}
	return cli.WriteData(w, f, doc)
}

// Cell is the table cell of a row's error ("unreachable: ...").
func Cell(e *fleet.RowError) string {
	if e == nil {
		return ""
	}
	return "ERROR (" + string(e.Kind) + ")"
}

// OrDash is s, or "-" when empty.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ParseRequestTimeout reads kubectl's --request-timeout value: a duration, or a number of seconds
// ("0": no limit).
func ParseRequestTimeout(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("--request-timeout %q: want a duration such as 30s or 2m", s)
	}
	return d, nil
}

// ContextList is kubectl's --context flag, wrapped to keep every value it is given: the last one
// still goes to kubectl's flag (the single-cluster form), all of them to Contexts.
type ContextList struct {
	pflag.Value
	All []string
}

// Set records s and hands it to the wrapped flag.
func (c *ContextList) Set(s string) error {
	c.All = append(c.All, s)
	return c.Value.Set(s)
}

// WrapContext makes the flag name of fs repeatable (see ContextList), with ContextUsage as help.
func WrapContext(fs *pflag.FlagSet, name string) {
	if f := fs.Lookup(name); f != nil {
		f.Value = &ContextList{Value: f.Value}
		f.Usage = ContextUsage
	}
}

// Contexts returns every value of cmd's wrapped --context flag.
func Contexts(cmd *cobra.Command) []string {
	if f := cmd.Flag(FlagContext); f != nil {
		if c, ok := f.Value.(*ContextList); ok {
			return c.All
		}
	}
	return nil
}

func dedup(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
