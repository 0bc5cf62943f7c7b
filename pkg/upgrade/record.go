package upgrade

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
)

// ConfigMap is the ConfigMap where install/upgrade records its progress. It never holds
// a secret: release names, chart versions, the backup name, states and times.
const ConfigMap = "tpe-upgrade-progress"

// progressKey is the data key of the JSON record.
const progressKey = "progress.json"

// StepKind is what a step does.
type StepKind string

// Step kinds.
const (
	StepBackup StepKind = "backup"
	StepChart  StepKind = "chart"
	StepPUM    StepKind = "post-upgrade"
)

// StepState is where a step is.
type StepState string

// Step states.
const (
	StatePending     StepState = "pending"
	StateRunning     StepState = "running"
	StateDone        StepState = "done"
	StateSkipped     StepState = "skipped"
	StateFailed      StepState = "failed"
	StateInterrupted StepState = "interrupted"
)

// RunState is where a whole run is.
type RunState string

// Run states.
const (
	RunRunning RunState = "running"
	RunFailed  RunState = "failed"
	RunDone    RunState = "done"
)

// Step is one step of a run.
type Step struct {
	N           int       `json:"n"`
	Hop         int       `json:"hop"`
	HopTo       string    `json:"hopTo"`
	Kind        StepKind  `json:"kind"`
	ReleaseName string    `json:"releaseName,omitempty"`
	Chart       string    `json:"chart,omitempty"`
	Version     string    `json:"version,omitempty"`
	State       StepState `json:"state"`
	Revision    int       `json:"revision,omitempty"`
	Message     string    `json:"message,omitempty"`
	Elapsed     string    `json:"elapsed,omitempty"`
}

// Label names the step for progress lines.
func (s Step) Label() string {
	switch s.Kind {
	case StepChart:
		return fmt.Sprintf("%s %s %s", s.ReleaseName, s.Chart, s.Version)
	case StepPUM:
		return "post-upgrade procedure of " + s.HopTo
	}
	return "upgrade backup"
}

// Record is the progress record of one install/upgrade run.
type Record struct {
	Action    plan.Action `json:"action"`
	From      string      `json:"from,omitempty"`
	Target    string      `json:"target"`
	State     RunState    `json:"state"`
	Backup    string      `json:"backup,omitempty"`
	StartedAt time.Time   `json:"startedAt"`
	UpdatedAt time.Time   `json:"updatedAt"`
	Steps     []Step      `json:"steps"`
	// ValueFiles are the paths of the values files (never their content).
	ValueFiles []string `json:"valueFiles,omitempty"`
}

// Next returns the index of the first step that is not done or skipped, -1 when all are.
func (p *Record) Next() int {
	for i, s := range p.Steps {
		if s.State != StateDone && s.State != StateSkipped {
			return i
		}
	}
	return -1
}

// Unfinished reports whether a record is of a run that did not end (nil: no record).
func (p *Record) Unfinished() bool { return p != nil && p.State != RunDone }

// Store reads and writes the progress ConfigMap.
type Store struct {
	Kube      kubernetes.Interface
	Namespace string
}

// Load returns the recorded progress, nil when there is none.
func (s Store) Load(ctx context.Context) (*Record, error) {
	cm, err := s.Kube.CoreV1().ConfigMaps(s.Namespace).Get(ctx, ConfigMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading ConfigMap %s/%s: %w", s.Namespace, ConfigMap, err)
	}
	var p Record
	if err := json.Unmarshal([]byte(cm.Data[progressKey]), &p); err != nil {
		return nil, fmt.Errorf("the ConfigMap %s/%s holds no valid progress record (%w): delete it to start over", s.Namespace, ConfigMap, err)
	}
	return &p, nil
}

// Save writes the progress (create or update).
func (s Store) Save(ctx context.Context, p *Record) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: ConfigMap, Namespace: s.Namespace,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "helm-tpe"}},
		Data: map[string]string{progressKey: string(data), "target": p.Target, "state": string(p.State), "backup": p.Backup},
	}
	cms := s.Kube.CoreV1().ConfigMaps(s.Namespace)
	if _, err = cms.Update(ctx, cm, metav1.UpdateOptions{}); apierrors.IsNotFound(err) {
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
	}
	if err != nil {
		return fmt.Errorf("recording the progress in ConfigMap %s/%s: %w", s.Namespace, ConfigMap, err)
	}
	return nil
}
