package netprobe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

func TestTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	open := ln.Addr().String()
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln2.Addr().String()
	ln2.Close()
	t.Cleanup(func() { ln.Close() })

	tests := []struct {
		name, addr string
		ok         bool
	}{{"open", open, true}, {"closed", closed, false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := TCP(t.Context(), nil, tt.addr, time.Second)
			if o.OK != tt.ok || !strings.Contains(o.Message, tt.addr) {
				t.Errorf("TCP(%s) = %+v", tt.addr, o)
			}
		})
	}
}

func TestHostPort(t *testing.T) {
	tests := []struct{ in, def, want string }{
		{"https://idp.example.com/realms/tpe", "443", "idp.example.com:443"},
		{"http://minio.tools.svc:9000", "443", "minio.tools.svc:9000"},
		{"smtp.example.com", "25", "smtp.example.com:25"},
		{"smtp.example.com:587", "25", "smtp.example.com:587"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got, err := HostPort(tt.in, tt.def); err != nil || got != tt.want {
				t.Errorf("HostPort(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestHTTPGet(t *testing.T) {
	const secret = "installation-id-secret"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != secret || p != secret {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("apiVersion: v1\n"))
	}))
	defer srv.Close()
	tests := []struct {
		name, user string
		ok         bool
		mention    string
	}{
		{"good id", secret, true, "200"},
		{"bad id", "wrong", false, "credentials were refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := HTTPGet(t.Context(), nil, srv.URL+"/index.yaml", tt.user, tt.user, time.Second)
			if o.OK != tt.ok || !strings.Contains(o.Message, tt.mention) || strings.Contains(o.Message, secret) {
				t.Errorf("HTTPGet = %+v", o)
			}
		})
	}
}

func TestS3Bucket(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("tpe-backup"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	defer srv.Close()
	endpoint := strings.TrimPrefix(srv.URL, "http://")
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()

	b := func(bucket string) values.Backup {
		return values.Backup{Path: "global.backup", Kind: values.BackupS3Compat, URL: srv.URL, Bucket: bucket,
			AccessKey: "AKIAEXAMPLEKEY", SecretAccessKey: "very-secret-key"}
	}
	tests := []struct {
		name     string
		b        values.Backup
		endpoint string
		ok       bool
		mention  string
	}{
		{"reachable", b("tpe-backup"), "", true, "is reachable"},
		{"missing bucket", b("nope"), "", false, `bucket "nope" does not exist`},
		{"unreachable", b("tpe-backup"), dead, false, "not reachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := tt.endpoint
			o, skipped := S3Bucket(t.Context(), tt.b, ep, false, 2*time.Second)
			if skipped || o.OK != tt.ok || !strings.Contains(o.Message, tt.mention) {
				t.Errorf("S3Bucket = %+v (endpoint %s)", o, endpoint)
			}
			if strings.Contains(o.Message, "very-secret-key") || strings.Contains(o.Message, "AKIAEXAMPLEKEY") {
				t.Errorf("credential leaked: %s", o.Message)
			}
		})
	}
	t.Run("amazon iam role is not probed", func(t *testing.T) {
		_, skipped := S3Bucket(t.Context(), values.Backup{Kind: values.BackupAmazon, Bucket: "b", Region: "eu-west-1"}, "", true, time.Second)
		if !skipped {
			t.Error("want skipped")
		}
	})
}

func TestAzureContainer(t *testing.T) {
	const secret = "sp-client-secret"
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
			_ = r.ParseForm()
			if r.Form.Get("client_secret") != secret {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
				return
			}
			_, _ = w.Write([]byte(`{"access_token":"tok","expires_in":3600}`))
		case r.URL.Path == "/tpe-backup" && r.Header.Get("Authorization") == "Bearer tok":
			w.Header().Set("x-ms-version", "2023-11-03")
			w.WriteHeader(http.StatusOK)
		default:
			w.Header().Set("x-ms-error-code", "ContainerNotFound")
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	b := values.Backup{Path: "global.backup", Kind: values.BackupAzure, StorageAccount: "acct", BlobContainer: "tpe-backup",
		TenantID: "tenant", ClientID: "client", ClientSecret: secret}
	tests := []struct {
		name      string
		container string
		secret    string
		ok        bool
		mention   string
	}{
		{"reachable", "tpe-backup", secret, true, "is reachable"},
		{"missing container", "other", secret, false, "does not exist"},
		{"bad secret", "tpe-backup", "wrong", false, "cannot sign in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bb := b
			bb.BlobContainer, bb.ClientSecret = tt.container, tt.secret
			o := AzureContainer(t.Context(), bb, AzureTarget{AuthorityHost: srv.URL, ContainerURL: srv.URL + "/" + tt.container, HTTPClient: srv.Client()}, 2*time.Second)
			if o.OK != tt.ok || !strings.Contains(o.Message, tt.mention) || strings.Contains(o.Message, tt.secret) {
				t.Errorf("AzureContainer = %+v", o)
			}
		})
	}
}

func testNet() NetworkTest {
	return NetworkTest{Namespace: "tpe", Image: "example/iperf3:1", Zones: []string{"zone-a", "zone-b", "zone-c"}, RunID: "r1", Seconds: 3, Timeout: time.Minute}
}

