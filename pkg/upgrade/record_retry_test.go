package upgrade

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestStoreSaveRetriesWhileTheAPIServerIsAway: a record write that meets a restarting API server
// (connection refused, 503, then "forbidden" until RBAC is loaded) is retried; other failures
// are returned at once.
func TestStoreSaveRetriesWhileTheAPIServerIsAway(t *testing.T) {
	refused := fmt.Errorf("Put \"https://127.0.0.1:6443/...\": %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
	gr := schema.GroupResource{Resource: "configmaps"}
	tests := []struct {
		name     string
		failures []error // returned by the writes after the first successful one, in order
		first    error   // returned by the very first write (before any success)
		want     error   // nil: the save succeeds
		writes   int     // write attempts of the second save
	}{
		{name: "refused, then up", failures: []error{refused, refused}, writes: 3},
		{name: "503 then forbidden while RBAC loads", failures: []error{apierrors.NewServiceUnavailable("starting"), apierrors.NewForbidden(gr, "tpe-upgrade-progress", errors.New("RBAC: not loaded"))}, writes: 3},
		{name: "invalid is not retried", failures: []error{apierrors.NewBadRequest("bad")}, want: errors.New("bad"), writes: 1},
		{name: "forbidden before any write is not retried", first: apierrors.NewForbidden(gr, "x", errors.New("no")), want: errors.New("forbidden")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fake.NewClientset()
			var queue []error
			attempts := 0
			c.PrependReactor("*", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
				if a.GetVerb() != "create" && a.GetVerb() != "update" {
					return false, nil, nil
				}
				attempts++
				if len(queue) > 0 {
					err := queue[0]
					queue = queue[1:]
					return true, nil, err
				}
				return false, nil, nil
			})
			s := &Store{Kube: c, Namespace: "tpe", RetryFor: 10 * time.Second}
			if tt.first != nil {
				queue = []error{tt.first}
				err := s.Save(t.Context(), &Record{Target: "v7.3.1"})
				if err == nil || attempts != 1 {
					t.Fatalf("first save: %v after %d attempt(s), want one failed attempt", err, attempts)
				}
				return
			}
			if err := s.Save(t.Context(), &Record{Target: "v7.3.1"}); err != nil {
				t.Fatal(err)
			}
			queue, attempts = append([]error(nil), tt.failures...), 0
			err := s.Save(t.Context(), &Record{Target: "v7.3.1", State: RunDone})
			if (err == nil) != (tt.want == nil) || attempts != tt.writes {
				t.Fatalf("save = %v after %d attempt(s), want err %v after %d", err, attempts, tt.want, tt.writes)
			}
			if tt.want == nil {
				rec, err := (&Store{Kube: c, Namespace: "tpe"}).Load(t.Context())
				if err != nil || rec == nil || rec.State != RunDone {
					t.Errorf("record after the retries = %+v, %v", rec, err)
				}
			}
		})
	}
}
