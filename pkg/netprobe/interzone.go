package netprobe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
)

// Inter-zone requirements of the TPE cluster prerequisites.
const (
	MaxInterZoneRTT       = 10 * time.Millisecond
	MinInterZoneBandwidth = 1e9 // bits per second
)

// Labels of the probe pods.
const (
	LabelRun  = "tpe.thingpark.io/network-test"
	LabelRole = "tpe.thingpark.io/network-test-role"
	LabelZone = "topology.kubernetes.io/zone"
)

// DefaultNetworkTestImage is an image with iperf3 as its entrypoint's binary.
const DefaultNetworkTestImage = "docker.io/networkstatic/iperf3:latest"

// iperfPort is iperf3's default port.
const iperfPort = 5201

// NetworkTest configures the inter-zone test: one server pod per zone, then one client pod per
// ordered pair of zones that measures TCP throughput and round-trip time with iperf3 -J.
type NetworkTest struct {
	Namespace string
	Image     string
	Zones     []string
	// RunID labels every pod of one run, so clean-up removes exactly them.
	RunID string
	// Seconds is the iperf3 duration per pair.
	Seconds int
	// Timeout bounds the whole test.
	Timeout time.Duration
}

func (n NetworkTest) labels(role string) map[string]string {
	return map[string]string{LabelRun: n.RunID, LabelRole: role, "app.kubernetes.io/managed-by": "kubectl-tpe",
		"app.kubernetes.io/name": "tpe-network-test"}
}

func (n NetworkTest) podBase(name, role, zone string, args []string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: n.Namespace, Labels: n.labels(role)},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			NodeSelector:                  map[string]string{LabelZone: zone},
			AutomountServiceAccountToken:  ptr.To(false),
			TerminationGracePeriodSeconds: ptr.To[int64](0),
			ActiveDeadlineSeconds:         ptr.To(int64(max(n.Timeout.Seconds(), 60))),
			// Tolerate the optional dedicated TPE node group taint (the vendor's TPE 7.1 Kubernetes sizing).
			Tolerations: []corev1.Toleration{{Key: "thingpark.enterprise.actility.com/nodegroup-name", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](65534),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			Containers: []corev1.Container{{
				Name: "iperf3", Image: n.Image, Args: args,
				SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false),
					Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
				Resources: corev1.ResourceRequirements{},
			}},
		},
	}
}

// ServerPod is the iperf3 server pinned to zone.
func (n NetworkTest) ServerPod(zone string) *corev1.Pod {
	p := n.podBase(fmt.Sprintf("tpe-nettest-%s-srv-%s", n.RunID, dnsSafe(zone)), "server", zone, []string{"-s", "-p", fmt.Sprint(iperfPort)})
	p.Labels[LabelZone] = zone
	p.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "iperf3", ContainerPort: iperfPort, Protocol: corev1.ProtocolTCP}}
	return p
}

// ClientPod measures from zone `from` to the server at serverIP in zone `to`.
func (n NetworkTest) ClientPod(from, to, serverIP string) *corev1.Pod {
	secs := n.Seconds
	if secs <= 0 {
		secs = 5
	}
	p := n.podBase(fmt.Sprintf("tpe-nettest-%s-%s-to-%s", n.RunID, dnsSafe(from), dnsSafe(to)), "client", from,
		[]string{"-c", serverIP, "-p", fmt.Sprint(iperfPort), "-J", "-t", fmt.Sprint(secs)})
	p.Labels[LabelZone] = from
	p.Annotations = map[string]string{"tpe.thingpark.io/to-zone": to}
	return p
}

