package redact

import "io"

// Writer returns a writer that passes everything written to it through r.String to w: the output
// streams of a command, so that nothing it prints (a table, an error, a progress line, a URL
// with credentials) shows a secret. Each Write is redacted as a whole: a secret split across two
// writes is not seen, and every printer of the plugins writes a line or a document at once.
// Writes return len(p) when w took all of the redacted text (the redacted text is not as long).
func (r *Redactor) Writer(w io.Writer) io.Writer {
	return &writer{w: w, r: r}
}

type writer struct {
	w io.Writer
	r *Redactor
}

func (s *writer) Write(p []byte) (int, error) {
	red := s.r.String(string(p))
	if _, err := io.WriteString(s.w, red); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Rewrite returns text as it reaches the end of the chain of writers: redacted, then rewritten by
// the writer underneath if it rewrites too (vocab). A writer that cuts long lines in two
// (cli.Fit) rewrites first, so that no secret is cut and missed, and no line grows afterwards.
func (s *writer) Rewrite(text string) string {
	text = s.r.String(text)
	if rw, ok := s.w.(interface{ Rewrite(string) string }); ok {
		return rw.Rewrite(text)
	}
	return text
}

// Fd returns the file descriptor of the stream written to, so that a terminal is still seen as
// one through the Writer (colour, prompts, progress); ^uintptr(0), no descriptor, for others.
func (s *writer) Fd() uintptr {
	if f, ok := s.w.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}

// Of returns the Redactor behind a Writer, nil for another writer (Add on nil does nothing): a
// command that reads values adds their secrets to the Redactor of its output streams.
func Of(w io.Writer) *Redactor {
	if s, ok := w.(*writer); ok {
		return s.r
	}
	return nil
}
