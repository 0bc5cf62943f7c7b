package pum

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParse measures the status parser on the sample of the TPE upgrade procedure and on a long
// status (the post-upgrade manager of a large installation can list hundreds of requests).
func BenchmarkParse(b *testing.B) {
	long := func(n int) string {
		var s strings.Builder
		fmt.Fprintf(&s, "%d entrie(s)\n", n)
		for i := range n {
			state := []string{"PROCESSED", "SKIPPED", "IN_PROGRESS", "TRANSIENT_ERROR"}[i%4]
			s.WriteString(entry(fmt.Sprint(i+1), state))
		}
		return s.String()
	}
	for _, tc := range []struct {
		name string
		raw  string
	}{{"sample", sample(b)}, {"entries=100", long(100)}, {"entries=1000", long(1000)}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.raw)))
			for b.Loop() {
				if _, err := Parse(tc.raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
