package kubectltpe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
	"github.com/thingpark-tools/kubectl-tpe/pkg/wait"
)

var (
	waitLong = `
		Wait until every StatefulSet and Deployment of the TPE namespace has rolled out (or is
		ready), as the upgrade procedure asks before checking the post-upgrade manager.

		A rollout is complete when the controller has observed the latest spec and the updated,
		ready and available replicas reach the desired count; for a RollingUpdate StatefulSet the
		current revision must also equal the update revision. With --for ready only the ready
		replicas count.

		The wait watches the API server (no polling) and survives dropped watches and API server
		restarts. On a terminal it shows live progress; otherwise it prints one line per change.
		For every workload that is not ready it says why: a pending pod and why it cannot be
		scheduled, an unbound PVC, an image pull error, a crash loop.

		Exit codes: 0 all ready, 2 timed out (every workload that is not ready is listed with its
		reason) or an included Job failed, 1 error.`

	waitExample = templates.Examples(`
		# Wait up to 20 minutes for every StatefulSet and Deployment of thingpark-enterprise
		%[1]s wait

		# Wait only for the data stack, and for the pods to be ready rather than fully rolled out
		%[1]s wait -n thingpark-enterprise -l app.kubernetes.io/instance=tpe-data --for ready

		# Also wait for the Jobs (e.g. pum-process) to complete, for at most 10 minutes
		%[1]s wait --include-jobs --timeout 10m`)
)

// WaitOptions are the options of `kubectl tpe wait`.
type WaitOptions struct {
	For         string
	Timeout     time.Duration
	Selector    string
	IncludeJobs bool

	Namespace string
	Client    kubernetes.Interface
	// TTY forces the live view on or off; nil means "is ErrOut a terminal".
	TTY *bool

	genericiooptions.IOStreams
}

// NewWaitOptions returns the defaults.
func NewWaitOptions(streams genericiooptions.IOStreams) *WaitOptions {
	return &WaitOptions{For: string(wait.ForRollout), Timeout: 20 * time.Minute, IOStreams: streams}
}

// NewCmdWait builds `kubectl tpe wait`.
func NewCmdWait(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewWaitOptions(streams)
	cmd := &cobra.Command{
		Use:     "wait [-l selector] [--for rollout|ready] [--timeout 20m] [--include-jobs]",
		Short:   "Wait until the StatefulSets and Deployments of TPE are rolled out, explaining what is not",
		Long:    waitLong,
		Example: fmt.Sprintf(waitExample, DisplayName),
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
	cmd.Flags().StringVar(&o.For, "for", o.For, "what to wait for: rollout (updated, ready and available at spec) or ready (ready replicas only)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "how long to wait; 0 waits forever")
	cmd.Flags().StringVarP(&o.Selector, "selector", "l", o.Selector, "label selector of the workloads to wait for (default: all of the namespace)")
	cmd.Flags().BoolVar(&o.IncludeJobs, "include-jobs", o.IncludeJobs, "also wait for the Jobs of the namespace to complete (Jobs of CronJobs are ignored)")
	return cmd
}

// Complete builds the client and resolves the namespace.
func (o *WaitOptions) Complete(ctx context.Context, f cmdutil.Factory) error {
	return completeInTPE(ctx, f, o.ErrOut, &o.Client, &o.Namespace, kubeClient)
}

// Validate checks the flags.
func (o *WaitOptions) Validate() error {
	if _, err := wait.ParseFor(o.For); err != nil {
		return fmt.Errorf("--for: %w", err)
	}
	if o.Timeout < 0 {
		return fmt.Errorf("--timeout must not be negative (use 0 to wait forever)")
	}
	return nil
}

// Run waits and reports.
func (o *WaitOptions) Run(ctx context.Context) error {
	tty := cli.IsTerminal(o.ErrOut)
	if o.TTY != nil {
		tty = *o.TTY
	}
	p := &waitPrinter{w: o.ErrOut, tty: tty, last: map[string]wait.Workload{}, width: cli.TermWidth(o.ErrOut)}
	sel := ""
	if o.Selector != "" {
		sel = fmt.Sprintf(" matching %s", o.Selector)
	}
	fmt.Fprintf(o.ErrOut, "Waiting for the StatefulSets and Deployments%s in namespace %s (--for %s, timeout %s)\n", sel, o.Namespace, o.For, timeoutString(o.Timeout))
	snap, err := wait.Run(ctx, o.Client, wait.Options{
		Namespace: o.Namespace, Selector: o.Selector, For: wait.For(o.For), Timeout: o.Timeout,
		IncludeJobs: o.IncludeJobs, Progress: p.print,
	})
	if err != nil {
		var te *wait.TimeoutError
		var je *wait.JobFailedError
		if errors.As(err, &te) || errors.As(err, &je) {
			return cli.Failed(err)
		}
		return err
	}
	if len(snap.Workloads) == 0 {
		fmt.Fprintf(o.Out, "no StatefulSet or Deployment%s in namespace %s: nothing to wait for\n", sel, o.Namespace)
		return nil
	}
	fmt.Fprintf(o.Out, "%s in namespace %s after %s\n", snap.Summary(), o.Namespace, snap.Elapsed.Round(100*time.Millisecond))
	return nil
}

func timeoutString(d time.Duration) string {
	if d == 0 {
		return "none"
	}
	return d.String()
}

// waitPrinter shows progress: on a terminal it redraws one line per workload; otherwise it
// prints one line per workload whose state changed.
type waitPrinter struct {
	w     io.Writer
	tty   bool
	lines int
	last  map[string]wait.Workload
	// width is the terminal width: live lines are cut to it so that redrawing can count them.
	width int
}

func (p *waitPrinter) cut(line string) string {
	if p.width <= 1 {
		return line
	}
	r := []rune(line)
	if len(r) >= p.width {
		return string(r[:p.width-2]) + "…"
	}
	return line
}

func (p *waitPrinter) print(s wait.Snapshot) {
	if p.tty {
		var b strings.Builder
		if p.lines > 0 {
			fmt.Fprintf(&b, "\x1b[%dA\x1b[J", p.lines)
		}
		p.lines = 0
		for _, w := range s.Workloads {
			mark := "✓"
			if !w.Done {
				mark = "…"
			}
			line := fmt.Sprintf("%s %-40s %d/%d", mark, w.Kind+"/"+w.Name, w.Ready, w.Desired)
			if !w.Done {
				line += "  " + text.Safe(w.Reason)
			}
			b.WriteString(p.cut(line) + "\n")
			p.lines++
		}
		fmt.Fprintf(&b, "%s (%s)\n", s.Summary(), s.Elapsed.Round(time.Second))
		p.lines++
		_, _ = io.WriteString(p.w, b.String())
		return
	}
	now := time.Now().UTC().Format("15:04:05")
	for _, w := range s.Workloads {
		key := w.Kind + "/" + w.Name
		if old, ok := p.last[key]; ok && old == w {
			continue
		}
		p.last[key] = w
		if w.Done {
			fmt.Fprintf(p.w, "%s %s %d/%d ready\n", now, key, w.Ready, w.Desired)
		} else {
			fmt.Fprintf(p.w, "%s %s %d/%d waiting: %s\n", now, key, w.Ready, w.Desired, text.Safe(w.Reason))
		}
	}
}
