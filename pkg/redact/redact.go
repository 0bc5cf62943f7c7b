// Package redact keeps secrets (the installation ID, which is the password of the vendor's chart
// repository, cloud credentials, private keys, passwords) out of everything helm tpe and kubectl
// tpe print, log or record: Mask shows a secret as "****" and its last characters, a Redactor
// replaces known secrets in text and errors, in the forms charts spread them (as they are,
// base64-encoded, JSON- or URL-escaped, one line of a re-indented PEM key at a time).
// FromValues finds the secrets of a values tree.
package redact

import (
	"errors"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Redactor removes secrets from text before it is shown: the secrets it was given (and those
// Add gives it later), and the credentials of every URL (URLs). A nil Redactor still masks URL
// credentials. It is safe for concurrent use.
type Redactor struct {
	mu      sync.RWMutex // guards secrets and rep (Add)
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

// Add makes r hide more secrets, as New does (a command learns the secrets of the values once it
// has read them, and its output streams hide them from then on).
func (r *Redactor) Add(secrets ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	have := map[string]bool{}
	for _, s := range r.secrets {
		have[s] = true
	}
	all := append([]string(nil), r.secrets...)
	for _, s := range secrets {
		if strings.TrimSpace(s) != "" && !have[s] {
			have[s] = true
			all = append(all, s)
		}
	}
	if len(all) == len(r.secrets) {
		return
	}
	n := New(all...)
	r.secrets, r.rep = n.secrets, n.rep
}

// String returns s with every secret replaced and the credentials of its URLs masked.
func (r *Redactor) String(s string) string {
	if r != nil {
		r.mu.RLock()
		rep := r.rep
		r.mu.RUnlock()
		if rep != nil {
			s = rep.Replace(s)
		}
	}
	return URLs(s)
}

// Holds reports whether s holds one of r's secrets, in any form it hides (URL credentials
// aside): the check of text that must not be shown at all rather than masked.
func (r *Redactor) Holds(s string) bool {
	if r == nil {
		return false
	}
	r.mu.RLock()
	rep := r.rep
	r.mu.RUnlock()
	return rep != nil && rep.Replace(s) != s
}

// Error returns err with secrets removed from its message (the chain is not kept: a wrapped
// error could print the secret again).
func (r *Redactor) Error(err error) error {
	if err == nil {
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
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]string(nil), r.secrets...)
}

// urlUserinfo is the user information of a URL ("scheme://user:password@host"): a scheme, then
// anything but a separator up to the "@" that ends the authority.
var urlUserinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)([^\s/?#@"'<>\x60]+)@`)

// URLs masks the credentials of every URL in s: "http://AKIA:SECRET@minio:9000" becomes
// "http://****:****@minio:9000" and "https://token@host" "https://****@host". A backup, chart
// repository or registry URL in values or flags is shown, its credentials never.
func URLs(s string) string {
	if !strings.Contains(s, "://") || !strings.Contains(s, "@") {
		return s
	}
	return urlUserinfo.ReplaceAllStringFunc(s, func(m string) string {
		sub := urlUserinfo.FindStringSubmatch(m)
		if strings.Contains(sub[2], ":") || strings.Contains(sub[2], "%3A") || strings.Contains(sub[2], "%3a") {
			return sub[1] + "****:****@"
		}
		return sub[1] + "****@"
	})
}

// Mask shows at most the last 4 characters of a secret ("****abcd"); short secrets are hidden.
func Mask(s string) string {
	if len(s) <= 8 {
		return "****"
	}
	return "****" + s[len(s)-4:]
}
