// Command helm-tpe is the Helm plugin that installs and upgrades ThingPark Enterprise releases (`helm tpe`).
package main

import (
	"context"
	"fmt"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/helmtpe"
)

func main() {
	ctx, stop := cli.InterruptContext(context.Background(), os.Stderr)
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	err := helmtpe.NewCmdRoot(streams).ExecuteContext(ctx)
	stop()
	code, msg := cli.Finish(ctx, err)
	if msg != "" {
		fmt.Fprintln(os.Stderr, msg)
	}
	os.Exit(code)
}
