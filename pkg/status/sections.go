package status

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
)

func (d *Dashboard) pum(cfg Config, in *inputs) {
	const id = "pum.verdict"
	switch {
	case cfg.Exec == nil:
		d.Add(check.Check{ID: id, Category: CategoryPUM, Status: check.Skip, Message: "not checked"})
		return
	case in.errs["exec"] != nil:
		d.Add(check.Check{ID: id, Category: CategoryPUM, Status: check.Skip,
			Message: fmt.Sprintf("not checked: cannot tell whether you may exec into pods: %v", in.errs["exec"])})
		return
	case !in.canExec:
		d.Add(check.Check{ID: id, Category: CategoryPUM, Status: check.Skip,
			Message:     fmt.Sprintf("not checked: you may not exec into pods in namespace %s (create pods/exec)", cfg.Namespace),
			Remediation: "ask for the create verb on pods/exec to see the post-upgrade verdict"})
		return
	}
	if in.errs["deployments"] == nil && !hasPUM(in.deps) {
		why := "the thingpark-enterprise chart is not installed"
		for _, h := range in.helm {
			if h.Chart == manifest.ChartEnterprise {
				why = fmt.Sprintf("the installed release (%s) ships no post-upgrade manager", h.ChartString())
			}
		}
		d.Add(check.Check{ID: id, Category: CategoryPUM, Status: check.Skip,
			Message: fmt.Sprintf("not checked: no deploy/%s in namespace %s (%s)", pum.Deployment, cfg.Namespace, why)})
		return
	}
	st, err := in.pum, in.pumErr
	if st == nil && err == nil {
		err = errors.New("not read yet")
	}
	if err != nil {
		d.Add(check.Check{ID: id, Category: CategoryPUM, Status: check.Fail, Message: "cannot read the post-upgrade status",
			Details: []string{text.OneLine(err.Error(), 300)}, Remediation: "see `{cmd:pum-status}` for the full output"})
		return
	}
	done := 0
	for _, e := range st.Entries {
		if e.Finished() {
			done++
		}
	}
	d.PostUpgrade = string(st.Verdict)
	c := check.Check{ID: id, Category: CategoryPUM, Message: fmt.Sprintf("post-upgrade procedure %s: %d/%d request(s) processed or skipped", st.Verdict, done, len(st.Entries)),
		Details: st.Warnings}
	switch st.Verdict {
	case pum.Done:
		c.Status = check.Pass
	case pum.InProgress:
		c.Status = check.Warn
		c.Remediation = "wait for it: {cmd:pum-status} {flag:wait}"
	default:
		c.Status = check.Fail
		for _, e := range st.Aborted() {
			c.Details = append(c.Details, fmt.Sprintf("ABORTED %s: %s", e.RequestID, string(e.LastResponse)))
		}
		c.Remediation = "read `{cmd:pum-logs}`, fix the cause, then `{cmd:pum-restart}`"
	}
	d.Add(c)
}

