package manifest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/thingpark-tools/kubectl-tpe/pkg/input"
)

// Request is how a command names a release: a name (the target, the installed release, an
// argument), a VERSIONS file, the releases of a release bundle. The commands keep only their flag
// names for the errors; Matrix.ResolveRelease is the one rule for both plugins.
type Request struct {
	// Name is the release name given: a tag or an alias, with or without "v", in any case
	// ("V7.3.1", "7.3.4c", "v1.1.1"). Empty: File, else Default, else the newest release.
	Name string
	// File is a VERSIONS file holding the release (for a release the matrix does not know); Name,
	// when given, names it (see ReadRelease). It is read with pkg/input (capped); the read ends
	// when Context does (nil: it is not interrupted).
	File    string
	Context context.Context
	// Added are releases that complete the matrix for this request (a release bundle's), the
	// matrix's own entries winning; AddedFrom names where they come from, for the note.
	Added     []Release
	AddedFrom string
	// Default names the release when neither Name nor File is given (a bundle's target).
	Default string
	// Unnamed accepts a File whose release nothing names (a custom release, Name empty);
	// otherwise it is an *UnnamedError.
	Unnamed bool
}

// Resolution is the release a Request names, and what the user should be told about it.
type Resolution struct {
	Release Release `json:"release"`
	// Known is true when the matrix (with the Added releases) knows the release: its Kubernetes
	// range and its files in the vendor's configuration repository.
	Known bool `json:"known"`
	// Note says in one line what the name resolved to and why, when that is not plain: an alias,
	// an untagged release, a bundle's target, a file named by its charts. Empty otherwise.
	Note string `json:"note,omitempty"`
	// Matrix is the matrix the release was resolved in (with the Added releases).
	Matrix *Matrix `json:"-"`
}

// UnknownReleaseError is a well-formed release name the matrix does not know.
type UnknownReleaseError struct {
	Name  string
	Known []string
}

// Error implements error.
func (e *UnknownReleaseError) Error() string {
	return fmt.Sprintf("unknown TPE release %q: known releases are %s", e.Name, strings.Join(e.Known, ", "))
}

// NameError is a release name that is not a release tag.
type NameError struct{ Err error }

// Error implements error.
func (e *NameError) Error() string { return e.Err.Error() }

// Unwrap returns the parse error.
func (e *NameError) Unwrap() error { return e.Err }

// FileError is a VERSIONS file that cannot be read (a *ParseError when its content is wrong).
type FileError struct {
	File string
	Err  error
}

// Error implements error.
func (e *FileError) Error() string {
	var perr *ParseError
	if errors.As(e.Err, &perr) {
		return e.Err.Error()
	}
	return fmt.Sprintf("reading %s: %v", e.File, e.Err)
}

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// UnnamedError is a VERSIONS file whose charts match no known release and whose directory names
// none, when the request needs a name.
type UnnamedError struct{ File string }

// Error implements error.
func (e *UnnamedError) Error() string {
	return fmt.Sprintf("%s: the charts match no known release and its directory names none", e.File)
}

// With returns the matrix completed with releases it does not know (from: where they come from,
// their Source); m's own entries win.
func (m *Matrix) With(added []Release, from string) *Matrix {
	if len(added) == 0 {
		return m
	}
	out := &Matrix{Releases: append([]Release(nil), m.Releases...)}
	for _, r := range added {
		if _, err := r.Key(); err != nil {
			continue
		}
		if _, ok := m.Get(r.Name); ok {
			continue
		}
		if from != "" {
			r.Source = from
		}
		out.Releases = append(out.Releases, r)
	}
	sort.SliceStable(out.Releases, func(i, j int) bool { return out.Releases[i].Before(out.Releases[j]) })
	return out
}

