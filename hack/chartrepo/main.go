// Command chartrepo serves the fixture TPE charts (testdata/charts at the versions of
// testdata/releases/*/VERSIONS) behind HTTP basic auth where user = password = installation ID, on
// 127.0.0.1 only. Used by `make demo`:
//
//	go run ./hack/chartrepo -addr 127.0.0.1:0 -installation-id-file F -url-file F
//
// When the installation ID file does not exist, a random ID is generated and written to it (mode
// 0600). The repository URL (http://127.0.0.1:PORT/charts) is written to -url-file and printed. The ID
// is never printed or logged.
package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/internal/chartrepo"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only; port 0 picks a free port)")
	idFile := flag.String("installation-id-file", "", "file holding the installation ID (created with a random ID if missing)")
	urlFile := flag.String("url-file", "", "write the repository URL to this file")
	charts := flag.String("charts", "testdata/charts", "fixture chart sources, one directory per chart")
	releases := flag.String("releases", "testdata/releases", "release manifests, <tag>/VERSIONS")
	fault := flag.String("fault", "none", "failure mode: none, 404, 500 or truncated-index")
	quiet := flag.Bool("quiet", false, "do not log requests")
	flag.Parse()
	if *idFile == "" {
		return errors.New("-installation-id-file is required")
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", *addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %q: the repository listens on a loopback address only (e.g. 127.0.0.1:0)", *addr)
	}
	id, err := installationID(*idFile)
	if err != nil {
		return err
	}
	faults := &chartrepo.Faults{}
	f, err := chartrepo.ParseFault(*fault)
	if err != nil {
		return fmt.Errorf("-fault: %w", err)
	}
	faults.Set(f)
	cfg := chartrepo.Config{ChartsDir: *charts, ReleasesDir: *releases, InstallationID: id, Faults: faults}
	if !*quiet {
		cfg.Logf = log.Printf
	}
	h, err := chartrepo.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String() + "/charts"
	if *urlFile != "" {
		if err := os.WriteFile(*urlFile, []byte(url+"\n"), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("chart repository at %s (user = password = the installation ID in %s)\n", url, *idFile)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() { <-sig; _ = srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func installationID(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if id == "" {
			return "", fmt.Errorf("installation ID file %s is empty", file)
		}
		return id, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	buf := make([]byte, 24)
	for i := range buf {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		buf[i] = alphabet[n.Int64()]
	}
	if err := os.WriteFile(file, append(buf, '\n'), 0o600); err != nil {
		return "", err
	}
	return string(buf), nil
}
