package upgrade

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/kubernetes"

	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
)

// ConfigMap is the ConfigMap where install/upgrade records its progress. It never holds
// a secret: release names, chart versions, the backup names, states and times.
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
	// RunRolledBack: `helm tpe rollback` rolled tpe back after the run; it cannot be resumed.
	RunRolledBack RunState = "rolled-back"
)

// Step is one step of a run.
type Step struct {
	N     int    `json:"n"`
	Hop   int    `json:"hop"`
	HopTo string `json:"hopTo"`
	// HopFrom is the release the hop starts from (backup steps: the release whose data it holds).
	HopFrom     string    `json:"hopFrom,omitempty"`
	Kind        StepKind  `json:"kind"`
	ReleaseName string    `json:"releaseName,omitempty"`
	Chart       string    `json:"chart,omitempty"`
	Version     string    `json:"version,omitempty"`
	State       StepState `json:"state"`
	Revision    int       `json:"revision,omitempty"`
	// Backup is the name of the backup a backup step took.
	Backup  string `json:"backup,omitempty"`
	Message string `json:"message,omitempty"`
	Elapsed string `json:"elapsed,omitempty"`
}

// Label names the step for progress lines.
func (s Step) Label() string {
	switch s.Kind {
	case StepChart:
		return fmt.Sprintf("%s %s %s", s.ReleaseName, s.Chart, s.Version)
	case StepPUM:
		return "post-upgrade procedure of " + s.HopTo
	}
	if s.Hop > 0 && s.HopFrom != "" {
		return fmt.Sprintf("upgrade backup of %s (before hop %d)", s.HopFrom, s.Hop)
	}
	return "upgrade backup"
}

// HopBackup is the upgrade backup taken before one hop: it holds the data of From, the release
// tpe returns to when that hop is rolled back.
type HopBackup struct {
	Hop  int    `json:"hop"`
	From string `json:"from,omitempty"`
	To   string `json:"to"`
	Name string `json:"name"`
}

// String is "NAME (before hop 2, v7.2.2c → v7.3.1)".
func (b HopBackup) String() string {
	if b.Hop == 0 {
		return b.Name
	}
	return fmt.Sprintf("%s (before hop %d, %s → %s)", b.Name, b.Hop, b.From, b.To)
}

