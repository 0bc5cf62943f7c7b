//go:build e2e

package kubectltpe

import (
	"fmt"
	"os"
)

// EnvStopAfter stops `prereqs apply --to` after a CRD version ("crd-psmdb@1.15.0"), as if the
// process were killed there. Only the e2e tests' build of the plugin (go build -tags e2e,
// e2e/framework) reads it: the released plugin is built without the tag and knows no such variable.
const EnvStopAfter = "KUBECTL_TPE_E2E_STOP_AFTER"

func init() {
	if stop := os.Getenv(EnvStopAfter); stop != "" {
		afterVersion = func(step, version string) error {
			if step+"@"+version == stop {
				return fmt.Errorf("stopped after %s %s (%s)", step, version, EnvStopAfter)
			}
			return nil
		}
	}
}
