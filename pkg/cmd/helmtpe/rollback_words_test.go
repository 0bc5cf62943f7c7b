package helmtpe

import (
	"errors"
	"testing"

	"github.com/thingpark-tools/kubectl-tpe/pkg/rollback"
)

// rollback.Run names Config fields; the command words them with its flags, keeping the chain.
func TestRollbackFlagNames(t *testing.T) {
	cause := errors.New("not found")
	tests := []struct {
		err  error
		want string
	}{
		{&rollback.InputError{Field: rollback.FieldToRevision, Value: "9", Err: cause}, "--to-revision 9: not found"},
		{&rollback.InputError{Field: rollback.FieldBackup, Needed: true, Err: errors.New("no backup matches")}, "no backup matches: pass --backup NAME"},
		{&rollback.InputError{Field: rollback.FieldAllCharts, Err: cause}, "--all-charts: not found"},
	}
	for _, tt := range tests {
		got := rollbackFlagNames(tt.err)
		if got.Error() != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
		var ie *rollback.InputError
		if !errors.As(got, &ie) {
			t.Errorf("%v lost its *InputError", got)
		}
	}
}
