package kubectltpe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/input"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
)

var (
	pumLong = `
		Read and drive the TPE post-upgrade manager (PUM), which runs data migrations after an
		upgrade of the thingpark-enterprise chart. These commands replace
		"kubectl exec deploy/pum -- status|restart" and "kubectl logs jobs.batch/pum-process".`

	pumExample = templates.Examples(`
		# Show the post-upgrade requests and the verdict
		%[1]s pum status

		# Wait until the post-upgrade procedure is done or failed
		%[1]s pum status --wait --timeout 30m

		# Run the post-upgrade procedure again, then show its status
		%[1]s pum restart

		# Follow the logs of the post-upgrade procedure
		%[1]s pum logs -f`)

	pumStatusLong = `
		Run "status" in a ready pod of deploy/pum (through the exec subresource, as
		"kubectl exec deploy/pum -- status" does) and show one row per post-upgrade request: its
		state, how long it has been in that state, and its error and iteration counters. Then give
		a verdict:

		* done: every request is PROCESSED or SKIPPED;
		* in progress: some request is INIT, IN_PROGRESS, PARTIALLY_PROCESSED, TRANSIENT_ERROR
		  (retrying), or has an unknown or missing state;
		* failed: some request is ABORTED (its last response is shown).

		Unknown states and missing fields are shown and warned about; a truncated dump or an entry
		count that does not match is an error that shows the raw text.

		With --file, judge a saved dump instead (the output of "kubectl exec deploy/pum --
		status" that a customer sent; "-" reads stdin): same table, verdict, warnings and exit
		codes, and no cluster is contacted, so no kubeconfig is needed. Copied text may have CRLF
		line ends, no final newline, or shell prompt lines before or after the dump. A dump with
		one request looks like this (one "key: value" line per field, a request per block):

		    1 entrie(s)
		    uid: 2
		    scope: 'ALL'
		    serviceID: 'TWA'
		    requestID: 'RDTP-7689-bs-certificate-migration'
		    state: 'PROCESSED'
		    stateTimestamp: '2024-03-05T10:15:00.000Z'
		    lastResponse: '{"status":200,"message":"OK"}'
		    errorCounter: 0
		    iterationCounter: 5

		For a saved dump, the table shows when each request entered its state (STATE SINCE, the
		dump's stateTimestamp, "-" when it has none) instead of how long ago that was.

		Exit codes: 0 done (or in progress without --wait), 2 failed or --wait timed out, 1 error.`

	pumStatusExample = templates.Examples(`
		# Show the status of the post-upgrade procedure
		%[1]s pum status -n thingpark-enterprise

		# Judge the dump a customer sent (no cluster needed)
		%[1]s pum status --file pum-status.txt

		# ... or paste it
		pbpaste | %[1]s pum status --file -

		# Wait for it (reading the status every 10s) and print the result as JSON
		%[1]s pum status --wait --timeout 30m --interval 10s -o json`)

	pumRestartLong = `
		Run "restart" in deploy/pum, which starts the post-upgrade procedure again (for example
		after it failed), then show the status. It asks for confirmation on a terminal; without
		a terminal it refuses unless --yes is given.`

	pumRestartExample = templates.Examples(`
		# Restart after confirming
		%[1]s pum restart

		# Restart from a script
		%[1]s pum restart --yes`)

	pumLogsLong = `
		Print the logs of the pods of Job pum-process (the post-upgrade procedure), all
		containers, oldest pod first, as "kubectl logs jobs.batch/pum-process" does for one pod.`

	pumLogsExample = templates.Examples(`
		# Print the logs of the post-upgrade procedure
		%[1]s pum logs

		# Follow them, starting with the last 10 minutes
		%[1]s pum logs -f --since 10m`)
)

// NewCmdPUM builds `kubectl tpe pum`.
func NewCmdPUM(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "pum",
		Short:   "Read and restart the post-upgrade manager (status, restart, logs)",
		Long:    pumLong,
		Example: fmt.Sprintf(pumExample, DisplayName),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(NewCmdPUMStatus(f, streams), NewCmdPUMRestart(f, streams), NewCmdPUMLogs(f, streams))
	return cmd
}

// PUMStatusOptions are the options of `kubectl tpe pum status`.
type PUMStatusOptions struct {
	Wait     bool
	Timeout  time.Duration
	Interval time.Duration
	Output   string
	// File is a saved dump to judge instead of the live status ("-" is stdin).
	File string

	Namespace string
	Exec      podexec.Executor
	Now       func() time.Time
	format    cli.Format

	genericiooptions.IOStreams
}

