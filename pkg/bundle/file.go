package bundle

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ExistsError is a bundle file that exists and may not be overwritten.
type ExistsError struct{ Path string }

// Error implements error.
func (e *ExistsError) Error() string { return "the bundle file " + e.Path + " exists" }

// FileError is a bundle file that cannot be written. It names the file asked for, never the
// temporary file it is written through.
type FileError struct {
	Path string
	Err  error
}

// Error implements error.
func (e *FileError) Error() string {
	return "cannot write the bundle file " + e.Path + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// CheckTarget checks, before a bundle is built (which takes minutes), that it can be written to
// path: an existing file only when overwrite is set, in a directory that exists.
func CheckTarget(path string, overwrite bool) error {
	if _, err := os.Stat(path); err == nil && !overwrite {
		return &ExistsError{Path: path}
	}
	st, err := os.Stat(filepath.Dir(path))
	switch {
	case err != nil:
		return &FileError{Path: path, Err: cause(err)}
	case !st.IsDir():
		return &FileError{Path: path, Err: errors.New(filepath.Dir(path) + " is not a directory")}
	}
	return nil
}

// WriteFile writes a bundle file: write writes to a temporary file in path's directory, which is
// renamed to path (mode 0644) once write succeeded, so that a failed or interrupted write leaves
// no partial bundle behind. Errors of the file name path.
func WriteFile(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tpe-bundle-*")
	if err != nil {
		return &FileError{Path: path, Err: cause(err)}
	}
	defer os.Remove(tmp.Name())
	err = write(fileWriter{f: tmp, path: path})
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = &FileError{Path: path, Err: cause(cerr)}
	}
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return &FileError{Path: path, Err: cause(err)}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return &FileError{Path: path, Err: cause(err)}
	}
	return nil
}

// fileWriter reports a failed write (a full disk) as a FileError of the file asked for.
type fileWriter struct {
	f    *os.File
	path string
}

func (w fileWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		err = &FileError{Path: w.path, Err: cause(err)}
	}
	return n, err
}

// cause drops the file name from an os error (the temporary file's, or a repeat of path).
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
