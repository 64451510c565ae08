package leakcheck

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

func TestBuffer(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { fmt.Fprintf(&b, "line %d\n", i) })
	}
	wg.Wait()
	if n := len(b.String()); n < 50*len("line 0\n") {
		t.Errorf("Buffer holds %d bytes; want every write", n)
	}
}

func TestFind(t *testing.T) {
	got := Find([]string{"hunter2-secret", "xoxb-token", ""}, map[string][]byte{
		"the logs":  []byte("user=alice password=hunter2-secret"),
		"the store": []byte("nothing here"),
		"stdout":    []byte("xoxb-token and hunter2-secret"),
	})
	want := []string{
		"a secret (xoxb-t…) appears in stdout",
		"a secret (hunter…) appears in stdout",
		"a secret (hunter…) appears in the logs",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Find = %q; want %q", got, want)
	}
	if got := Find([]string{"s3cret"}, map[string][]byte{"x": []byte("clean")}); got != nil {
		t.Errorf("Find on clean input = %q; want nil", got)
	}
}