// ResolveRelease resolves a Request: the one rule by which both plugins turn a name, a VERSIONS
// file or a bundle into a release. A well-formed name the matrix does not know is an
// *UnknownReleaseError (bad input: pass its VERSIONS file instead), a malformed one a *NameError.
func (m *Matrix) ResolveRelease(req Request) (Resolution, error) {
	mm := m.With(req.Added, req.AddedFrom)
	res := Resolution{Matrix: mm}
	var notes []string
	if req.File != "" {
		ctx := req.Context
		if ctx == nil {
			ctx = context.Background()
		}
		data, err := input.ReadFile(ctx, input.Versions, req.File)
		if err != nil {
			return res, &FileError{File: req.File, Err: err}
		}
		r, err := mm.ReadRelease(req.File, data, req.Name)
		if err != nil {
			var perr *ParseError
			if errors.As(err, &perr) {
				return res, &FileError{File: req.File, Err: err}
			}
			return res, &NameError{Err: err}
		}
		if r.Name == "" && !req.Unnamed {
			return res, &UnnamedError{File: req.File}
		}
		known, ok := mm.Get(r.Name)
		res.Known = ok && known.SameCharts(r)
		if req.Name == "" && r.Name != "" {
			notes = append(notes, fmt.Sprintf("%s holds the charts of %s", req.File, r.Name))
		} else if ok && !res.Known {
			notes = append(notes, fmt.Sprintf("%s names other charts than the known %s: the file's are used", req.File, r.Name))
		}
		res.Release, res.Note = r, strings.Join(notes, "; ")
		return res, nil
	}
	name := req.Name
	switch {
	case name == "" && req.Default != "":
		name = req.Default
		notes = append(notes, fmt.Sprintf("%s is the target of %s", normalizeName(strings.ToLower(name)), req.AddedFrom))
	case name == "":
		r, ok := mm.Newest()
		if !ok {
			return res, &UnknownReleaseError{Name: "", Known: mm.Known()}
		}
		name = r.Name
		notes = append(notes, fmt.Sprintf("%s is the newest known release", r.Name))
	}
	tag, err := ParseTag(strings.ToLower(strings.TrimSpace(name)))
	if err != nil {
		return res, &NameError{Err: err}
	}
	r, ok := mm.Get(tag.String())
	if !ok {
		return res, &UnknownReleaseError{Name: name, Known: mm.Known()}
	}
	if tag.String() != r.Name {
		notes = append(notes, fmt.Sprintf("%s is an alias of %s (the vendor renamed it)", tag, r.Name))
	}
	if !r.Tagged {
		notes = append(notes, r.Name+" has no tag in the vendor's repository: its files are read at "+strings.TrimSuffix(r.Where(), " ("+r.Name+" has no tag)"))
	}
	res.Release, res.Known, res.Note = r, true, strings.Join(notes, "; ")
	return res, nil
}

// Newest is the newest release of the newest line: its newest tagged release, else (8.0, with no
// tag) its newest.
func (m *Matrix) Newest() (Release, bool) {
	lines := m.Lines()
	if len(lines) == 0 {
		return Release{}, false
	}
	return m.LatestFix(lines[len(lines)-1])
}

// Known lists every release name the matrix accepts, tagged or not, oldest first (aliases after
// their release, "v7.3.6 (v7.3.4c)").
func (m *Matrix) Known() []string {
	var out []string
	for _, r := range m.Releases {
		n := r.Name
		if len(r.Aliases) > 0 {
			n += " (" + strings.Join(r.Aliases, ", ") + ")"
		}
		out = append(out, n)
	}
	return out
}

// InputError words an error of ResolveRelease for the command that gave the request: nameFlag
// and fileFlag are the names of its inputs ("--to", "--manifest"; fileFlag empty when the command
// takes no VERSIONS file). Other errors are returned as they are.
func InputError(err error, nameFlag, fileFlag string) error {
	var (
		unknown *UnknownReleaseError
		named   *NameError
		file    *FileError
		unnamed *UnnamedError
	)
	switch {
	case errors.As(err, &unknown) && fileFlag != "":
		return fmt.Errorf("%s: %w; for another release pass its VERSIONS file with %s", nameFlag, err, fileFlag)
	case errors.As(err, &unknown):
		return fmt.Errorf("%s: %w", nameFlag, err)
	case errors.As(err, &unnamed):
		return fmt.Errorf("%s %w: name the release with %s", fileFlag, err, nameFlag)
	case errors.As(err, &file):
		return fmt.Errorf("%s: %w", fileFlag, err)
	case errors.As(err, &named) && fileFlag != "":
		return fmt.Errorf("%s: %w (with %s, %s names the file's release)", nameFlag, err, fileFlag, nameFlag)
	case errors.As(err, &named):
		return fmt.Errorf("%s: %w", nameFlag, err)
	}
	return err
}
