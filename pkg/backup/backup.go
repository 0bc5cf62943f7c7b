// Package backup runs the backup tooling of TPE's in-cluster operations tool,
// deploy/thingpark-enterprise-controller: on-demand backup, list-backups, get-backup-metadatas and
// restore, through the exec subresource. It needs no Helm, so that kubectl tpe can use it too.
package backup

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
)

// ControllerDeployment is the in-cluster operations tool of TPE: backup, list-backups,
// get-backup-metadatas, restore.
const ControllerDeployment = "thingpark-enterprise-controller"

// Info is the metadata of a TPE backup (get-backup-metadatas).
type Info struct {
	Name             string `json:"name"`
	AppVersion       string `json:"appVersion,omitempty"`
	Chart            string `json:"chart,omitempty"`
	ReleaseName      string `json:"releaseName,omitempty"`
	ReleaseNamespace string `json:"releaseNamespace,omitempty"`
	Revision         int    `json:"revision,omitempty"`
	Type             string `json:"type,omitempty"`
	Time             string `json:"time,omitempty"`
}

// Controller runs the backup tooling of deploy/thingpark-enterprise-controller.
type Controller struct {
	Exec      podexec.Executor
	Namespace string
}

func (c Controller) run(ctx context.Context, what string, cmd []string, stdin string) (string, error) {
	t := podexec.Target{Namespace: c.Namespace, Deployment: ControllerDeployment}
	var res podexec.Result
	var err error
	if stdin != "" {
		res, err = c.Exec.Exec(ctx, t, cmd, strings.NewReader(stdin))
	} else {
		res, err = c.Exec.Exec(ctx, t, cmd, nil)
	}
	out := res.Stdout
	if msg := ansibleFailure(out); msg != "" {
		return out, fmt.Errorf("%s in deploy/%s failed: %s", what, ControllerDeployment, msg)
	}
	if err != nil {
		return out, fmt.Errorf("%s in deploy/%s: %w", what, ControllerDeployment, err)
	}
	return out, nil
}

var (
	failedRe = regexp.MustCompile(`(?s)failed: \{.*?"msg": "((?:[^"\\]|\\.)*)"`)
	quotedRe = regexp.MustCompile(`^\s*"((?:[^"\\]|\\.)*)",?\s*$`)
	backupRe = regexp.MustCompile(`New backup (\S+) successfully pushed`)
)

// ansibleFailure returns the msg of an ansible "failed" block, "" when there is none.
func ansibleFailure(out string) string {
	if m := failedRe.FindStringSubmatch(out); m != nil {
		return unescape(m[1])
	}
	return ""
}

func unescape(s string) string {
	if u, err := strconv.Unquote(`"` + s + `"`); err == nil {
		return u
	}
	return s
}

// msgList returns the quoted lines of an ansible "msg": [ ... ] list.
func msgList(out string) []string {
	var items []string
	in := false
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, `"msg": [`) {
			in = true
			if strings.HasSuffix(t, "]") {
				return items
			}
			continue
		}
		if !in {
			continue
		}
		if strings.HasPrefix(t, "]") {
			break
		}
		if m := quotedRe.FindStringSubmatch(l); m != nil {
			items = append(items, unescape(m[1]))
		}
	}
	return items
}

// ListBackups returns the backup names, oldest first.
func (c Controller) ListBackups(ctx context.Context) ([]string, error) {
	out, err := c.run(ctx, "list-backups", []string{"list-backups"}, "")
	if err != nil {
		return nil, err
	}
	return msgList(out), nil
}

// Backup takes an on-demand backup and returns its name.
func (c Controller) Backup(ctx context.Context) (string, error) {
	out, err := c.run(ctx, "backup", []string{"backup"}, "")
	if err != nil {
		return "", err
	}
	m := backupRe.FindStringSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("backup in deploy/%s printed no backup name (want \"New backup <name> successfully pushed\")", ControllerDeployment)
	}
	return m[1], nil
}

// Metadata returns the metadata of a backup.
func (c Controller) Metadata(ctx context.Context, name string) (*Info, error) {
	out, err := c.run(ctx, "get-backup-metadatas", []string{"get-backup-metadatas", "-e", "backup_name=" + name}, "")
	if err != nil {
		return nil, err
	}
	return parseMetadata(name, strings.Join(msgList(out), "\n"))
}

func parseMetadata(name, text string) (*Info, error) {
	var raw struct {
		Helm struct {
			AppVersion       any    `json:"appVersion"`
			Chart            string `json:"chart"`
			ReleaseName      string `json:"releaseName"`
			ReleaseNamespace string `json:"releaseNamespace"`
			Revision         any    `json:"revision"`
		} `json:"helm"`
		ID   string `json:"id"`
		Tm   string `json:"tm"`
		Type string `json:"type"`
	}
	if err := yaml.Unmarshal([]byte(text), &raw); err != nil {
		return nil, fmt.Errorf("the metadata of backup %s does not parse: %w", name, err)
	}
	b := &Info{Name: name, AppVersion: fmt.Sprint(orEmpty(raw.Helm.AppVersion)), Chart: raw.Helm.Chart, ReleaseName: raw.Helm.ReleaseName,
		ReleaseNamespace: raw.Helm.ReleaseNamespace, Type: raw.Type, Time: raw.Tm}
	b.Revision, _ = strconv.Atoi(fmt.Sprint(orEmpty(raw.Helm.Revision)))
	if raw.ID != "" {
		b.Name = raw.ID
	}
	return b, nil
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}

// Restore restores a backup. It answers "yes" to the controller's confirmation: the caller must
// have asked the user first.
func (c Controller) Restore(ctx context.Context, name string) (string, error) {
	out, err := c.run(ctx, "restore", []string{"restore", "-e", "backup_name=" + name}, "yes\n")
	return out, err
}
