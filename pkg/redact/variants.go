package redact

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// Variant is one form in which a secret can appear in rendered manifests or messages.
type Variant struct {
	// Text is what to look for.
	Text string
	// Form names it in a Tag: "base64", "json", "url", "line 3", "line 3, base64".
	Form string
}

// minVariant is the shortest form that is looked for: a shorter line or base64 fragment would
// match unrelated text.
const minVariant = 8

// Variants returns the other forms of a secret a chart or an error message may hold:
//   - base64 (what b64enc gives), and the part of the base64 of any longer text that contains the
//     secret, at each of the three byte alignments (a "user:password" pair in a docker config);
//   - JSON/Go-quoted and URL-escaped, when they differ;
//   - for a multi-line value (a PEM key), the value without its surrounding blanks and each line
//     of 8 characters or more but the "-----BEGIN/END" lines, as such and base64-encoded: a chart
//     that re-indents the value (nindent, toYaml) still shows no line of it.
//
// Forms shorter than 8 characters are not looked for.
func Variants(secret string) []Variant {
	var out []Variant
	add := func(text, form string) {
		if len(text) >= minVariant && text != secret {
			out = append(out, Variant{Text: text, Form: form})
		}
	}
	b64 := func(s, form string) {
		add(base64.StdEncoding.EncodeToString([]byte(s)), join(form, "base64"))
		for k := 0; k < 3; k++ {
			for _, m := range base64Cores(s, k) {
				add(m, join(form, "base64"))
			}
		}
	}
	b64(secret, "")
	if q := strconv.Quote(secret); q[1:len(q)-1] != secret {
		add(q[1:len(q)-1], "json")
	}
	add(url.QueryEscape(secret), "url")
	add(url.PathEscape(secret), "url")
	if strings.Contains(strings.TrimSpace(secret), "\n") {
		t := strings.TrimSpace(secret)
		add(t, "")
		b64(t, "")
		n := 0
		for _, l := range strings.Split(t, "\n") {
			l = strings.TrimSpace(l)
			if l == "" {
				continue
			}
			n++
			if strings.HasPrefix(l, "-----") || len(l) < minVariant {
				continue
			}
			form := fmt.Sprintf("line %d", n)
			add(l, form)
			b64(l, form)
		}
	}
	return out
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}

// base64Cores returns the base64 characters that only depend on s when s starts k bytes (0..2)
// after a 3-byte boundary of a longer text: the encodings of s inside any base64 blob.
func base64Cores(s string, k int) []string {
	buf := append(make([]byte, k), s...)
	enc := base64.StdEncoding.EncodeToString(buf)
	start := 0
	if k > 0 {
		start = 4 // the first group mixes the k bytes before s with s
	}
	end := (len(buf) / 3) * 4 // a last partial group mixes s with what follows
	if end-start < minVariant {
		return nil
	}
	core := enc[start:end]
	out := []string{core}
	if u := strings.NewReplacer("+", "-", "/", "_").Replace(core); u != core {
		out = append(out, u)
	}
	return out
}

var (
	tagKeyOnce sync.Once
	tagKey     []byte
)

// Tag is what a Redactor of NewTagged shows instead of a secret: "<redacted PATH #1a2b3c4d>", with
// the form it was found in when it is not the value itself ("<redacted PATH #1a2b3c4d base64>").
// The hash is an HMAC under a key drawn once per process: equal values show the same tag within a
// command's output, and a tag pasted in a ticket tells nothing about the value (no dictionary
// attack on a short password).
func Tag(s Secret, form string) string {
	tagKeyOnce.Do(func() {
		tagKey = make([]byte, 32)
		_, _ = rand.Read(tagKey)
	})
	m := hmac.New(sha256.New, tagKey)
	m.Write([]byte(s.Value))
	h := hex.EncodeToString(m.Sum(nil))[:8]
	path := s.Path
	if path == "" {
		path = "secret"
	}
	if form != "" {
		return fmt.Sprintf("<redacted %s #%s %s>", path, h, form)
	}
	return fmt.Sprintf("<redacted %s #%s>", path, h)
}