// Record is the progress record of one install/upgrade run.
type Record struct {
	Action plan.Action `json:"action"`
	From   string      `json:"from,omitempty"`
	Target string      `json:"target"`
	State  RunState    `json:"state"`
	// Backup is the latest upgrade backup (the only one before a run took one per hop).
	Backup string `json:"backup,omitempty"`
	// Backups are the upgrade backups of the run, one per hop that upgrades tpe, in hop order.
	Backups []HopBackup `json:"backups,omitempty"`
	// RolledBackTo is the release `helm tpe rollback` returned tpe to (State rolled-back).
	RolledBackTo string    `json:"rolledBackTo,omitempty"`
	StartedAt    time.Time `json:"startedAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
	Steps        []Step    `json:"steps"`
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

// Unfinished reports whether a record is of a run that did not end (nil: no record). A run that
// was rolled back ended: it is started again, never resumed.
func (p *Record) Unfinished() bool { return p != nil && p.State != RunDone && p.State != RunRolledBack }

// BackupOf returns the upgrade backup recorded for a hop, nil when there is none. Hop 0 is the
// single backup step of a record written before the runs took one backup per hop.
func (p *Record) BackupOf(hop int) *HopBackup {
	for i := range p.Backups {
		if p.Backups[i].Hop == hop {
			return &p.Backups[i]
		}
	}
	if hop == 0 && p.Backup != "" {
		return &HopBackup{Name: p.Backup, From: p.From, To: p.Target}
	}
	return nil
}

// AllBackups returns the run's upgrade backups, newest first, including the single backup of a
// record written before the runs took one per hop.
func (p *Record) AllBackups() []HopBackup {
	var out []HopBackup
	seen := map[string]bool{}
	for i := len(p.Backups) - 1; i >= 0; i-- {
		out = append(out, p.Backups[i])
		seen[p.Backups[i].Name] = true
	}
	if p.Backup != "" && !seen[p.Backup] {
		out = append(out, HopBackup{Name: p.Backup, From: p.From, To: p.Target})
	}
	return out
}

// setBackup records the backup of a hop (replacing an earlier one of the same hop) and makes it
// the latest.
func (p *Record) setBackup(b HopBackup) {
	for i := range p.Backups {
		if p.Backups[i].Hop == b.Hop {
			p.Backups[i] = b
			p.Backup = b.Name
			return
		}
	}
	p.Backups = append(p.Backups, b)
	p.Backup = b.Name
}

// rollbackHint names the rollback of a run stopped at st after its hop upgraded tpe: the
// backup taken before that hop holds the data of the release tpe returns to.
func (p *Record) rollbackHint(st *Step) string {
	b := p.BackupOf(st.Hop)
	if st.Hop == 0 || b == nil {
		return ""
	}
	for _, s := range p.Steps {
		if s.Hop == st.Hop && s.Kind == StepChart && s.ReleaseName == manifest.ReleaseEnterprise && s.State == StateDone {
			return fmt.Sprintf("or roll back to %s with `{cmd:rollback}`, which restores %s", b.From, b)
		}
	}
	return ""
}

// FailedHop returns the step a failed or interrupted run stopped at, nil when it did not stop.
func (p *Record) FailedHop() *Step {
	if p == nil || p.State != RunFailed {
		return nil
	}
	if i := p.Next(); i >= 0 {
		return &p.Steps[i]
	}
	return nil
}

// Store reads and writes the progress ConfigMap. It remembers the ConfigMap's resource version
// from its last read or write, so that a write is one request: an update at that version, or a
// create when there is no record yet. Only when someone else changed or deleted the record in
// between does a write take a second request.
type Store struct {
	Kube      kubernetes.Interface
	Namespace string
	// RetryFor bounds how long a write is retried while the API server is unreachable or
	// restarting (default 90 s): a record lost there would leave a run that cannot be resumed.
	RetryFor time.Duration

	mu sync.Mutex // guards known, exists, rv and wrote
	// known is true once the ConfigMap was read or written: exists says whether it exists, rv
	// is its version.
	known, exists bool
	rv            string
	// wrote is true once a write succeeded (the user may write the record).
	wrote bool
}

// Load returns the recorded progress, nil when there is none.
func (s *Store) Load(ctx context.Context) (*Record, error) {
	cm, err := s.Kube.CoreV1().ConfigMaps(s.Namespace).Get(ctx, ConfigMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		s.remember(false, "")
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading ConfigMap %s/%s: %w", s.Namespace, ConfigMap, err)
	}
	s.remember(true, cm.ResourceVersion)
	var p Record
	if err := json.Unmarshal([]byte(cm.Data[progressKey]), &p); err != nil {
		return nil, fmt.Errorf("the ConfigMap %s/%s holds no valid progress record (%w): delete it to start over", s.Namespace, ConfigMap, err)
	}
	return &p, nil
}

func (s *Store) remember(exists bool, rv string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.known, s.exists, s.rv = true, exists, rv
}

func (s *Store) version() (known, exists bool, rv string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.known, s.exists, s.rv
}

// Save writes the progress: an update at the known version, a create when there is no record.
// A write that fails because the API server is away (connection refused or reset, 5xx, timeouts;
// "forbidden" too once a write has succeeded, as a restarted API server answers before it has
// loaded RBAC) is retried until RetryFor.
func (s *Store) Save(ctx context.Context, p *Record) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	limit := s.RetryFor
	if limit <= 0 {
		limit = 90 * time.Second
	}
	deadline, wait := time.Now().Add(limit), 250*time.Millisecond
	for {
		err = s.write(ctx, p, string(data))
		s.mu.Lock()
		wrote := s.wrote
		s.mu.Unlock()
		if err == nil || !transient(err, wrote) || time.Now().Add(wait).After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("recording the progress in ConfigMap %s/%s: %w", s.Namespace, ConfigMap, err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 4*time.Second)
	}
	if err != nil {
		return fmt.Errorf("recording the progress in ConfigMap %s/%s: %w", s.Namespace, ConfigMap, err)
	}
	return nil
}

// transient reports whether a write failed because the API server is away for a moment.
func transient(err error, wroteBefore bool) bool {
	switch {
	case utilnet.IsConnectionRefused(err), utilnet.IsConnectionReset(err), utilnet.IsProbableEOF(err),
		apierrors.IsServiceUnavailable(err), apierrors.IsServerTimeout(err), apierrors.IsTimeout(err),
		apierrors.IsTooManyRequests(err), apierrors.IsInternalError(err):
		return true
	case wroteBefore && (apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err)):
		return true
	}
	return false
}

// write makes one attempt.
func (s *Store) write(ctx context.Context, p *Record, data string) error {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: ConfigMap, Namespace: s.Namespace,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "helm-tpe"}},
		Data: map[string]string{progressKey: data, "target": p.Target, "state": string(p.State), "backup": p.Backup},
	}
	cms := s.Kube.CoreV1().ConfigMaps(s.Namespace)
	known, exists, rv := s.version()
	var out *corev1.ConfigMap
	var err error
	switch {
	case known && !exists:
		if out, err = cms.Create(ctx, cm, metav1.CreateOptions{}); apierrors.IsAlreadyExists(err) {
			out, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		}
	case known:
		cm.ResourceVersion = rv
		out, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			// Changed by someone else since (a user editing it, or a write whose answer was
			// lost): the run's record wins, as it did before versions were remembered.
			cm.ResourceVersion = ""
			out, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		}
		if apierrors.IsNotFound(err) {
			out, err = cms.Create(ctx, cm, metav1.CreateOptions{})
		}
	default:
		if out, err = cms.Update(ctx, cm, metav1.UpdateOptions{}); apierrors.IsNotFound(err) {
			out, err = cms.Create(ctx, cm, metav1.CreateOptions{})
		}
	}
	if err != nil {
		return err
	}
	s.remember(true, out.ResourceVersion)
	s.mu.Lock()
	s.wrote = true
	s.mu.Unlock()
	return nil
}
