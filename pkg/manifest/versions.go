package manifest

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
)

// VERSIONS variable names.
const (
	VarDataControllers        = "THINGPARK_DATA_CONTROLLERS_VERSION"
	VarData                   = "THINGPARK_DATA_VERSION"
	VarApplicationControllers = "THINGPARK_APPLICATION_CONTROLLERS_VERSION"
	VarEnterpriseControllers  = "THINGPARK_ENTERPRISE_CONTROLLERS_VERSION"
	VarEnterprise             = "THINGPARK_ENTERPRISE_VERSION"
)

var (
	assignRe = regexp.MustCompile(`^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)
	semverRe = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$`)
)

// ParseError is an error at a line of a VERSIONS file.
type ParseError struct {
	File string
	Line int
	Msg  string
}

// Error implements error.
func (e *ParseError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// IsSemver reports whether v is a semantic version (without a leading v).
func IsSemver(v string) bool { return semverRe.MatchString(v) }

// ParseVersions parses a VERSIONS file as the vendor writes it: shell assignments, optionally
// quoted or exported, with comments and blank lines. name is used in errors (the file path).
// The returned release is named name's release if the caller sets it; its Name is empty.
func ParseVersions(name string, data []byte) (Release, error) {
	perr := func(line int, format string, a ...any) error {
		return &ParseError{File: name, Line: line, Msg: fmt.Sprintf(format, a...)}
	}
	values := map[string]string{}
	lines := map[string]int{}
	content := strings.TrimPrefix(string(data), "\ufeff")
	rawLines := strings.Split(content, "\n")
	last := len(rawLines)
	if last > 1 && rawLines[last-1] == "" {
		last-- // the final newline does not start a line
	}
	for i, raw := range rawLines {
		n := i + 1
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := assignRe.FindStringSubmatch(line)
		if m == nil {
			return Release{}, perr(n, "expected VARIABLE=version, got %q", text.Truncate(line, 60))
		}
		key, val := m[1], strings.TrimSpace(m[2])
		val, err := unquote(val)
		if err != nil {
			return Release{}, perr(n, "%s: %v", key, err)
		}
		switch key {
		case VarDataControllers, VarData, VarApplicationControllers, VarEnterpriseControllers, VarEnterprise:
		default:
			return Release{}, perr(n, "unknown variable %s (a VERSIONS file sets %s, %s, %s or %s, and %s)",
				key, VarDataControllers, VarData, VarApplicationControllers, VarEnterpriseControllers, VarEnterprise)
		}
		if prev, dup := lines[key]; dup {
			return Release{}, perr(n, "%s is set twice (first on line %d)", key, prev)
		}
		if !IsSemver(val) {
			return Release{}, perr(n, "%s=%q is not a semantic version (want e.g. 1.4.1)", key, val)
		}
		values[key], lines[key] = val, n
	}
	_, hasApp := values[VarApplicationControllers]
	_, hasEnt := values[VarEnterpriseControllers]
	if hasApp && hasEnt {
		return Release{}, perr(lines[VarEnterpriseControllers], "%s and %s are both set (line %d); a release has one of them: %s up to 7.2.1, %s from 7.2.2",
			VarEnterpriseControllers, VarApplicationControllers, lines[VarApplicationControllers], VarEnterpriseControllers, VarApplicationControllers)
	}
	var missing []string
	for _, k := range []string{VarDataControllers, VarData, VarEnterprise} {
		if _, ok := values[k]; !ok {
			missing = append(missing, k)
		}
	}
	if !hasApp && !hasEnt {
		missing = append(missing, VarApplicationControllers+" (or "+VarEnterpriseControllers+" before 7.2.2)")
	}
	if len(missing) > 0 {
		// A missing variable has no line of its own: point at the end of the file, where it belongs.
		return Release{}, perr(last, "missing %s (the file ends here)", strings.Join(missing, ", "))
	}
	return Release{
		DataControllers:        values[VarDataControllers],
		Data:                   values[VarData],
		ApplicationControllers: values[VarApplicationControllers],
		EnterpriseControllers:  values[VarEnterpriseControllers],
		Enterprise:             values[VarEnterprise],
		Source:                 name,
	}, nil
}

// FormatVersions writes r as a VERSIONS file exactly in the vendor's format.
func FormatVersions(r Release) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s=%s\n%s=%s\n", VarDataControllers, r.DataControllers, VarData, r.Data)
	if r.ApplicationControllers != "" {
		fmt.Fprintf(&b, "%s=%s\n", VarApplicationControllers, r.ApplicationControllers)
	} else {
		fmt.Fprintf(&b, "%s=%s\n", VarEnterpriseControllers, r.EnterpriseControllers)
	}
	fmt.Fprintf(&b, "%s=%s\n", VarEnterprise, r.Enterprise)
	return b.String()
}

func unquote(v string) (string, error) {
	// A trailing comment after an unquoted value: 1.2.3 # note
	if len(v) > 0 && v[0] != '"' && v[0] != '\'' {
		if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		if strings.ContainsAny(v, " \t\"'$`") {
			return "", fmt.Errorf("value %q has spaces, quotes or shell expansions", text.Truncate(v, 60))
		}
		return v, nil
	}
	if v == "" {
		return "", nil
	}
	q := v[0]
	end := strings.IndexByte(v[1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated quote in %q", text.Truncate(v, 60))
	}
	rest := strings.TrimSpace(v[end+2:])
	if rest != "" && !strings.HasPrefix(rest, "#") {
		return "", fmt.Errorf("unexpected text %q after the quoted value", text.Truncate(rest, 60))
	}
	return v[1 : end+1], nil
}