func TestPodSpecs(t *testing.T) {
	n := testNet()
	s := n.ServerPod("zone-a")
	c := n.ClientPod("zone-b", "zone-a", "10.0.0.7")
	tests := []struct {
		name string
		pod  *corev1.Pod
		zone string
		args string
	}{
		{"server", s, "zone-a", "-s -p 5201"},
		{"client", c, "zone-b", "-c 10.0.0.7 -p 5201 -J -t 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.pod
			if p.Spec.NodeSelector[LabelZone] != tt.zone || p.Labels[LabelRun] != "r1" || p.Namespace != "tpe" {
				t.Errorf("pinning/labels: %v %v", p.Spec.NodeSelector, p.Labels)
			}
			ct := p.Spec.Containers[0]
			if ct.Image != "example/iperf3:1" || strings.Join(ct.Args, " ") != tt.args {
				t.Errorf("container %s %v", ct.Image, ct.Args)
			}
			if p.Spec.RestartPolicy != corev1.RestartPolicyNever || !*p.Spec.SecurityContext.RunAsNonRoot || *ct.SecurityContext.AllowPrivilegeEscalation {
				t.Error("probe pods must not restart and must run unprivileged")
			}
			if p.Spec.ActiveDeadlineSeconds == nil || *p.Spec.ActiveDeadlineSeconds < 60 {
				t.Error("probe pods need a deadline so they die even if the CLI is killed")
			}
		})
	}
}

func TestCleanup(t *testing.T) {
	n := testNet()
	other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "lrc-0", Namespace: "tpe"}}
	c := fake.NewClientset(n.ServerPod("zone-a"), n.ServerPod("zone-b"), n.ClientPod("zone-a", "zone-b", "1.2.3.4"), other)
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // Ctrl-C already happened
	if err := Cleanup(ctx, c, "tpe", "r1"); err != nil {
		t.Fatal(err)
	}
	pods, _ := c.CoreV1().Pods("tpe").List(t.Context(), metav1.ListOptions{})
	if len(pods.Items) != 1 || pods.Items[0].Name != "lrc-0" {
		t.Errorf("after cleanup: %v", pods.Items)
	}
}

func TestRunCleansUpOnCancel(t *testing.T) {
	n := testNet()
	c := fake.NewClientset()
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		// Cancel once the server pods exist (they never run on a fake clientset).
		for {
			pods, _ := c.CoreV1().Pods("tpe").List(t.Context(), metav1.ListOptions{})
			if len(pods.Items) == 3 {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	res, err := Run(ctx, c, n)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != check.Fail || !strings.Contains(strings.Join(res.Details, " "), "interrupted") {
		t.Errorf("Run = %+v", res)
	}
	pods, _ := c.CoreV1().Pods("tpe").List(t.Context(), metav1.ListOptions{})
	if len(pods.Items) != 0 {
		t.Errorf("%d probe pods left after cancel", len(pods.Items))
	}
}

func TestRunTimeoutNamesZones(t *testing.T) {
	n := testNet()
	n.Timeout = 100 * time.Millisecond
	c := fake.NewClientset()
	res, err := Run(t.Context(), c, n)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != check.Fail || !strings.Contains(strings.Join(res.Details, " "), "never ran in zone(s) zone-a, zone-b, zone-c") {
		t.Errorf("Run = %+v", res)
	}
	if pods, _ := c.CoreV1().Pods("tpe").List(t.Context(), metav1.ListOptions{}); len(pods.Items) != 0 {
		t.Errorf("%d probe pods left", len(pods.Items))
	}
}

const iperfOK = `{"start":{},"end":{"streams":[{"sender":{"mean_rtt":850}}],"sum_received":{"bits_per_second":9.4e9}}}`
const iperfSlow = `{"end":{"streams":[{"sender":{"mean_rtt":14000}}],"sum_received":{"bits_per_second":4.0e8}}}`

func TestParseAndJudge(t *testing.T) {
	ok, err := ParseIperf([]byte(iperfOK))
	if err != nil || ok.RTT != 850*time.Microsecond || ok.BitsPerSecond != 9.4e9 {
		t.Fatalf("ParseIperf = %+v %v", ok, err)
	}
	slow, _ := ParseIperf([]byte(iperfSlow))
	for _, bad := range []string{`not json`, `{"error":"unable to connect to server"}`, `{"end":{}}`} {
		if _, err := ParseIperf([]byte(bad)); err == nil {
			t.Errorf("ParseIperf(%s) must fail", bad)
		}
	}
	a, b := ok, slow
	a.From, a.To, b.From, b.To = "zone-a", "zone-b", "zone-b", "zone-c"
	tests := []struct {
		name     string
		ms       []Measurement
		problems []string
		want     check.Status
		mention  string
	}{
		{"fast", []Measurement{a}, nil, check.Pass, "1 zone pair"},
		{"slow", []Measurement{a, b}, nil, check.Fail, "zone-b → zone-c"},
		{"incomplete", []Measurement{a}, []string{"timed out"}, check.Fail, "did not complete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Judge(tt.ms, tt.problems)
			if c.Status != tt.want || !strings.Contains(c.Message, tt.mention) {
				t.Errorf("Judge = %+v", c)
			}
		})
	}
	if c := Judge([]Measurement{b}, nil); !strings.Contains(strings.Join(c.Details, ""), "latency ≥ 10 ms, bandwidth < 1 Gbps") {
		t.Errorf("details %v", c.Details)
	}
}
