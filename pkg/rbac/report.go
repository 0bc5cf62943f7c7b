package rbac

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/client-go/kubernetes"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
)

// Category is the default category of the profile checks.
const Category = "RBAC"

// CheckConfig names a profile check and the subject of its remediation.
type CheckConfig struct {
	// ID and Category of the check; the defaults are "rbac.<profile>" and Category.
	ID, Category string
	// User is the subject the remediation binds ("" = a <user> placeholder).
	User string
	// RulesSource says where the admin ClusterRole's rules came from, for the message.
	RulesSource string
	// OnError is the status when the reviews cannot be made (default check.Fail; helm tpe plan
	// warns instead, so that an API hiccup does not block an upgrade).
	OnError check.Status
}

// OperatorConfig configures OperatorCheck.
type OperatorConfig struct {
	CheckConfig
	// Namespace is the TPE namespace.
	Namespace string
	// Extra are resources of the DataGroups found by discovery (group → resources), checked too.
	Extra map[string][]string
}

// OperatorCheck is the one check of the operator profile, for `kubectl tpe preflight` and
// `helm tpe plan` alike: the admin ClusterRole (read live with one request, or the embedded copy
// when the subject may not read it) plus all verbs on kafka.strimzi.io and psmdb.percona.com in
// cfg.Namespace, reviewed for r's subject with Check. See ProfileCheck for the result.
//
// When every permission of the admin ClusterRole is missing, the check says that admin is
// probably bound in another namespace or not at all, and the remediation is one RoleBinding of
// ClusterRole admin instead of a Role that copies its rules.
func OperatorCheck(ctx context.Context, kube kubernetes.Interface, r Reviewer, cfg OperatorConfig) check.Check {
	id, cat := cfg.ids(ProfileOperator)
	rules, src, err := AdminRules(ctx, kube)
	if err != nil {
		return check.Check{ID: id, Category: cat, Status: cfg.onError(), Message: err.Error(),
			Remediation: "check that the API server is reachable and healthy"}
	}
	if cfg.RulesSource == "" {
		cfg.RulesSource = src
	}
	p := OperatorProfile(cfg.Namespace, rules, cfg.Extra)
	return profileCheck(ctx, r, p, cfg.CheckConfig, RulePermissions(cfg.Namespace, rules))
}

// ProfileCheck checks profile p for r's subject and reports it as one check: pass, or fail with
// every missing permission in Details (one line each, for people) and in Items (Item objects,
// for programs), and the RBAC that grants them as the remediation. Permissions an incomplete
// rules review could not settle within MaxConfirmations make it warn.
func ProfileCheck(ctx context.Context, r Reviewer, p Profile, cfg CheckConfig) check.Check {
	return profileCheck(ctx, r, p, cfg, nil)
}

func (cfg CheckConfig) onError() check.Status {
	if cfg.OnError == "" {
		return check.Fail
	}
	return cfg.OnError
}

// agree picks the verb form for the subject: "you lack", "user x lacks".
func agree(subject, third, second string) string {
	if subject == "you" {
		return second
	}
	return third
}

func (cfg CheckConfig) ids(profile string) (id, cat string) {
	id, cat = cfg.ID, cfg.Category
	if id == "" {
		id = "rbac." + profile
	}
	if cat == "" {
		cat = Category
	}
	return id, cat
}

