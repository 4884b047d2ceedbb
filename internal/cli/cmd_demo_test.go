package cli

import (
	"strings"
	"testing"
)

func TestDemoRunsOfflineAndShowsTheSpeedUp(t *testing.T) {
	res := runCLI(t, "", "demo", "--pages", "5")
	if res.code != 0 {
		t.Fatalf("demo exit %d; stderr:\n%s", res.code, res.stderr)
	}
	if n := strings.Count(res.stdout, `"ok":true`); n != 3 {
		t.Errorf("demo showed %d records, want the first 3", n)
	}
	for _, want := range []string{"5 pages from the built-in test site", "5 workers:", "faster than sequential", "fetchall bench"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, res.stdout)
		}
	}
}
