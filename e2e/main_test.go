//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/e2e/framework"
)

// env is the environment shared by every e2e test.
var env *framework.Env

// TestMain starts ONE local cluster and chart repository for the whole run (see e2e/framework) and
// sets env; tests run sequentially and clean up after themselves.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) (code int) {
	t0 := time.Now()
	e, err := framework.Start(context.Background(), framework.Options{})
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "e2e: panic: %v\n", r)
			code = 1
		}
		e.Stop()
		switch {
		case code == 0 && os.Getenv("TPE_E2E_KEEP") == "":
			e.Cleanup()
		case e != nil && e.RunDir != "":
			fmt.Fprintf(os.Stderr, "e2e: run dir kept for inspection: %s (logs in log/, audit.log)\n", e.RunDir)
		}
		fmt.Fprintf(os.Stderr, "e2e: total %s\n", time.Since(t0).Round(time.Millisecond))
	}()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: setup failed: %v\n", err)
		return 1
	}
	env = e
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() { // Ctrl-C: stop the cluster before exiting
		<-sig
		e.Stop()
		os.Exit(130)
	}()
	return m.Run()
}
