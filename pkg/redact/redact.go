// Package redact keeps secrets (the installation ID, which is the password of the vendor's chart
// repository, cloud credentials, private keys) out of everything helm tpe and kubectl tpe print,
// log or record: Mask shows a secret as "****" and its last characters, a Redactor replaces known
// secrets in text and errors.
package redact

import (
	"errors"
	"strings"
)

// Redactor removes secrets (the installation ID) from text before it is shown.
type Redactor struct{ secrets []string }

// New returns a Redactor that hides every non-empty secret.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		if strings.TrimSpace(s) != "" {
			r.secrets = append(r.secrets, s)
		}
	}
	return r
}

// String returns s with every secret replaced by "****" + its last 4 characters.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, Mask(sec))
	}
	return s
}

// Error returns err with secrets removed from its message (the chain is not kept: a wrapped
// error could print the secret again).
func (r *Redactor) Error(err error) error {
	if err == nil || r == nil || len(r.secrets) == 0 {
		return err
	}
	msg := err.Error()
	if red := r.String(msg); red != msg {
		return errors.New(red)
	}
	return err
}

// Mask shows at most the last 4 characters of a secret ("****abcd"); short secrets are hidden.
func Mask(s string) string {
	if len(s) <= 8 {
		return "****"
	}
	return "****" + s[len(s)-4:]
}
