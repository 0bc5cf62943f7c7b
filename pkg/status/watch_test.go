package status

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
)

// TestWatch: the dashboard of Watch equals Collect's; after the start, changes arrive by watch
// events (no list, no get) and each gives a new dashboard.
func TestWatch(t *testing.T) {
	c := client(installation(t, 3), true)
	ex := &fakeExec{stdout: pumDone}
	cfg := Config{Namespace: ns, Client: c, Exec: ex, Now: func() time.Time { return now }}
	want := collect(t, client(installation(t, 3), true), &fakeExec{stdout: pumDone})

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var mu sync.Mutex // guards got
	var got []*Dashboard
	next := make(chan *Dashboard, 100)
	errc := make(chan error, 1)
	go func() {
		errc <- Watch(ctx, cfg, WatchConfig{Interval: time.Hour, MinGap: time.Millisecond}, func(d *Dashboard) error {
			mu.Lock()
			got = append(got, d)
			mu.Unlock()
			next <- d
			return nil
		})
	}()
	first := <-next
	if first.Release.Name != want.Release.Name || first.Summary != want.Summary {
		t.Fatalf("first dashboard %s %+v, want %s %+v", first.Release.Name, first.Summary, want.Release.Name, want.Summary)
	}
	for i := range want.Checks {
		if first.Checks[i].ID != want.Checks[i].ID || first.Checks[i].Status != want.Checks[i].Status || first.Checks[i].Message != want.Checks[i].Message {
			t.Errorf("check %d: %+v, want %+v", i, first.Checks[i], want.Checks[i])
		}
	}
	startActions := len(c.Actions())

	// A warning event arrives: the events section changes, with no new list. (Its pod is not
	// among the ready ones: an event of a pod ready now is history, not a warning.)
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e1", Namespace: ns}, Type: corev1.EventTypeWarning, Reason: "BackOff",
		Message: "back-off restarting", InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "lrc-0"}, LastTimestamp: metav1.Time{Time: now.Add(-time.Minute)}}
	if _, err := c.CoreV1().Events(ns).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		d := <-next
		if e, _ := d.Find("workloads.events"); e.Status == check.Warn {
			break
		}
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	for _, a := range c.Actions()[startActions:] {
		if a.GetVerb() != "create" || a.GetResource().Resource != "events" { // the test's own create
			t.Errorf("request after the start: %s %s", a.GetVerb(), a.GetResource().Resource)
		}
	}
	lists, watches := 0, 0
	for _, a := range c.Actions()[:startActions] {
		switch a.GetVerb() {
		case "list":
			lists++
		case "watch":
			watches++
		}
	}
	if lists != 9 || watches != 9 || ex.calls != 1 {
		t.Errorf("start: %d lists, %d watches, %d execs; want 9, 9, 1", lists, watches, ex.calls)
	}
}

// TestWatchForbiddenKindIsSkipped: a kind the user may not list is skipped, not retried.
func TestWatchForbiddenKindIsSkipped(t *testing.T) {
	c := client(installation(t, 1), false)
	c.PrependReactor("list", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "", errors.New("denied"))
	})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var first *Dashboard
	err := Watch(ctx, Config{Namespace: ns, Client: c, Now: func() time.Time { return now }}, WatchConfig{}, func(d *Dashboard) error {
		first = d
		cancel()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := statusOf(t, first, "release.helm"); got.Status != check.Skip || !strings.Contains(got.Message, "you may not list") {
		t.Errorf("release.helm = %+v", got)
	}
	if got := statusOf(t, first, "workloads.ready"); got.Status != check.Pass {
		t.Errorf("workloads.ready = %+v", got)
	}
}
