package release

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ProgressConfigMap is the ConfigMap where install/upgrade records its progress. It never holds
// a secret: release names, chart versions, the backup name, states and times.
const ProgressConfigMap = "tpe-upgrade-progress"

// progressKey is the data key of the JSON record.
const progressKey = "progress.json"

// Step kinds.
const (
	StepBackup = "backup"
	StepChart  = "chart"
	StepPUM    = "post-upgrade"
)

// Step states.
const (
	StatePending     = "pending"
	StateRunning     = "running"
	StateDone        = "done"
	StateSkipped     = "skipped"
	StateFailed      = "failed"
	StateInterrupted = "interrupted"
)

// Run states.
const (
	RunRunning = "running"
	RunFailed  = "failed"
	RunDone    = "done"
)

// ProgressStep is one step of a run.
type ProgressStep struct {
	N           int    `json:"n"`
	Hop         int    `json:"hop"`
	HopTo       string `json:"hopTo"`
	Kind        string `json:"kind"`
	ReleaseName string `json:"releaseName,omitempty"`
	Chart       string `json:"chart,omitempty"`
	Version     string `json:"version,omitempty"`
	State       string `json:"state"`
	Revision    int    `json:"revision,omitempty"`
	Message     string `json:"message,omitempty"`
	Elapsed     string `json:"elapsed,omitempty"`
}

// Label names the step for progress lines.
func (s ProgressStep) Label() string {
	switch s.Kind {
	case StepChart:
		return fmt.Sprintf("%s %s %s", s.ReleaseName, s.Chart, s.Version)
	case StepPUM:
		return "post-upgrade procedure of " + s.HopTo
	}
	return "upgrade backup"
}

// Progress is the record of one install/upgrade run.
type Progress struct {
	Action    string         `json:"action"`
	From      string         `json:"from,omitempty"`
	Target    string         `json:"target"`
	State     string         `json:"state"`
	Backup    string         `json:"backup,omitempty"`
	StartedAt time.Time      `json:"startedAt"`
	UpdatedAt time.Time      `json:"updatedAt"`
	Steps     []ProgressStep `json:"steps"`
	// ValueFiles are the paths of the values files (never their content).
	ValueFiles []string `json:"valueFiles,omitempty"`
}

// Next returns the index of the first step that is not done or skipped, -1 when all are.
func (p *Progress) Next() int {
	for i, s := range p.Steps {
		if s.State != StateDone && s.State != StateSkipped {
			return i
		}
	}
	return -1
}

// ProgressStore reads and writes the progress ConfigMap.
type ProgressStore struct {
	Kube      kubernetes.Interface
	Namespace string
}

// Load returns the recorded progress, nil when there is none.
func (s ProgressStore) Load(ctx context.Context) (*Progress, error) {
	cm, err := s.Kube.CoreV1().ConfigMaps(s.Namespace).Get(ctx, ProgressConfigMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading ConfigMap %s/%s: %w", s.Namespace, ProgressConfigMap, err)
	}
	var p Progress
	if err := json.Unmarshal([]byte(cm.Data[progressKey]), &p); err != nil {
		return nil, fmt.Errorf("the ConfigMap %s/%s holds no valid progress record (%w): delete it to start over", s.Namespace, ProgressConfigMap, err)
	}
	return &p, nil
}

// Save writes the progress (create or update).
func (s ProgressStore) Save(ctx context.Context, p *Progress) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: ProgressConfigMap, Namespace: s.Namespace,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "helm-tpe"}},
		Data: map[string]string{progressKey: string(data), "target": p.Target, "state": p.State, "backup": p.Backup},
	}
	cms := s.Kube.CoreV1().ConfigMaps(s.Namespace)
	if _, err = cms.Update(ctx, cm, metav1.UpdateOptions{}); apierrors.IsNotFound(err) {
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
	}
	if err != nil {
		return fmt.Errorf("recording the progress in ConfigMap %s/%s: %w", s.Namespace, ProgressConfigMap, err)
	}
	return nil
}
