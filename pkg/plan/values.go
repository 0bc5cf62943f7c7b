package plan

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// BackupRequired is the one rule for the upgrade backup's configuration: the TPE cluster
// prerequisites make a backup mandatory before an upgrade, so a backup configuration that fails
// its checks blocks an upgrade; for a fresh install (there is no data yet) or a run with
// --skip-backup it only warns.
func BackupRequired(action Action, skipBackup bool) bool {
	return action == ActionUpgrade && !skipBackup
}

// Blocking returns the failed checks that stop an install or upgrade before anything changes.
// A resumed run follows its progress record, not the path: the path and chart checks, which a
// half-upgraded namespace may fail, do not block it.
func (p *Plan) Blocking(resuming bool) []check.Check {
	var out []check.Check
	for _, c := range p.Report.Checks {
		if c.Status != check.Fail {
			continue
		}
		if resuming && (c.Category == CategoryPath || c.Category == CategoryCharts) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// valuesChecks checks the user's values against the target's four charts: the installation ID,
// keys no target chart knows, and the charts' values.schema.json.
func valuesChecks(in Input, action Action, rep *check.Report) {
	if len(in.ValueFiles) == 0 {
		rep.Add(check.Check{ID: "values.files", Category: CategoryValues, Status: check.Skip,
			Message: "no values file given ({flag:values}): the values are not checked", Remediation: "pass your values files with {flag:values}; `{cmd:values-get}` saves the installed ones"})
		return
	}
	// The same installation ID, backup and TLS checks as `kubectl tpe preflight`.
	cs, err := values.Checks(in.Values, "", time.Time{})
	if err != nil {
		rep.Add(check.Check{ID: "values.tls", Category: CategoryValues, Status: check.Fail, Message: err.Error(),
			Remediation: "fix global.ingress.tls (PEM certificate, key and CA)"})
	}
	for _, c := range cs {
		if c.Category == values.CategoryBackup && c.Status == check.Fail && !BackupRequired(action, in.SkipBackup) {
			c.Status = check.Warn
		}
		rep.Add(c)
	}
	if in.Charts == nil {
		rep.Add(check.Check{ID: "values.charts", Category: CategoryValues, Status: check.Skip,
			Message: "the target charts were not fetched: keys are not checked against them", Remediation: "run `{cmd:repo-add}` so that plan can fetch the charts, or give plan the charts with {flag:chart-dir}"})
		return
	}
	var loaded []*chart.Chart
	for _, c := range in.To.Charts() {
		ch, err := in.Charts.LoadChart(c.Chart, c.Version)
		if err != nil {
			rep.Add(check.Check{ID: "values.charts", Category: CategoryValues, Status: check.Skip,
				Message: fmt.Sprintf("cannot read %s %s: %v", c.Chart, c.Version, err)})
			return
		}
		loaded = append(loaded, ch)
		if err := validateSchema(ch, in.Values); err != nil {
			rep.Add(check.Check{ID: "values.schema." + c.ReleaseName, Category: CategoryValues, Status: check.Fail,
				Message:     fmt.Sprintf("the values do not satisfy %s %s's values.schema.json", c.Chart, c.Version),
				Details:     schemaDetails(err),
				Remediation: "compare your values with the new sample (`helm show values " + c.Chart + " --version " + c.Version + "`) and fill in the required keys"})
		}
	}
	unknown := UnknownKeys(in.Values, loaded)
	if len(unknown) > 0 {
		rep.Add(check.Check{ID: "values.unknown-keys", Category: CategoryValues, Status: check.Warn,
			Message:     fmt.Sprintf("%d key(s) of %s are known to none of %s's charts", len(unknown), strings.Join(in.ValueFiles, ", "), in.To.Name),
			Details:     unknown,
			Remediation: "remove or rename them following the new configuration sample of " + in.To.Name})
	} else {
		rep.Add(check.Check{ID: "values.unknown-keys", Category: CategoryValues, Status: check.Pass,
			Message: fmt.Sprintf("every key of the values is known to %s's charts", in.To.Name)})
	}
}

func validateSchema(ch *chart.Chart, v values.Values) error {
	coalesced, err := chartutil.CoalesceValues(ch, map[string]any(v))
	if err != nil {
		return err
	}
	return chartutil.ValidateAgainstSchema(ch, coalesced)
}

func schemaDetails(err error) []string {
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "values don't meet") {
			out = append(out, strings.TrimPrefix(l, "- "))
		}
	}
	return out
}

// UnknownKeys returns the dotted paths of the user's values that none of the charts knows
// (their values.yaml, their subcharts' under the subchart's name, and global keys of any of
// them). Maps the charts leave empty are free-form and not descended.
func UnknownKeys(user values.Values, charts []*chart.Chart) []string {
	known := map[string]any{}
	globals := map[string]any{}
	for _, ch := range charts {
		known = mergeKnown(known, chartKnown(ch, globals))
	}
	known["global"] = globals
	var out []string
	walkUnknown("", user, known, &out)
	sort.Strings(out)
	return out
}

func chartKnown(ch *chart.Chart, globals map[string]any) map[string]any {
	k := map[string]any{}
	for key, v := range ch.Values {
		if key == "global" {
			if g, ok := v.(map[string]any); ok {
				mergeKnown(globals, g)
			}
			continue
		}
		k[key] = v
	}
	for _, dep := range ch.Dependencies() {
		name := dep.Name()
		if ch.Metadata != nil {
			for _, d := range ch.Metadata.Dependencies {
				if d.Name == dep.Name() && d.Alias != "" {
					name = d.Alias
				}
			}
		}
		sub := chartKnown(dep, globals)
		if existing, ok := k[name].(map[string]any); ok {
			k[name] = mergeKnown(sub, existing)
		} else {
			k[name] = sub
		}
	}
	return k
}

func mergeKnown(dst, src map[string]any) map[string]any {
	for key, sv := range src {
		sm, sIs := sv.(map[string]any)
		dm, dIs := dst[key].(map[string]any)
		switch {
		case sIs && dIs:
			dst[key] = mergeKnown(dm, sm)
		case sIs:
			dst[key] = mergeKnown(map[string]any{}, sm)
		case !dIs:
			dst[key] = sv
		}
	}
	return dst
}

func walkUnknown(prefix string, user, known map[string]any, out *[]string) {
	for k, uv := range user {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		kv, ok := known[k]
		if !ok {
			*out = append(*out, p)
			continue
		}
		um, uIs := uv.(map[string]any)
		km, kIs := kv.(map[string]any)
		if uIs && kIs && len(km) > 0 {
			walkUnknown(p, um, km, out)
		}
	}
}
