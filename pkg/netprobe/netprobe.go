// Package netprobe makes the network probes of `kubectl tpe preflight --probe` from the
// deployment machine: TCP dials with short timeouts, HTTP(S) reachability of the chart and
// configuration repositories, and backup storage reachability with the storage's own client
// library (minio-go for S3 and S3-compatible storage, azblob for Azure Blob). It also builds,
// cleans up and judges the inter-zone probe pods of --network-test (interzone.go).
//
// No probe ever puts a credential in a message.
package netprobe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// DefaultTimeout bounds each probe.
const DefaultTimeout = 5 * time.Second

// Outcome is the result of one probe.
type Outcome struct {
	Target  string        `json:"target"`
	OK      bool          `json:"ok"`
	RTT     time.Duration `json:"rtt"`
	Message string        `json:"message"`
}

// Dialer opens TCP connections; tests replace it.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// TCP dials address ("host:port") once within timeout and closes the connection.
func TCP(ctx context.Context, d Dialer, address string, timeout time.Duration) Outcome {
	if d == nil {
		d = &net.Dialer{}
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	conn, err := d.DialContext(ctx, "tcp", address)
	o := Outcome{Target: address, RTT: time.Since(start)}
	if err != nil {
		o.Message = fmt.Sprintf("TCP connection to %s failed: %s", address, dialReason(err, timeout))
		return o
	}
	_ = conn.Close()
	o.OK = true
	o.Message = fmt.Sprintf("TCP connection to %s opened in %s", address, o.RTT.Round(time.Millisecond))
	return o
}

func dialReason(err error, timeout time.Duration) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s (filtered by a firewall?)", timeout)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// HostPort turns a URL or host[:port] into host:port, using defPort when none is given.
func HostPort(s string, defPort string) (string, error) {
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return "", fmt.Errorf("%q is not a valid URL: %w", s, err)
		}
		port := u.Port()
		if port == "" {
			switch u.Scheme {
			case "https":
				port = "443"
			case "http":
				port = "80"
			default:
				port = defPort
			}
		}
		return net.JoinHostPort(u.Hostname(), port), nil
	}
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s, nil
	}
	return net.JoinHostPort(s, defPort), nil
}

// HTTPGet fetches url once (optionally with basic auth) and judges the status code. The password
// is never part of the message.
func HTTPGet(ctx context.Context, client *http.Client, rawURL, user, password string, timeout time.Duration) Outcome {
	if client == nil {
		client = http.DefaultClient
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	o := Outcome{Target: rawURL}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		o.Message = fmt.Sprintf("%s is not a valid URL: %v", rawURL, err)
		return o
	}
	if user != "" || password != "" {
		req.SetBasicAuth(user, password)
	}
	start := time.Now()
	resp, err := client.Do(req)
	o.RTT = time.Since(start)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		o.Message = fmt.Sprintf("GET %s failed: %s", rawURL, dialReason(err, timeout))
		return o
	}
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		o.Message = fmt.Sprintf("GET %s answered %s: the credentials were refused", rawURL, resp.Status)
	case resp.StatusCode >= 400:
		o.Message = fmt.Sprintf("GET %s answered %s", rawURL, resp.Status)
	default:
		o.OK = true
		o.Message = fmt.Sprintf("GET %s answered %s in %s", rawURL, resp.Status, o.RTT.Round(time.Millisecond))
	}
	return o
}

// S3Endpoint returns the endpoint (host[:port]) and TLS flag minio-go needs for b.
func S3Endpoint(b values.Backup) (endpoint string, secure bool, err error) {
	switch b.Kind {
	case values.BackupAmazon:
		return "s3." + b.Region + ".amazonaws.com", true, nil
	case values.BackupS3Compat:
		u, err := url.Parse(b.URL)
		if err != nil || u.Host == "" {
			return "", false, fmt.Errorf("%s.s3Compat.url %q is not a URL like http://minio:9000", b.Path, b.URL)
		}
		return u.Host, u.Scheme == "https", nil
	}
	return "", false, fmt.Errorf("%s is not S3 storage", b.Kind)
}

// S3Bucket checks with minio-go that b's bucket exists and the credentials may read it. An
// empty endpoint derives it from b (tests pass the fake server's). Amazon storage without keys
// relies on the node group's IAM role, which this machine does not have: ok=false, skipped=true.
func S3Bucket(ctx context.Context, b values.Backup, endpoint string, secure bool, timeout time.Duration) (o Outcome, skipped bool) {
	if b.Kind == values.BackupAmazon && b.AccessKey == "" {
		return Outcome{Target: b.Bucket, Message: "the backup uses the EKS node group's IAM role, which this machine does not have: the bucket was not probed"}, true
	}
	if endpoint == "" {
		var err error
		if endpoint, secure, err = S3Endpoint(b); err != nil {
			return Outcome{Target: b.Bucket, Message: err.Error()}, false
		}
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	o = Outcome{Target: endpoint + "/" + b.Bucket}
	cl, err := minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(b.AccessKey, b.SecretAccessKey, ""),
		Secure: secure, Region: b.Region})
	if err != nil {
		o.Message = fmt.Sprintf("cannot build an S3 client for %s: %v", endpoint, err)
		return o, false
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	exists, err := cl.BucketExists(ctx, b.Bucket)
	o.RTT = time.Since(start)
	switch {
	case err != nil:
		resp := minio.ToErrorResponse(err)
		reason := err.Error()
		if resp.Code != "" {
			reason = resp.Code + ": " + resp.Message
		}
		if errors.Is(err, context.DeadlineExceeded) {
			reason = fmt.Sprintf("no answer within %s", timeout)
		}
		o.Message = fmt.Sprintf("bucket %q at %s is not reachable with the configured credentials: %s", b.Bucket, endpoint, scrub(reason, b))
	case !exists:
		o.Message = fmt.Sprintf("bucket %q does not exist at %s", b.Bucket, endpoint)
	default:
		o.OK = true
		o.Message = fmt.Sprintf("bucket %q at %s is reachable with the configured credentials (%s)", b.Bucket, endpoint, o.RTT.Round(time.Millisecond))
	}
	return o, false
}

// scrub removes any credential of b from s (error texts of client libraries may echo them).
func scrub(s string, b values.Backup) string {
	for _, secret := range []string{b.SecretAccessKey, b.AccessKey, b.ClientSecret, b.ClientID, b.TenantID} {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "<redacted>")
		}
	}
	return s
}