// profileCheck is ProfileCheck; admin are the permissions of the admin ClusterRole in the
// profile (operator profile only).
func profileCheck(ctx context.Context, r Reviewer, p Profile, cfg CheckConfig, admin []Permission) check.Check {
	id, cat := cfg.ids(p.Name)
	c := check.Check{ID: id, Category: cat}
	res, err := Check(ctx, r, p)
	if err != nil {
		c.Status, c.Message = cfg.onError(), fmt.Sprintf("cannot review the %s profile: %v", p.Name, err)
		c.Remediation = "the reviews need create on selfsubjectrulesreviews/selfsubjectaccessreviews (every authenticated user has it by default)"
		return c
	}
	where := "cluster-wide"
	if p.Namespace != "" {
		where = "in namespace " + p.Namespace
	}
	basis := ""
	if cfg.RulesSource != "" {
		basis = "; admin rules from " + cfg.RulesSource
	}
	if len(res.Missing) == 0 && len(res.Unconfirmed) == 0 {
		c.Status = check.Pass
		c.Message = fmt.Sprintf("%s %s every permission of the %s profile %s (%d permissions%s)", res.Subject, agree(res.Subject, "has", "have"), p.Name, where, len(p.Permissions), basis)
		return c
	}

	// adminAll: the whole admin ClusterRole is missing, so admin is not bound here.
	missing := map[Permission]bool{}
	for _, m := range res.Missing {
		missing[m] = true
		c.Items = append(c.Items, m.Item())
	}
	adminAll := len(admin) > 0
	inAdmin := map[Permission]bool{}
	for _, a := range admin {
		inAdmin[a] = true
		adminAll = adminAll && missing[a]
	}
	rest := res.Missing
	if adminAll {
		rest = nil
		for _, m := range res.Missing {
			if !inAdmin[m] {
				rest = append(rest, m)
			}
		}
	}

	var summary []string
	if adminAll {
		summary = append(summary, fmt.Sprintf("all %d of ClusterRole admin (admin is probably bound in another namespace or not at all)", len(admin)))
		c.Details = append(c.Details, fmt.Sprintf("every permission of ClusterRole admin %s (%d permissions, each listed in the JSON items)", where, len(admin)))
	}
	summary = append(summary, Group(rest)...)
	for _, m := range rest {
		c.Details = append(c.Details, m.String())
	}
	c.Status = check.Fail
	c.Message = fmt.Sprintf("%s %s %d of the %d permissions of the %s profile %s: %s", res.Subject, agree(res.Subject, "lacks", "lack"), len(res.Missing), len(p.Permissions), p.Name, where, summarize(summary, 4))
	if res.Inferred > 0 {
		c.Message += fmt.Sprintf(" (the rules review is incomplete: %d were confirmed with access reviews, all denied, and %d taken from the rules alone)",
			len(res.Missing)-res.Inferred, res.Inferred)
	}
	if len(res.Unconfirmed) > 0 {
		if len(res.Missing) == 0 {
			c.Status = check.Warn
			c.Message = fmt.Sprintf("%s: %d of the %d permissions of the %s profile %s are not in the rules the API server lists, and were not all confirmed", res.Subject, len(res.Unconfirmed), len(p.Permissions), p.Name, where)
		}
		c.Message += fmt.Sprintf("; %d more are not granted by the listed rules but were not confirmed (the rules review is incomplete and another authorizer grants some of them): %s",
			len(res.Unconfirmed), summarize(Group(res.Unconfirmed), 4))
		for _, u := range res.Unconfirmed {
			c.Details = append(c.Details, "not confirmed: "+u.String())
		}
	}

	grant := append(append([]Permission(nil), rest...), res.Unconfirmed...)
	var yaml []string
	if adminAll {
		yaml = append(yaml, AdminBindingYAML(p.Namespace, cfg.User))
	}
	if len(grant) > 0 {
		yaml = append(yaml, RemediationYAML(p, grant, cfg.User))
	}
	c.Remediation = "a cluster administrator can grant them with `kubectl apply -f -` of:\n" + strings.Join(yaml, "\n---\n")
	return c
}

// AdminBindingYAML renders the RoleBinding of ClusterRole admin to user in ns.
func AdminBindingYAML(ns, user string) string {
	if user == "" {
		user = "<user>"
	}
	return fmt.Sprintf("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: tpe-operator-admin\n  namespace: %s\n"+
		"roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}\n"+
		"subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: %s}]", ns, user)
}

func summarize(items []string, limit int) string {
	if len(items) <= limit {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:limit], "; ") + fmt.Sprintf("; and %d more (see details)", len(items)-limit)
}
