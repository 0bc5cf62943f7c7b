package plan

import (
	"fmt"
	"strings"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// TakesBackup reports whether an upgrade backup is taken before the hop: the vendor makes one
// mandatory before each upgrade, and its rollback restores the backup taken before the upgrade of
// the tpe release. So every hop that upgrades tpe gets its own, holding the data of the release
// the hop starts from; a fresh install (nothing to back up) and a hop that leaves tpe as it is
// get none.
func (h Hop) TakesBackup() bool {
	for _, c := range h.Charts {
		if c.ReleaseName == manifest.ReleaseEnterprise {
			return c.Action == ActionUpgrade
		}
	}
	return false
}

// backupsCheck says before which hops the run takes an upgrade backup.
func backupsCheck(hops []Hop, skipBackup bool) (check.Check, bool) {
	var before []string
	for _, h := range hops {
		if h.Backup {
			before = append(before, fmt.Sprintf("before hop %d (%s → %s)", h.N, h.From, h.To))
		}
	}
	if len(before) == 0 {
		return check.Check{}, false
	}
	c := check.Check{ID: "backup.hops", Category: values.CategoryBackup, Status: check.Pass,
		Message: "upgrade backup " + strings.Join(before, ", ") + ": a failed hop is rolled back with the backup taken before it"}
	if skipBackup {
		c.Status = check.Warn
		c.Message = "{flag:skip-backup}: no upgrade backup " + strings.Join(before, ", ") + ": a failed hop cannot be restored"
		c.Remediation = "run without {flag:skip-backup}"
	}
	return c, true
}
