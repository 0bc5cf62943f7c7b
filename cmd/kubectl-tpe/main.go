// Command kubectl-tpe is the kubectl plugin for ThingPark Enterprise clusters (`kubectl tpe`).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/kubectltpe"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	root := kubectltpe.NewCmdRoot(streams)
	root.SetArgs(kubectltpe.Args(os.Args))
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil && !cli.IsSilent(err) {
		fmt.Fprintln(os.Stderr, "error:", err)
	}
	os.Exit(cli.ExitCode(err))
}
