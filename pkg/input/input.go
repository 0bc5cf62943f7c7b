// Package input is the one reader of what a user hands the plugins as a file or on standard input:
// values files, VERSIONS files, certificates, image lists, saved post-upgrade dumps. Each kind has
// a size cap named in the error ("values file x.yaml is larger than 16 MiB"), so that /dev/zero, a
// FIFO or a huge file never grows the process until the kernel kills it; and every read honours
// the context, so that a FIFO with no writer, or a standard input left open, ends on Ctrl-C.
package input

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Kind is one kind of input: what it is called in messages and how large it may be.
type Kind struct {
	// Name is what the input is called in messages ("values file").
	Name string
	// Max is the largest accepted size in bytes.
	Max int64
}

// The kinds of input, with their caps. Each cap is far above any real file of its kind (a TPE
// values file is a few KiB, a VERSIONS file a few hundred bytes, the vendor's image list about
// ten KiB, a status dump of a thousand requests about a MiB) and low enough that reading up to it
// keeps the process well under 100 MiB (docs/reliability.md).
var (
	Values     = Kind{Name: "values file", Max: 8 << 20}
	Versions   = Kind{Name: "VERSIONS file", Max: 64 << 10}
	PEM        = Kind{Name: "PEM file", Max: 1 << 20}
	ImageList  = Kind{Name: "image list", Max: 4 << 20}
	StatusDump = Kind{Name: "post-upgrade status dump", Max: 8 << 20}
)

// TooLargeError is an input over the cap of its kind.
type TooLargeError struct {
	Kind Kind
	// Name names the input (a path, or "standard input").
	Name string
}

func (e *TooLargeError) Error() string {
	if e.Name == Stdin {
		return fmt.Sprintf("the %s on %s is larger than %s", e.Kind.Name, Stdin, Size(e.Kind.Max))
	}
	return fmt.Sprintf("%s %s is larger than %s", e.Kind.Name, e.Name, Size(e.Kind.Max))
}

// Stdin is how messages name standard input (Read's name).
const Stdin = "standard input"

// Size formats a cap: "16 MiB", "512 KiB", "100 bytes".
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ReadFile reads the file at path as an input of kind k. A regular file over the cap is refused
// before it is read; a device, a FIFO or a socket is read up to the cap and refused beyond it; a
// directory is refused. The read (and the open, which blocks on a FIFO until a writer comes) ends
// when ctx is done, with ctx's error.
func ReadFile(ctx context.Context, k Kind, path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			pe.Op = "open" // what the user asked for: "open x: no such file or directory"
		}
		return nil, err
	}
	switch {
	case fi.IsDir():
		return nil, fmt.Errorf("%s %s is a directory", k.Name, path)
	case fi.Mode().IsRegular() && fi.Size() > k.Max:
		return nil, &TooLargeError{Kind: k, Name: path}
	}
	var (
		mu     sync.Mutex // guards f and done
		f      *os.File
		closed bool
	)
	res := make(chan result, 1)
	go func() {
		file, err := os.Open(path)
		if err != nil {
			res <- result{err: err}
			return
		}
		mu.Lock()
		if closed {
			mu.Unlock()
			file.Close()
			return
		}
		f = file
		mu.Unlock()
		data, err := readCapped(file, k, path, fi.Size())
		file.Close()
		res <- result{data: data, err: err}
	}()
	select {
	case r := <-res:
		return r.data, r.err
	case <-ctx.Done():
		// Closing the file ends a read blocked on a FIFO or a terminal; an open still blocked
		// on a FIFO with no writer is left behind (the process is about to exit).
		mu.Lock()
		closed = true
		if f != nil {
			f.Close()
		}
		mu.Unlock()
		return nil, fmt.Errorf("reading %s %s: %w", k.Name, path, context.Cause(ctx))
	}
}

// Read reads r (standard input, named name in messages) as an input of kind k, up to the cap. It
// returns when ctx is done even if r never ends (a terminal or a pipe left open); the read it
// started is then abandoned.
func Read(ctx context.Context, k Kind, r io.Reader, name string) ([]byte, error) {
	res := make(chan result, 1)
	go func() {
		data, err := readCapped(r, k, name, 0)
		res <- result{data: data, err: err}
	}()
	select {
	case r := <-res:
		return r.data, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("reading %s from %s: %w", k.Name, name, context.Cause(ctx))
	}
}

type result struct {
	data []byte
	err  error
}

// readCapped reads at most k.Max+1 bytes. A regular file (hint: its size) is read into one
// buffer of its size; anything else in chunks, so that an input over the cap costs no more than
// the cap, without the garbage of a doubling buffer.
func readCapped(r io.Reader, k Kind, name string, hint int64) ([]byte, error) {
	lr := io.LimitReader(r, k.Max+1)
	if hint > 0 && hint <= k.Max {
		buf := make([]byte, 0, hint+1)
		for {
			n, err := lr.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			switch {
			case int64(len(buf)) > k.Max:
				return nil, &TooLargeError{Kind: k, Name: name}
			case err == io.EOF:
				return buf, nil
			case err != nil:
				return nil, fmt.Errorf("reading %s %s: %w", k.Name, name, err)
			case len(buf) == cap(buf):
				// The file grew since it was measured: go on in chunks.
				rest, err := readChunks(lr, k, name, int64(len(buf)))
				if err != nil {
					return nil, err
				}
				return append(buf, rest...), nil
			}
		}
	}
	return readChunks(lr, k, name, 0)
}

const chunkSize = 256 << 10

func readChunks(r io.Reader, k Kind, name string, already int64) ([]byte, error) {
	var chunks [][]byte
	total := already
	for {
		chunk := make([]byte, chunkSize)
		n, err := io.ReadFull(r, chunk)
		if n > 0 {
			chunks = append(chunks, chunk[:n])
			total += int64(n)
		}
		if total > k.Max {
			return nil, &TooLargeError{Kind: k, Name: name}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return bytes.Join(chunks, nil), nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s %s: %w", k.Name, name, err)
		}
	}
}
