package kubectltpe

import (
	"strings"
	"testing"

	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
)

// The library says what happened; the command names the flags that help.
func TestPrereqsApplyHintsNameTheFlags(t *testing.T) {
	o := &PrereqsOptions{Config: prereq.Config{}}
	o.DryRun = prereq.DryRunClient
	res := []prereq.Result{{Action: prereq.ActionConflict, Message: "x"}, {Action: prereq.ActionWouldConfigure, Message: "y"},
		{Action: prereq.ActionWouldCreate}}
	o.addHints(res)
	if !strings.Contains(res[0].Message, "--force-conflicts") || !strings.Contains(res[1].Message, "--dry-run=server") || res[2].Message != "" {
		t.Errorf("hints: %+v", res)
	}
}
