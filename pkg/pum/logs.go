package pum

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
)

// LogsOptions say which logs Logs prints.
type LogsOptions struct {
	// Namespace is the TPE namespace.
	Namespace string
	// Job is the Job whose pods' logs are printed; "" means Job (pum-process).
	Job string
	// Follow streams the logs until every container stops or ctx is done.
	Follow bool
	// Since keeps only the logs newer than this duration; 0 means all.
	Since time.Duration
}

// Logs writes the logs of every container (init containers first) of every pod of the Job of
// the post-upgrade procedure to w, oldest pod first, each line prefixed with "[pod/container] ",
// as `kubectl logs jobs.batch/pum-process` does for one pod. Without Follow the containers are
// printed one after the other; with Follow their lines interleave as they come. Writes to w are
// serialized.
func Logs(ctx context.Context, c kubernetes.Interface, w io.Writer, o LogsOptions) error {
	if o.Since < 0 {
		return fmt.Errorf("since must not be negative, got %s", o.Since)
	}
	job := o.Job
	if job == "" {
		job = Job
	}
	streams, err := JobLogStreams(ctx, c, o.Namespace, job, o.Follow, o.Since)
	if err != nil {
		return err
	}
	var mu sync.Mutex // guards w and firstErr
	var wg sync.WaitGroup
	var firstErr error
	for _, s := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.Body.Close()
			sc := bufio.NewScanner(s.Body)
			sc.Buffer(make([]byte, 64*1024), 1024*1024)
			for sc.Scan() {
				mu.Lock()
				fmt.Fprintf(w, "[%s/%s] %s\n", s.Pod, s.Container, text.Safe(sc.Text()))
				mu.Unlock()
			}
			if err := sc.Err(); err != nil && ctx.Err() == nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("reading logs of %s/%s: %w", s.Pod, s.Container, err)
				}
				mu.Unlock()
			}
		}()
		if !o.Follow {
			// Without Follow print the streams one after the other, oldest pod first.
			wg.Wait()
		}
	}
	wg.Wait()
	return firstErr
}

// LogStream is the open log stream of one container.
type LogStream struct {
	Pod, Container string
	Body           io.ReadCloser
}

// JobLogStreams opens the logs of every container (init containers first) of every pod of Job
// name, oldest pod first. The caller closes every Body.
func JobLogStreams(ctx context.Context, c kubernetes.Interface, namespace, name string, follow bool, since time.Duration) ([]LogStream, error) {
	job, err := c.BatchV1().Jobs(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("job %s not found in namespace %s: the post-upgrade procedure runs after an install or upgrade of the thingpark-enterprise chart", name, namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("reading job %s/%s: %w", namespace, name, err)
	}
	sel, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
	if job.Spec.Selector == nil || err != nil || sel.Empty() {
		return nil, fmt.Errorf("job %s/%s has no usable pod selector", namespace, name)
	}
	pods, err := c.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, fmt.Errorf("listing the pods of job %s/%s: %w", namespace, name, err)
	}
	if len(pods.Items) == 0 {
		return nil, fmt.Errorf("job %s/%s has no pod (yet, or they were deleted)", namespace, name)
	}
	sort.Slice(pods.Items, func(i, j int) bool {
		return pods.Items[i].CreationTimestamp.Before(&pods.Items[j].CreationTimestamp)
	})
	var out []LogStream
	for _, p := range pods.Items {
		var names []string
		for _, ct := range p.Spec.InitContainers {
			names = append(names, ct.Name)
		}
		for _, ct := range p.Spec.Containers {
			names = append(names, ct.Name)
		}
		for _, cn := range names {
			lo := &corev1.PodLogOptions{Container: cn, Follow: follow}
			if since > 0 {
				s := int64(since.Seconds())
				lo.SinceSeconds = &s
			}
			body, err := c.CoreV1().Pods(namespace).GetLogs(p.Name, lo).Stream(ctx)
			if err != nil {
				for _, s := range out {
					s.Body.Close()
				}
				return nil, fmt.Errorf("reading logs of pod %s container %s: %w", p.Name, cn, err)
			}
			out = append(out, LogStream{Pod: p.Name, Container: cn, Body: body})
		}
	}
	return out, nil
}
