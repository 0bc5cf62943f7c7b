package status

import (
	"fmt"
	"strings"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/helmstore"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

func (d *Dashboard) release(cfg Config, in *inputs) {
	if err := in.errs["helm"]; err != nil {
		d.Release = ReleaseSection{Name: NotReadable}
		d.Add(unreadable("release.helm", CategoryRelease, "secrets (Helm's release storage)", cfg.Namespace, err))
		return
	}
	d.Release.Readable = true
	d.Release.Helm = in.helm
	byName := map[string]helmstore.Release{}
	for _, r := range in.helm {
		byName[r.Name] = r
	}
	// Releases installed under other names are recognised by their chart.
	chartRelease := map[string]string{}
	for _, c := range cfg.Matrix.Releases[len(cfg.Matrix.Releases)-1].Charts() {
		chartRelease[c.Chart] = c.ReleaseName
	}
	chartRelease[manifest.ChartEnterpriseControllers] = manifest.ReleaseControllers
	chartRelease[manifest.ChartApplicationControllers] = manifest.ReleaseControllers
	for _, r := range in.helm {
		if conv, ok := chartRelease[r.Chart]; ok {
			if _, taken := byName[conv]; !taken {
				byName[conv] = r
			}
		}
	}
	installed := map[string]manifest.ChartRef{}
	for _, name := range manifest.ReleaseNames {
		r, ok := byName[name]
		id := "release.helm." + name
		if !ok {
			d.Add(check.Check{ID: id, Category: CategoryRelease, Status: check.Fail,
				Message:     fmt.Sprintf("Helm release %s is not installed in namespace %s", name, cfg.Namespace),
				Remediation: "install the missing chart of the TPE release ({cmd:install}), or pass the namespace of the installation with {flag:namespace}"})
			continue
		}
		installed[name] = manifest.ChartRef{ReleaseName: name, Chart: r.Chart, Version: r.ChartVersion}
		msg := fmt.Sprintf("%s: %s %s, revision %d, %s", r.Name, r.Chart, r.ChartVersion, r.Revision, r.Status)
		c := check.Check{ID: id, Category: CategoryRelease, Status: check.Pass, Message: msg}
		if r.Status != "deployed" {
			c.Status = check.Fail
			c.Remediation = fmt.Sprintf("see `helm history %s -n %s`; resume or roll back the upgrade ({cmd:upgrade} / {cmd:rollback})", r.Name, cfg.Namespace)
			if r.Description != "" {
				c.Details = []string{r.Description}
			}
		}
		d.Add(c)
	}
	matches := cfg.Matrix.Match(installed)
	if len(matches) > 0 {
		d.Release.Name = matches[0].Name
		for _, m := range matches[1:] {
			d.Release.Also = append(d.Release.Also, m.Name)
		}
		msg := fmt.Sprintf("the four charts match TPE release %s", matches[0].Name)
		if len(d.Release.Also) > 0 {
			msg += fmt.Sprintf(" (same charts as %s)", strings.Join(d.Release.Also, ", "))
		}
		d.Add(check.Check{ID: "release.match", Category: CategoryRelease, Status: check.Pass, Message: msg})
		return
	}
	if tpe, upgraded, ok := rolledBack(cfg.Matrix, installed, byName[manifest.ReleaseEnterprise]); ok {
		d.Release.Name, d.Release.RolledBackFrom = tpe, upgraded
		d.Add(check.Check{ID: "release.match", Category: CategoryRelease, Status: check.Warn,
			Message:     fmt.Sprintf("rolled back to %s after an upgrade to %s; charts 1–3 stay at %s, as the vendor's rollback leaves them", tpe, upgraded, upgraded),
			Remediation: fmt.Sprintf("once the upgrade backup is restored ({cmd:rollback} does it) and the cause of the failure fixed, upgrade again: {cmd:upgrade} {flag:to} %s {flag:values} <values files>", upgraded)})
		return
	}
	d.Release.Name = Unknown
	d.Release.Mismatch = mismatch(cfg.Matrix, installed)
	d.Add(check.Check{ID: "release.match", Category: CategoryRelease, Status: check.Fail,
		Message:     fmt.Sprintf("%s: the installed charts match no TPE release: %s", Unknown, strings.Join(d.Release.Mismatch, "; ")),
		Remediation: "finish the upgrade so that all four charts are at the versions of one release ({cmd:plan} shows the path)"})
}

// rolledBack recognises the state the vendor's rollback leaves: tpe rolled back (its latest
// revision is a Helm rollback) to the chart of release tpeRel, and charts 1–3 still at the
// versions of a newer release upgraded (the one the failed upgrade went to; they carry operators
// and CRDs that only move forward).
func rolledBack(m *manifest.Matrix, installed map[string]manifest.ChartRef, tpe helmstore.Release) (tpeRel, upgraded string, ok bool) {
	if !strings.HasPrefix(tpe.Description, "Rollback to ") {
		return "", "", false
	}
	var at *manifest.Tag
	for i := len(m.Releases) - 1; i >= 0; i-- {
		r := m.Releases[i]
		if tpe.Chart == manifest.ChartEnterprise && tpe.ChartVersion == r.Enterprise {
			tag, err := manifest.ParseTag(r.Name)
			if err == nil && (at == nil || at.Less(tag)) {
				at, tpeRel = &tag, r.Name
			}
		}
	}
	if at == nil {
		return "", "", false
	}
	var best *manifest.Tag
	for _, r := range m.Releases {
		tag, err := manifest.ParseTag(r.Name)
		if err != nil || !at.Less(tag) || r.Enterprise == tpe.ChartVersion {
			continue
		}
		same := true
		for _, c := range r.Charts()[:3] {
			got, found := installed[c.ReleaseName]
			same = same && found && got.Chart == c.Chart && got.Version == c.Version
		}
		if same && (best == nil || best.Less(tag)) {
			best, upgraded = &tag, r.Name
		}
	}
	return tpeRel, upgraded, best != nil
}

// mismatch compares the installed charts with the closest known release (most charts equal,
// newest on ties) and names each chart that differs.
func mismatch(m *manifest.Matrix, installed map[string]manifest.ChartRef) []string {
	if len(installed) == 0 {
		return []string{"no TPE chart is installed"}
	}
	best, bestScore := -1, -1
	for i, r := range m.Releases {
		score := 0
		for _, c := range r.Charts() {
			if got, ok := installed[c.ReleaseName]; ok && got.Chart == c.Chart && got.Version == c.Version {
				score++
			}
		}
		if score >= bestScore {
			best, bestScore = i, score
		}
	}
	r := m.Releases[best]
	var out []string
	for _, c := range r.Charts() {
		got, ok := installed[c.ReleaseName]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s is missing (%s expects %s %s)", c.ReleaseName, r.Name, c.Chart, c.Version))
		case got.Chart != c.Chart || got.Version != c.Version:
			out = append(out, fmt.Sprintf("%s runs %s %s, %s expects %s %s", c.ReleaseName, got.Chart, got.Version, r.Name, c.Chart, c.Version))
		}
	}
	return out
}
