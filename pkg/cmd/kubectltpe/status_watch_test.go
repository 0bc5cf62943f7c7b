package kubectltpe

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
)

// lockedBuffer is an io.Writer safe for the watch goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex // guards b
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestStatusWatchBlocks: off a terminal, --watch prints the dashboard once, then one block per
// change, and nothing while nothing changes.
func TestStatusWatchBlocks(t *testing.T) {
	c := fake.NewClientset()
	out := &lockedBuffer{}
	o := NewStatusOptions(genericiooptions.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: &lockedBuffer{}})
	o.Client, o.Namespace, o.Watch, o.Interval = c, "tpe", true, 20*time.Millisecond
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	blocks := func() int { return strings.Count(out.String(), "TPE in namespace tpe") }
	waitFor := func(n int) {
		t.Helper()
		for blocks() < n {
			if ctx.Err() != nil {
				t.Fatalf("%d blocks, want %d:\n%s", blocks(), n, out)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(1)
	time.Sleep(200 * time.Millisecond) // ten quiet intervals
	if blocks() != 1 {
		t.Fatalf("nothing changed but %d blocks were printed:\n%s", blocks(), out)
	}
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e1", Namespace: "tpe"}, Type: corev1.EventTypeWarning, Reason: "BackOff",
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "p"}, LastTimestamp: metav1.Now()}
	if _, err := c.CoreV1().Events("tpe").Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(2)
	cancel()
	if err := <-done; cli.ExitCode(err) == cli.ExitErr {
		t.Fatal(err) // exit 2 is expected: nothing of TPE is installed in the fake namespace
	}
	if !strings.Contains(out.String(), "\n--- ") || !strings.Contains(out.String(), "1 warning event(s)") {
		t.Errorf("want a separator and the new event:\n%s", out)
	}
}

func TestStatusRedrawInPlace(t *testing.T) {
	out := &lockedBuffer{}
	o := &StatusOptions{IOStreams: genericiooptions.IOStreams{Out: out}}
	o.redraw(true, "a\nb\n")
	o.redraw(false, "c\n")
	want := "\x1b[H\x1b[2Ja\x1b[K\nb\x1b[K\n\x1b[J" + "\x1b[Hc\x1b[K\n\x1b[J"
	if out.String() != want {
		t.Errorf("redraw wrote %q, want %q", out.String(), want)
	}
}