func dnsSafe(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteRune('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

// Cleanup deletes every pod of the run. It works on a context that is already cancelled
// (Ctrl-C), with its own short deadline.
func Cleanup(ctx context.Context, c kubernetes.Interface, namespace, runID string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	pods, err := c.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelRun + "=" + runID})
	if err != nil {
		return fmt.Errorf("listing the network test pods of run %s in %s: %w", runID, namespace, err)
	}
	var errs []error
	for _, p := range pods.Items {
		err := c.CoreV1().Pods(namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting pod %s/%s: %w", namespace, p.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Measurement is one iperf3 result between two zones.
type Measurement struct {
	From          string        `json:"from"`
	To            string        `json:"to"`
	BitsPerSecond float64       `json:"bitsPerSecond"`
	RTT           time.Duration `json:"rtt"`
}

// ParseIperf reads iperf3 -J output: the received throughput and the sender's mean RTT (µs).
func ParseIperf(data []byte) (Measurement, error) {
	var r struct {
		Error string `json:"error"`
		End   struct {
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
			Streams []struct {
				Sender struct {
					MeanRTT int64 `json:"mean_rtt"`
				} `json:"sender"`
			} `json:"streams"`
		} `json:"end"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return Measurement{}, fmt.Errorf("the probe output is not iperf3 JSON: %w", err)
	}
	if r.Error != "" {
		return Measurement{}, fmt.Errorf("iperf3: %s", r.Error)
	}
	if r.End.SumReceived.BitsPerSecond == 0 || len(r.End.Streams) == 0 {
		return Measurement{}, errors.New("the iperf3 output has no end summary")
	}
	var rtt int64
	for _, s := range r.End.Streams {
		rtt = max(rtt, s.Sender.MeanRTT)
	}
	return Measurement{BitsPerSecond: r.End.SumReceived.BitsPerSecond, RTT: time.Duration(rtt) * time.Microsecond}, nil
}

// Judge turns the measurements into one check: every pair below 10 ms and at least 1 Gbps.
func Judge(ms []Measurement, problems []string) check.Check {
	c := check.Check{ID: "network.inter-zone", Category: "Inter-zone network"}
	sort.Slice(ms, func(i, j int) bool { return ms[i].From+ms[i].To < ms[j].From+ms[j].To })
	var bad []string
	for _, m := range ms {
		line := fmt.Sprintf("%s → %s: RTT %s, %.2f Gbps", m.From, m.To, m.RTT.Round(10*time.Microsecond), m.BitsPerSecond/1e9)
		var why []string
		if m.RTT >= MaxInterZoneRTT {
			why = append(why, "latency ≥ 10 ms")
		}
		if m.BitsPerSecond < MinInterZoneBandwidth {
			why = append(why, "bandwidth < 1 Gbps")
		}
		if len(why) > 0 {
			line += " (" + strings.Join(why, ", ") + ")"
			bad = append(bad, fmt.Sprintf("%s → %s", m.From, m.To))
		}
		c.Details = append(c.Details, line)
	}
	c.Details = append(c.Details, problems...)
	switch {
	case len(problems) > 0:
		c.Status = check.Fail
		c.Message = fmt.Sprintf("the inter-zone network test did not complete (%d pair(s) measured)", len(ms))
		c.Remediation = "check that the probe image can be pulled and that pods can be scheduled in every zone, or verify < 10 ms and ≥ 1 Gbps between zones by hand"
	case len(bad) > 0:
		c.Status = check.Fail
		c.Message = "the TPE cluster prerequisites need < 10 ms latency and ≥ 1 Gbps between zones; not met for " + strings.Join(bad, ", ")
		c.Remediation = "place the nodes in zones of the same region with enough network bandwidth (instance types with ≥ 1 Gbps)"
	default:
		c.Status = check.Pass
		c.Message = fmt.Sprintf("%d zone pair(s): latency < 10 ms and bandwidth ≥ 1 Gbps", len(ms))
	}
	return c
}

// Run creates the probe pods, waits for the measurements and judges them. The pods are removed
// when it returns, also when ctx is cancelled. It returns one check; an error only when nothing
// could be tried.
func Run(ctx context.Context, c kubernetes.Interface, n NetworkTest) (check.Check, error) {
	if len(n.Zones) < 2 {
		return check.Check{ID: "network.inter-zone", Category: "Inter-zone network", Status: check.Skip,
			Message: fmt.Sprintf("the network test needs nodes in at least two zones, found %d", len(n.Zones))}, nil
	}
	if n.Timeout <= 0 {
		n.Timeout = 2 * time.Minute
	}
	defer func() { _ = Cleanup(ctx, c, n.Namespace, n.RunID) }()
	tctx, cancel := context.WithTimeout(ctx, n.Timeout)
	defer cancel()
	pods := c.CoreV1().Pods(n.Namespace)
	for _, z := range n.Zones {
		if _, err := pods.Create(tctx, n.ServerPod(z), metav1.CreateOptions{FieldManager: "kubectl-tpe"}); err != nil {
			return check.Check{}, fmt.Errorf("creating the network test server pod in zone %s: %w", z, err)
		}
	}
	sel := metav1.ListOptions{LabelSelector: LabelRun + "=" + n.RunID}
	w, err := pods.Watch(tctx, sel)
	if err != nil {
		return check.Check{}, fmt.Errorf("watching the network test pods: %w", err)
	}
	defer w.Stop()
	serverIP := map[string]string{}
	clients := map[string]bool{}
	done := map[string]Measurement{}
	finished := map[string]bool{}
	var problems []string
	want := len(n.Zones) * (len(n.Zones) - 1)
	for len(done)+len(problems) < want {
		var ev watch.Event
		var ok bool
		select {
		case <-tctx.Done():
			problems = append(problems, waitProblem(ctx, n.Timeout, serverIP, n.Zones))
			return Judge(measurements(done), problems), nil
		case ev, ok = <-w.ResultChan():
			if !ok {
				problems = append(problems, "the watch of the probe pods ended early")
				return Judge(measurements(done), problems), nil
			}
		}
		p, isPod := ev.Object.(*corev1.Pod)
		if !isPod {
			continue
		}
		zone := p.Labels[LabelZone]
		switch p.Labels[LabelRole] {
		case "server":
			if p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" && serverIP[zone] == "" {
				serverIP[zone] = p.Status.PodIP
				for _, from := range n.Zones {
					for _, to := range n.Zones {
						key := from + ">" + to
						if from == to || clients[key] || serverIP[to] == "" {
							continue
						}
						clients[key] = true
						if _, err := pods.Create(tctx, n.ClientPod(from, to, serverIP[to]), metav1.CreateOptions{FieldManager: "kubectl-tpe"}); err != nil {
							problems = append(problems, fmt.Sprintf("%s → %s: creating the client pod: %v", from, to, err))
						}
					}
				}
			}
		case "client":
			to := p.Annotations["tpe.thingpark.io/to-zone"]
			key := zone + ">" + to
			if finished[key] {
				continue
			}
			switch p.Status.Phase {
			case corev1.PodSucceeded, corev1.PodFailed:
				finished[key] = true
				logs, err := pods.GetLogs(p.Name, &corev1.PodLogOptions{Container: "iperf3"}).DoRaw(tctx)
				if err != nil {
					problems = append(problems, fmt.Sprintf("%s → %s: reading the probe output: %v", zone, to, err))
					continue
				}
				m, err := ParseIperf(logs)
				if err != nil {
					problems = append(problems, fmt.Sprintf("%s → %s: %v", zone, to, err))
					continue
				}
				m.From, m.To = zone, to
				done[key] = m
			}
		}
	}
	return Judge(measurements(done), problems), nil
}

func waitProblem(ctx context.Context, timeout time.Duration, serverIP map[string]string, zones []string) string {
	if ctx.Err() != nil {
		return "interrupted; the probe pods were removed"
	}
	var pending []string
	for _, z := range zones {
		if serverIP[z] == "" {
			pending = append(pending, z)
		}
	}
	if len(pending) > 0 {
		return fmt.Sprintf("timed out after %s: the probe server pods never ran in zone(s) %s", timeout, strings.Join(pending, ", "))
	}
	return fmt.Sprintf("timed out after %s waiting for the client pods to finish", timeout)
}

func measurements(m map[string]Measurement) []Measurement {
	out := make([]Measurement, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
