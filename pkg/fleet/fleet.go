// Package fleet runs one read-only use case (status, preflight, plan) over many TPE
// installations at once: it resolves the installations (kubeconfig contexts, every context, or a
// fleet file), connects to each with the user's own kubeconfig credentials, and runs a function
// per installation concurrently, with a bound and a time limit per installation. An installation
// that cannot be read (no answer, credentials refused, forbidden, too slow) is one result with
// its error, never a failure of the whole run.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/thingpark-tools/kubectl-tpe/pkg/input"
)

// Installation is one TPE installation: a kubeconfig context and the namespace TPE runs in.
type Installation struct {
	// Name is how the installation is shown (the context name unless the fleet file names it).
	Name string `json:"name"`
	// Kubeconfig is the kubeconfig file ("": KUBECONFIG, else ~/.kube/config, as kubectl).
	Kubeconfig string `json:"kubeconfig,omitempty"`
	// Context is the kubeconfig context ("": the kubeconfig's current context).
	Context string `json:"context,omitempty"`
	// Namespace is the TPE namespace ("": the context's, else thingpark-enterprise).
	Namespace string `json:"namespace,omitempty"`
}

// File is the fleet file: a list of installations.
//
//	installations:
//	- name: prod-eu
//	  kubeconfig: ~/.kube/prod.yaml
//	  context: prod-eu-admin
//	  namespace: thingpark-enterprise
type File struct {
	Installations []Installation `json:"installations"`
}

// FileKind is the fleet file as an input (size cap, name in messages).
var FileKind = input.Kind{Name: "fleet file", Max: 1 << 20}

// Selection says which installations a command looks at; one of Contexts, AllContexts and File.
type Selection struct {
	// Contexts are kubeconfig context names.
	Contexts []string
	// AllContexts takes every context of the kubeconfig.
	AllContexts bool
	// File is the path of a fleet file.
	File string
	// Kubeconfig is the command's kubeconfig file ("": KUBECONFIG, else ~/.kube/config); a fleet
	// file's entry without a kubeconfig uses it too.
	Kubeconfig string
	// Namespace is the namespace given on the command line: the namespace of every installation
	// that names none ("": the context's).
	Namespace string
}

// Active reports whether the selection names several installations (or a fleet file), as
// opposed to the single-cluster form (no context or one).
func (s Selection) Active() bool {
	return s.AllContexts || s.File != "" || len(s.Contexts) > 1
}

// InputError is a selection that names no usable installation: Input says which input ("the
// fleet file x.yaml", "the kubeconfig"), Problem what is wrong with it.
type InputError struct {
	Input   string
	Problem string
	Err     error
}

func (e *InputError) Error() string {
	msg := e.Input + ": " + e.Problem
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *InputError) Unwrap() error { return e.Err }

// Resolve lists the installations of a selection, in the order given (every context: sorted by
// name). Only the fleet file and, for AllContexts, the kubeconfig are read; a context missing
// from its kubeconfig is reported by Run, as that installation's error.
func Resolve(ctx context.Context, sel Selection) ([]Installation, error) {
	var out []Installation
	switch {
	case sel.File != "":
		var err error
		if out, err = LoadFile(ctx, sel.File); err != nil {
			return nil, err
		}
		for i := range out {
			if out[i].Kubeconfig == "" {
				out[i].Kubeconfig = sel.Kubeconfig
			}
			if out[i].Namespace == "" {
				out[i].Namespace = sel.Namespace
			}
		}
		return out, nil
	case sel.AllContexts:
		raw, err := loadingRules(sel.Kubeconfig).Load()
		if err != nil {
			return nil, &InputError{Input: kubeconfigName(sel.Kubeconfig), Problem: "cannot be read", Err: err}
		}
		names := make([]string, 0, len(raw.Contexts))
		for n := range raw.Contexts {
			names = append(names, n)
		}
		sort.Strings(names)
		if len(names) == 0 {
			return nil, &InputError{Input: kubeconfigName(sel.Kubeconfig), Problem: "names no context"}
		}
		sel.Contexts = names
	}
	seen := map[string]bool{}
	for _, c := range sel.Contexts {
		if c == "" || seen[c] {
			continue
		}
		seen[c] = true
		out = append(out, Installation{Name: c, Kubeconfig: sel.Kubeconfig, Context: c, Namespace: sel.Namespace})
	}
	if len(out) == 0 {
		return nil, &InputError{Input: "the selection", Problem: "names no installation"}
	}
	return out, nil
}

// LoadFile reads a fleet file. A relative kubeconfig path is taken from the fleet file's
// directory, "~/" from the home directory. Names default to the context (else the kubeconfig's
// file name) and must be unique.
func LoadFile(ctx context.Context, path string) ([]Installation, error) {
	data, err := input.ReadFile(ctx, FileKind, path)
	if err != nil {
		return nil, err
	}
	bad := func(problem string, err error) error {
		return &InputError{Input: "the fleet file " + path, Problem: problem, Err: err}
	}
	var f File
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, bad("is not a list of installations (installations: [{name, kubeconfig, context, namespace}])", err)
	}
	if len(f.Installations) == 0 {
		return nil, bad("lists no installation (installations: [{name, kubeconfig, context, namespace}])", nil)
	}
	dir := filepath.Dir(path)
	seen := map[string]int{}
	for i := range f.Installations {
		in := &f.Installations[i]
		in.Kubeconfig = expand(in.Kubeconfig, dir)
		if in.Name == "" {
			switch {
			case in.Context != "":
				in.Name = in.Context
			case in.Kubeconfig != "":
				in.Name = strings.TrimSuffix(filepath.Base(in.Kubeconfig), filepath.Ext(in.Kubeconfig))
			default:
				return nil, bad(fmt.Sprintf("installation %d has no name, context or kubeconfig", i+1), nil)
			}
		}
		if j, dup := seen[in.Name]; dup {
			return nil, bad(fmt.Sprintf("installations %d and %d are both named %q: give each a unique name", j+1, i+1, in.Name), nil)
		}
		seen[in.Name] = i
	}
	return f.Installations, nil
}

func expand(p, dir string) string {
	switch {
	case p == "":
		return ""
	case strings.HasPrefix(p, "~/"):
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	case !filepath.IsAbs(p):
		return filepath.Join(dir, p)
	}
	return p
}

func loadingRules(kubeconfig string) *clientcmd.ClientConfigLoadingRules {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	return rules
}

func kubeconfigName(kubeconfig string) string {
	if kubeconfig != "" {
		return "the kubeconfig " + kubeconfig
	}
	if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
		return "the kubeconfig of KUBECONFIG=" + env
	}
	return "the kubeconfig " + clientcmd.RecommendedHomeFile
}

// errNoContext is a context its kubeconfig does not have.
var errNoContext = errors.New("no such context")
