// Package registrytest runs a real container registry in the test process: the CNCF
// distribution registry (distribution/distribution v3) used as a Go library, on 127.0.0.1, with
// htpasswd basic auth, an optional TLS certificate from a test CA, and a log of the requests it
// served (to count blob uploads). It also builds fixture images: random layers streamed from a
// seed (never held in memory, so a 1 GiB layer costs no memory), multi-platform indexes.
package registrytest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	// The htpasswd access controller registers itself.
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	"github.com/distribution/distribution/v3/registry/handlers"
	// The filesystem storage driver registers itself.
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	// The in-memory storage driver registers itself.
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/bcrypt"
)

// Options configure a registry.
type Options struct {
	// User and Password are the one login of its htpasswd file ("" : no auth).
	User, Password string
	// TLS serves HTTPS with a certificate for 127.0.0.1 from a CA of its own (CAPEM).
	TLS bool
	// Dir is the root of the filesystem storage driver ("": in memory).
	Dir string
}

// Registry is a running registry.
type Registry struct {
	// Host is 127.0.0.1:PORT.
	Host string
	// CAPEM is the CA that signed its certificate (TLS only).
	CAPEM []byte

	srv  *httptest.Server
	app  *handlers.App
	down atomic.Bool
	// readOnly answers 403 DENIED to every write, as a registry does to an account that may only
	// pull.
	readOnly atomic.Bool
	// blobUploads counts the blob uploads finished (PUT .../blobs/uploads/...), heads the blob
	// HEADs, uploadLimit drops every request after that many uploads (-1: none).
	blobUploads, heads, requests atomic.Int64
	uploadLimit                  atomic.Int64
	mu                           sync.Mutex // guards log
	log                          []string
}

var quiet sync.Once

// Start starts a registry on 127.0.0.1.
func Start(opts Options) (*Registry, error) {
	quiet.Do(func() { logrus.SetOutput(io.Discard); logrus.SetLevel(logrus.ErrorLevel) })
	cfg := &configuration.Configuration{}
	cfg.Log.Level = "error"
	cfg.Log.AccessLog.Disabled = true
	cfg.HTTP.Secret = "registrytest"
	if opts.Dir != "" {
		cfg.Storage = configuration.Storage{"filesystem": configuration.Parameters{"rootdirectory": opts.Dir}}
	} else {
		cfg.Storage = configuration.Storage{"inmemory": configuration.Parameters{}}
	}
	cfg.Storage["maintenance"] = configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}}
	r := &Registry{}
	r.uploadLimit.Store(-1)
	if opts.User != "" {
		dir, err := os.MkdirTemp("", "registrytest-htpasswd-")
		if err != nil {
			return nil, err
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(opts.Password), bcrypt.MinCost)
		if err != nil {
			return nil, err
		}
		file := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(file, []byte(opts.User+":"+string(hash)+"\n"), 0o600); err != nil {
			return nil, err
		}
		cfg.Auth = configuration.Auth{"htpasswd": configuration.Parameters{"realm": "registrytest", "path": file}}
	}
	r.app = handlers.NewApp(context.Background(), cfg)
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	if opts.TLS {
		ca, cert, err := certificates()
		if err != nil {
			return nil, err
		}
		r.CAPEM = ca
		r.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		r.srv.StartTLS()
	} else {
		r.srv.Start()
	}
	r.Host = strings.TrimPrefix(strings.TrimPrefix(r.srv.URL, "https://"), "http://")
	return r, nil
}

func (r *Registry) serve(w http.ResponseWriter, req *http.Request) {
	if r.down.Load() {
		panic(http.ErrAbortHandler) // the connection is dropped, as by a registry gone
	}
	r.requests.Add(1)
	if r.readOnly.Load() && req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`)
		return
	}
	upload := req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/blobs/uploads/")
	if upload {
		if lim := r.uploadLimit.Load(); lim >= 0 && r.blobUploads.Load() >= lim {
			r.down.Store(true)
			panic(http.ErrAbortHandler)
		}
	}
	if req.Method == http.MethodHead && strings.Contains(req.URL.Path, "/blobs/") {
		r.heads.Add(1)
	}
	r.mu.Lock()
	r.log = append(r.log, req.Method+" "+req.URL.Path)
	r.mu.Unlock()
	rec := &status{ResponseWriter: w}
	r.app.ServeHTTP(rec, req)
	if upload && rec.code == http.StatusCreated {
		r.blobUploads.Add(1)
	}
}

type status struct {
	http.ResponseWriter
	code int
}

func (s *status) WriteHeader(c int) { s.code = c; s.ResponseWriter.WriteHeader(c) }

// Close stops the registry.
func (r *Registry) Close() {
	r.srv.Close()
	_ = r.app.Shutdown()
}

// Down makes the registry drop every connection (up false) or serve again (up true).
func (r *Registry) Down(down bool) { r.down.Store(down) }

// ReadOnly makes the registry deny every write with 403 (true) or accept writes again (false).
func (r *Registry) ReadOnly(on bool) { r.readOnly.Store(on) }

// FailAfterUploads makes the registry go down once n more blob uploads are finished (-1: never).
func (r *Registry) FailAfterUploads(n int64) {
	if n < 0 {
		r.uploadLimit.Store(-1)
		return
	}
	r.uploadLimit.Store(r.blobUploads.Load() + n)
}

// BlobUploads is the number of blob uploads the registry finished.
func (r *Registry) BlobUploads() int64 { return r.blobUploads.Load() }

// Requests is the number of requests it served.
func (r *Registry) Requests() int64 { return r.requests.Load() }

// Log returns the requests served ("METHOD /path").
func (r *Registry) Log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.log...)
}

// Client returns an HTTP client that trusts the registry's CA.
func (r *Registry) Client() *http.Client {
	if r.CAPEM == nil {
		return http.DefaultClient
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(r.CAPEM)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
}

// certificates makes a CA and a server certificate for 127.0.0.1 and localhost signed by it.
func certificates() ([]byte, tls.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "registrytest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return caPEM, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// String names the registry.
func (r *Registry) String() string { return fmt.Sprintf("registry %s", r.Host) }