// NewPUMStatusOptions returns the defaults.
func NewPUMStatusOptions(streams genericiooptions.IOStreams) *PUMStatusOptions {
	return &PUMStatusOptions{Timeout: 30 * time.Minute, Interval: 10 * time.Second, Output: "table", Now: time.Now, IOStreams: streams}
}

// NewCmdPUMStatus builds `kubectl tpe pum status`.
func NewCmdPUMStatus(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewPUMStatusOptions(streams)
	cmd := &cobra.Command{
		Use:     "status [--wait [--timeout 30m] [--interval 10s]] [--file FILE|-] [-o table|json|yaml]",
		Short:   "Show the post-upgrade requests and a verdict: done, in progress or failed",
		Long:    pumStatusLong,
		Example: fmt.Sprintf(pumStatusExample, DisplayName),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(cmd.Context(), f); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().BoolVar(&o.Wait, "wait", o.Wait, "repeat until the verdict is done or failed")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "with --wait, how long to wait")
	cmd.Flags().DurationVar(&o.Interval, "interval", o.Interval, "with --wait, how often to read the status")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, wide, json or yaml")
	cmd.Flags().StringVar(&o.File, "file", o.File, "judge a saved status dump from this `FILE` (\"-\" reads stdin) instead of the cluster; no kubeconfig needed")
	return cmd
}

// Complete builds the executor (nothing with --file: a saved dump needs no cluster).
func (o *PUMStatusOptions) Complete(ctx context.Context, f cmdutil.Factory) error {
	if o.File != "" {
		return nil
	}
	return completeInTPE(ctx, f, o.ErrOut, &o.Exec, &o.Namespace, pumExec)
}

// Validate checks the flags.
func (o *PUMStatusOptions) Validate() error {
	var err error
	if o.format, err = cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML); err != nil {
		return err
	}
	if o.Wait && o.File != "" {
		return fmt.Errorf("--wait cannot be used with --file: a saved dump does not change")
	}
	if o.Wait && o.Timeout <= 0 {
		return fmt.Errorf("--timeout must be positive with --wait")
	}
	if o.Interval <= 0 {
		return fmt.Errorf("--interval must be positive")
	}
	return nil
}

// Run reads (or waits for) the status and prints it.
func (o *PUMStatusOptions) Run(ctx context.Context) error {
	var st *pum.Status
	var err error
	if o.File != "" {
		st, err = o.readFile(ctx)
	} else if o.Wait {
		wctx, cancel := context.WithTimeout(ctx, o.Timeout)
		defer cancel()
		last := ""
		st, err = pum.Wait(wctx, o.Exec, o.Namespace, o.Interval, func(s *pum.Status) {
			if line := progressLine(s); line != last {
				last = line
				fmt.Fprintf(o.ErrOut, "%s %s\n", o.Now().UTC().Format("15:04:05"), text.Safe(line))
			}
		})
		var te *pum.WaitTimeoutError
		if errors.As(err, &te) {
			if st != nil {
				if perr := o.print(st); perr != nil {
					return perr
				}
			}
			return cli.Failed(err)
		}
	} else {
		st, err = pum.Get(ctx, o.Exec, o.Namespace)
	}
	if err != nil {
		return explainPUM(ctx, o.Exec, err)
	}
	if err := o.print(st); err != nil {
		return err
	}
	if st.Verdict == pum.Failed {
		return cli.Silent
	}
	return nil
}

// readFile parses the saved dump of --file (stdin for "-").
func (o *PUMStatusOptions) readFile(ctx context.Context) (*pum.Status, error) {
	if o.File == "-" {
		if o.In == nil {
			return nil, fmt.Errorf("--file -: no standard input")
		}
		data, err := input.Read(ctx, input.StatusDump, o.In, input.Stdin)
		if err != nil {
			return nil, fmt.Errorf("--file -: %w", err)
		}
		return pum.ReadDump(bytes.NewReader(data), "standard input")
	}
	data, err := readFlagFile(ctx, "--file", input.StatusDump, o.File)
	if err != nil {
		return nil, err
	}
	return pum.ReadDump(bytes.NewReader(data), o.File)
}

func (o *PUMStatusOptions) print(st *pum.Status) error {
	for _, w := range st.Warnings {
		fmt.Fprintf(o.ErrOut, "warning: %s\n", text.Safe(w))
	}
	if !o.format.IsTable() {
		return cli.WriteData(o.Out, o.format, st)
	}
	out, done := cli.Fit(o.Out, o.format)
	defer done()
	if o.File != "" {
		// A saved dump was taken at an unknown time: "in state for 2y" would count from now.
		return writePUMTable(out, st, time.Time{})
	}
	return writePUMTable(out, st, o.Now())
}
