package rollback

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/thingpark-tools/kubectl-tpe/pkg/backup"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/upgrade"
)

// Which upgrade backup a rollback restores: the one taken before the failed hop, and why.

// stoppedBeforeTpe warns when the recorded run failed in a hop before upgrading tpe: tpe still
// runs the release that hop started from, so rolling it back goes further back than the failure.
func stoppedBeforeTpe(rec *upgrade.Record, p *Plan) string {
	at := rec.FailedHop()
	if at == nil || at.Hop == 0 {
		return ""
	}
	for _, s := range rec.Steps {
		if s.Hop == at.Hop && s.Kind == upgrade.StepChart && s.ReleaseName == manifest.ReleaseEnterprise &&
			s.State != upgrade.StateDone && s.State != upgrade.StateSkipped {
			from := "the release the hop started from"
			if b := rec.BackupOf(at.Hop); b != nil && b.From != "" {
				from = b.From
			}
			to := p.ToRelease
			if to == "" {
				to = fmt.Sprintf("revision %d (%s)", p.ToRevision, p.ToChart)
			}
			return fmt.Sprintf("the %s to %s stopped in hop %d (step %d, %s) before tpe was upgraded: tpe still runs %s, so this rollback returns it further back, to %s; to finish the upgrade instead, fix the cause and rerun it with {flag:resume}",
				rec.Action, rec.Target, at.Hop, at.N, at.Label(), from, to)
		}
	}
	return ""
}

// findBackup picks the backup to restore: --backup NAME if it matches, else the first of the
// upgrade backups recorded by the last run (newest hop first), then of list-backups (newest
// first), whose metadata matches the revision tpe returns to. After a failure in hop N that is
// the backup taken before hop N: the run's other backups hold other releases' data.
func (rb *runner) findBackup(ctx context.Context, p *Plan, rec *upgrade.Record) error {
	ctl := backup.Controller{Exec: rb.d.Exec, Namespace: rb.cfg.Namespace}
	match := func(b *backup.Info) string {
		var why []string
		if b.Chart != "" && b.Chart != p.ToChart {
			why = append(why, fmt.Sprintf("its chart is %s, revision %d is %s", b.Chart, p.ToRevision, p.ToChart))
		}
		if b.AppVersion != "" && p.ToAppVersion != "" && b.AppVersion != p.ToAppVersion {
			why = append(why, fmt.Sprintf("its appVersion is %s, revision %d has %s", b.AppVersion, p.ToRevision, p.ToAppVersion))
		}
		if b.ReleaseNamespace != "" && b.ReleaseNamespace != rb.cfg.Namespace {
			why = append(why, fmt.Sprintf("it was taken in namespace %s", b.ReleaseNamespace))
		}
		return strings.Join(why, "; ")
	}
	if rb.cfg.Backup != "" {
		md, err := ctl.Metadata(ctx, rb.cfg.Backup)
		if err != nil {
			return &InputError{Field: FieldBackup, Value: rb.cfg.Backup, Err: err}
		}
		if why := match(md); why != "" {
			return &InputError{Field: FieldBackup, Value: rb.cfg.Backup, Err: fmt.Errorf("does not match revision %d of %s: %s", p.ToRevision, manifest.ReleaseEnterprise, why)}
		}
		p.Backup, p.BackupSource = md, "{flag:backup}"
		return nil
	}
	var candidates []string
	source := map[string]string{}
	recorded := map[string]upgrade.HopBackup{}
	if rec != nil {
		for _, b := range rec.AllBackups() {
			candidates = append(candidates, b.Name)
			recorded[b.Name] = b
			source[b.Name] = "recorded by {cmd:" + string(rec.Action) + "} to " + rec.Target
			if b.Hop > 0 {
				source[b.Name] += fmt.Sprintf(", before hop %d", b.Hop)
			}
		}
	}
	names, err := ctl.ListBackups(ctx)
	if err != nil {
		return fmt.Errorf("finding the upgrade backup: %w", err)
	}
	for i := len(names) - 1; i >= 0; i-- {
		if _, dup := source[names[i]]; !dup {
			candidates = append(candidates, names[i])
			source[names[i]] = "list-backups"
		}
	}
	var rejected []string
	for _, n := range candidates {
		md, err := ctl.Metadata(ctx, n)
		if err != nil {
			rejected = append(rejected, fmt.Sprintf("%s: %v", n, err))
			continue
		}
		if why := match(md); why != "" {
			rejected = append(rejected, n+": "+why)
			continue
		}
		p.Backup, p.BackupSource = md, source[n]
		if b, ok := recorded[n]; ok {
			p.BackupReason = backupReason(rec, b, p)
		}
		return nil
	}
	msg := fmt.Sprintf("no backup matches revision %d of %s (%s, appVersion %s)", p.ToRevision, manifest.ReleaseEnterprise, p.ToChart, p.ToAppVersion)
	if len(rejected) > 0 {
		msg += "; checked: " + strings.Join(rejected, "; ")
	} else {
		msg += "; list-backups lists none"
	}
	return &InputError{Field: FieldBackup, Needed: true, Err: errors.New(msg)}
}

// backupReason explains the choice of a recorded upgrade backup.
func backupReason(rec *upgrade.Record, b upgrade.HopBackup, p *Plan) string {
	to := fmt.Sprintf("revision %d (%s)", p.ToRevision, p.ToChart)
	if p.ToRelease != "" {
		to = fmt.Sprintf("%s, revision %d", p.ToRelease, p.ToRevision)
	}
	var why string
	if b.Hop == 0 {
		why = fmt.Sprintf("backup %s was taken before the %s to %s: it holds the data of %s, the release tpe returns to (%s)", b.Name, rec.Action, rec.Target, b.From, to)
	} else {
		why = fmt.Sprintf("backup %s was taken before hop %d (%s → %s): it holds the data of %s, the release tpe returns to (%s)", b.Name, b.Hop, b.From, b.To, b.From, to)
	}
	if at := rec.FailedHop(); at != nil && at.Hop > 0 {
		why = fmt.Sprintf("the %s to %s failed in hop %d (step %d, %s); %s", rec.Action, rec.Target, at.Hop, at.N, at.Label(), why)
	}
	var others []string
	for _, o := range rec.AllBackups() {
		if o.Name != b.Name && o.Hop > 0 {
			others = append(others, fmt.Sprintf("%s (taken before hop %d: it holds the data of %s)", o.Name, o.Hop, o.From))
		}
	}
	if len(others) > 0 {
		why += "; not " + strings.Join(others, ", nor ")
	}
	return why
}
