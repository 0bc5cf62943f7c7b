// Package redact keeps secrets (the installation ID, which is the password of the vendor's chart
// repository, cloud credentials, private keys, passwords) out of everything helm tpe and kubectl
// tpe print, log or record: Mask shows a secret as "****" and its last characters, a Redactor
// replaces known secrets in text and errors, in the forms charts spread them (as they are,
// base64-encoded, JSON- or URL-escaped, one line of a re-indented PEM key at a time).
// FromValues finds the secrets of a values tree.
package redact

import (
	"errors"
	"sort"
	"strings"
)

// Redactor removes secrets from text before it is shown.
type Redactor struct {
	secrets []string
	rep     *strings.Replacer
}

// New returns a Redactor that hides every non-empty secret: the secret itself becomes Mask(secret)
// ("****" and its last 4 characters, as `helm tpe repo add` shows the installation ID), and the
// other forms of it (Variants) become "****".
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	var rules []rule
	for _, s := range secrets {
		if strings.TrimSpace(s) == "" {
			continue
		}
		r.secrets = append(r.secrets, s)
		rules = append(rules, rule{s, Mask(s)})
		for _, v := range Variants(s) {
			rules = append(rules, rule{v.Text, "****"})
		}
	}
	r.rep = build(rules)
	return r
}

// NewTagged returns a Redactor that replaces every secret, in every form Variants knows, with its
// Tag: the values key it came from and a short hash that is the same wherever the value appears
// in this process (both sides of a diff), so a change shows without the value.
func NewTagged(secrets []Secret) *Redactor {
	r := &Redactor{}
	var rules []rule
	for _, s := range dedup(append([]Secret(nil), secrets...)) {
		if strings.TrimSpace(s.Value) == "" {
			continue
		}
		r.secrets = append(r.secrets, s.Value)
		rules = append(rules, rule{s.Value, Tag(s, "")})
		for _, v := range Variants(s.Value) {
			rules = append(rules, rule{v.Text, Tag(s, v.Form)})
		}
	}
	r.rep = build(rules)
	return r
}

type rule struct{ old, new string }

// build makes one replacer; longer needles first, so a whole secret wins over one of its lines.
func build(rules []rule) *strings.Replacer {
	sort.SliceStable(rules, func(i, j int) bool { return len(rules[i].old) > len(rules[j].old) })
	seen := map[string]bool{}
	args := make([]string, 0, 2*len(rules))
	for _, r := range rules {
		if r.old == "" || seen[r.old] {
			continue
		}
		seen[r.old] = true
		args = append(args, r.old, r.new)
	}
	if len(args) == 0 {
		return nil
	}
	return strings.NewReplacer(args...)
}

// String returns s with every secret replaced.
func (r *Redactor) String(s string) string {
	if r == nil || r.rep == nil {
		return s
	}
	return r.rep.Replace(s)
}

// Error returns err with secrets removed from its message (the chain is not kept: a wrapped
// error could print the secret again).
func (r *Redactor) Error(err error) error {
	if err == nil || r == nil || r.rep == nil {
		return err
	}
	msg := err.Error()
	if red := r.String(msg); red != msg {
		return errors.New(red)
	}
	return err
}

// Secrets returns the secrets the Redactor hides (to hand them to another Redactor).
func (r *Redactor) Secrets() []string {
	if r == nil {
		return nil
	}
	return append([]string(nil), r.secrets...)
}

// Mask shows at most the last 4 characters of a secret ("****abcd"); short secrets are hidden.
func Mask(s string) string {
	if len(s) <= 8 {
		return "****"
	}
	return "****" + s[len(s)-4:]
}
