package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 11, item 1: an output that is the input would read its own records
// back as URLs and grow without end. It is refused, through links too,
// with exit 2 and nothing fetched.
func TestOutputThatIsTheInputIsRefused(t *testing.T) {
	site, base := startSite(t)
	list := writeFile(t, "list.txt", base+"/page/1\n")
	link := filepath.Join(filepath.Dir(list), "link.txt")
	if err := os.Symlink(list, link); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{list, "-o", list},
		{list, "-o", link},
		{link, "-o", list},
		{"crawl", "--seeds", list, "-o", link},
	} {
		res := runCLI(t, "", append(args, "-q")...)
		if res.code != 2 || !strings.Contains(res.stderr, "is the input") {
			t.Errorf("%q: exit %d, stderr %q; want 2 and the reason", args, res.code, res.stderr)
		}
	}
	if data, _ := os.ReadFile(list); string(data) != base+"/page/1\n" {
		t.Errorf("the list was changed: %q", data)
	}
	if n := site.URICounts()["/page/1"]; n != 0 {
		t.Errorf("the list was fetched %d times, want none", n)
	}
}
