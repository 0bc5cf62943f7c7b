// Package vocab spells, for each plugin, the commands and options that library messages name by
// key. A library package names none of our commands or flags (docs/architecture.md, "Who words a
// message"): where a remediation must point at one, it writes a key in braces, "{cmd:rollback}"
// or "{flag:resume}", and the plugin that shows the message fills it in with its Words (Fill),
// on its output streams and its errors (Writer; the roots of both trees) and in the files a
// command writes from a library's report. The table below is the one place where a command or a
// flag is spelled for the library; internal/archtest checks that every key the library uses is
// in it and that every spelling names a command or flag of the trees.
package vocab

import (
	"io"
	"regexp"
	"strings"
)

// Words maps a key ("cmd:rollback", "flag:resume") to how a plugin spells it.
type Words map[string]string

// common is what both plugins call the same.
var common = Words{
	"cmd:bundle-create": "helm tpe bundle create",
	"cmd:images":        "helm tpe images",
	"cmd:install":       "helm tpe install",
	"cmd:plan":          "helm tpe plan",
	"cmd:releases":      "helm tpe releases",
	"cmd:repo-add":      "helm tpe repo add",
	"cmd:rollback":      "helm tpe rollback",
	"cmd:upgrade":       "helm tpe upgrade",
	"cmd:values-get":    "helm tpe values get",
	"cmd:preflight":     "kubectl tpe preflight",
	"cmd:prereqs-apply": "kubectl tpe prereqs apply",
	"cmd:pum-logs":      "kubectl tpe pum logs",
	"cmd:pum-restart":   "kubectl tpe pum restart",
	"cmd:pum-status":    "kubectl tpe pum status",
	"cmd:status":        "kubectl tpe status",
	"cmd:wait":          "kubectl tpe wait",

	"flag:ack-admin-steps":      "--ack-admin-steps",
	"flag:all-charts":           "--all-charts",
	"flag:backup":               "--backup",
	"flag:chart-dir":            "--chart-dir",
	"flag:config-repo":          "--config-repo",
	"flag:from":                 "--from",
	"flag:hosting":              "--hosting",
	"flag:kube-version":         "--kube-version",
	"flag:kubeconfig":           "--kubeconfig",
	"flag:manifest":             "--manifest",
	"flag:namespace":            "-n",
	"flag:network-test":         "--network-test",
	"flag:only":                 "--only",
	"flag:output":               "-o",
	"flag:priority-class-names": "--priority-class-names",
	"flag:probe":                "--probe",
	"flag:probe-timeout":        "--probe-timeout",
	"flag:profile":              "--profile",
	"flag:registry":             "--registry",
	"flag:resume":               "--resume",
	"flag:segment":              "--segment",
	"flag:skip":                 "--skip",
	"flag:skip-backup":          "--skip-backup",
	"flag:storage-provisioner":  "--storage-provisioner",
	"flag:strict":               "--strict",
	"flag:tls-cert":             "--tls-cert",
	"flag:to":                   "--to",
	"flag:values":               "-f",
	"flag:wait":                 "--wait",
}

// Kubectl is the vocabulary of `kubectl tpe`: kubectl's --context.
var Kubectl = with(Words{"flag:context": "--context"})

// Helm is the vocabulary of `helm tpe`: Helm's global flag for the context is --kube-context.
var Helm = with(Words{"flag:context": "--kube-context"})

func with(own Words) Words {
	out := Words{}
	for k, v := range common {
		out[k] = v
	}
	for k, v := range own {
		out[k] = v
	}
	return out
}

// keyRE matches a key in a message.
var keyRE = regexp.MustCompile(`\{(?:cmd|flag):[a-z0-9-]+\}`)

// Keys returns the keys s holds ("cmd:rollback"), in order.
func Keys(s string) []string {
	var out []string
	for _, k := range keyRE.FindAllString(s, -1) {
		out = append(out, k[1:len(k)-1])
	}
	return out
}

// Fill spells every key of s it knows; an unknown key is left as it is (internal/archtest keeps
// the library to known keys).
func (w Words) Fill(s string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	return keyRE.ReplaceAllStringFunc(s, func(k string) string {
		if v, ok := w[k[1:len(k)-1]]; ok {
			return v
		}
		return k
	})
}

// Writer returns a writer that fills the keys of everything written to it before it reaches out:
// the output streams of a tree (below its redacting writer, which keeps finding its own Redactor).
// Each Write is filled as a whole; every printer of the plugins writes a line or a document at
// once, and a key holds no space, so a printer that wraps lines does not split one.
func (w Words) Writer(out io.Writer) io.Writer { return &writer{out: out, w: w} }

type writer struct {
	out io.Writer
	w   Words
}

func (s *writer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(s.out, s.w.Fill(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Fd returns the descriptor of the stream written to (a terminal stays one), ^uintptr(0) when it
// has none.
func (s *writer) Fd() uintptr {
	if f, ok := s.out.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}