func (d *Dashboard) ingress(cfg Config, in *inputs) {
	if err := in.errs["services"]; err != nil {
		d.Add(unreadable("ingress.loadbalancer", CategoryIngress, "services", cfg.Namespace, err))
		return
	}
	var lbs []corev1.Service
	for _, s := range in.services {
		if s.Spec.Type == corev1.ServiceTypeLoadBalancer {
			lbs = append(lbs, s)
		}
	}
	if len(lbs) == 0 {
		d.Add(check.Check{ID: "ingress.loadbalancer", Category: CategoryIngress, Status: check.Fail,
			Message:     "no LoadBalancer Service in the namespace: TPE is not reachable from base stations and users",
			Remediation: "install the thingpark-application-controllers chart (tpe-controllers) with its ingress-nginx LoadBalancer"})
		return
	}
	// The ingress controller's Service first.
	sort.SliceStable(lbs, func(i, j int) bool {
		return strings.Contains(lbs[i].Name, "ingress-nginx-controller") && !strings.Contains(lbs[j].Name, "ingress-nginx-controller")
	})
	s := lbs[0]
	var addrs []string
	for _, ing := range s.Status.LoadBalancer.Ingress {
		if ing.IP != "" {
			addrs = append(addrs, ing.IP)
		}
		if ing.Hostname != "" {
			addrs = append(addrs, ing.Hostname)
		}
	}
	c := check.Check{ID: "ingress.loadbalancer", Category: CategoryIngress, Status: check.Pass,
		Message: fmt.Sprintf("Service %s has the address %s", s.Name, strings.Join(addrs, ", "))}
	if len(addrs) == 0 {
		c.Status = check.Fail
		c.Message = fmt.Sprintf("Service %s has no load balancer address yet", s.Name)
		c.Remediation = "check the cloud load balancer controller and the Service's events"
	}
	d.Add(c)
	have := map[int32]bool{}
	var ports []string
	for _, p := range s.Spec.Ports {
		if p.Protocol == "" || p.Protocol == corev1.ProtocolTCP {
			have[p.Port] = true
			ports = append(ports, strconv.Itoa(int(p.Port)))
		}
	}
	var missing []string
	for _, p := range InboundPorts {
		if !have[p] {
			missing = append(missing, strconv.Itoa(int(p)))
		}
	}
	pc := check.Check{ID: "ingress.ports", Category: CategoryIngress, Status: check.Pass,
		Message: fmt.Sprintf("Service %s exposes TCP %s, every inbound port of the prerequisites", s.Name, strings.Join(ports, ", "))}
	if len(missing) > 0 {
		pc.Status = check.Warn
		pc.Message = fmt.Sprintf("Service %s exposes TCP %s but not %s (base stations and users need 443, 3001, 3101, 3002, 2022)", s.Name, strings.Join(ports, ", "), strings.Join(missing, ", "))
		pc.Remediation = "set the ingress-nginx tcp ports in the values of tpe-controllers"
	}
	d.Add(pc)
}

func (d *Dashboard) backup(cfg Config, in *inputs) {
	if err := in.errs["cronjobs"]; err != nil {
		d.Add(unreadable("backup.cronjob", CategoryBackup, "cronjobs", cfg.Namespace, err))
		return
	}
	var cj *batchv1.CronJob
	for i := range in.cronJobs {
		if strings.Contains(in.cronJobs[i].Name, "backup") {
			cj = &in.cronJobs[i]
			break
		}
	}
	if cj == nil {
		d.Add(check.Check{ID: "backup.cronjob", Category: CategoryBackup, Status: check.Warn,
			Message:     "no backup CronJob: scheduled backups are not configured",
			Remediation: "set global.backup.schedule and the backup storage in the values of the tpe release"})
		return
	}
	now := cfg.Now()
	c := check.Check{ID: "backup.cronjob", Category: CategoryBackup, Status: check.Pass}
	sched := fmt.Sprintf("CronJob %s (schedule %q)", cj.Name, cj.Spec.Schedule)
	switch {
	case cj.Spec.Suspend != nil && *cj.Spec.Suspend:
		c.Status, c.Message = check.Warn, sched+" is suspended"
	case cj.Status.LastSuccessfulTime != nil:
		last := cj.Status.LastSuccessfulTime.UTC()
		d.LastSuccessfulBackup = &last
		age := now.Sub(cj.Status.LastSuccessfulTime.Time)
		c.Message = fmt.Sprintf("%s: last successful backup %s ago (%s)", sched, shortDur(age), cj.Status.LastSuccessfulTime.UTC().Format(time.RFC3339))
		if age > 48*time.Hour {
			c.Status = check.Warn
			c.Remediation = "the last successful backup is more than 2 days old: check the backup Jobs' logs"
		}
	default:
		c.Status, c.Message = check.Warn, sched+": no successful run yet"
		c.Remediation = "check the logs of the backup Jobs, or run a backup now"
	}
	if in.errs["jobs"] == nil {
		var lastFailed *batchv1.Job
		for i := range in.jobs {
			j := &in.jobs[i]
			if !ownedBy(j.OwnerReferences, cj.Name) {
				continue
			}
			for _, cond := range j.Status.Conditions {
				if cond.Type == batchv1.JobFailed && cond.Status == corev1.ConditionTrue &&
					(lastFailed == nil || j.CreationTimestamp.After(lastFailed.CreationTimestamp.Time)) {
					lastFailed = j
				}
			}
		}
		if lastFailed != nil && (cj.Status.LastSuccessfulTime == nil || lastFailed.CreationTimestamp.After(cj.Status.LastSuccessfulTime.Time)) {
			c.Status = check.Warn
			c.Details = append(c.Details, fmt.Sprintf("the latest backup Job %s failed", lastFailed.Name))
		}
	}
	d.Add(c)
}
