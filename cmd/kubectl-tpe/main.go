// Command kubectl-tpe is the kubectl plugin for ThingPark Enterprise clusters (`kubectl tpe`).
package main

import (
	"context"
	"fmt"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/kubectltpe"
)

func main() {
	ctx, stop := cli.InterruptContext(context.Background(), os.Stderr)
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	root := kubectltpe.NewCmdRoot(streams)
	root.SetArgs(kubectltpe.Args(os.Args))
	err := root.ExecuteContext(ctx)
	stop()
	code, msg := cli.Finish(ctx, err)
	if msg != "" {
		fmt.Fprintln(os.Stderr, msg)
	}
	os.Exit(code)
}
