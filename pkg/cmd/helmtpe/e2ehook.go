//go:build e2e

package helmtpe

import (
	"os"

	"github.com/thingpark-tools/kubectl-tpe/pkg/upgrade"
)

// EnvStopAfter interrupts install/upgrade after the chart step of this Helm release, as a Ctrl-C
// there would. Only the e2e tests' build of the plugin (go build -tags e2e, e2e/framework) reads
// it: the released plugin is built without the tag and knows no such variable.
const EnvStopAfter = "HELM_TPE_TEST_STOP_AFTER"

func init() {
	if name := os.Getenv(EnvStopAfter); name != "" {
		afterStep = upgrade.StopAfter(name)
	}
}
