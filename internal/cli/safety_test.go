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

// Issue 11, item 4: a password in a URL is masked everywhere, bad URLs
// included (url.Parse cannot help with those).
func TestPasswordsAreMaskedEvenInBadURLs(t *testing.T) {
	list := "http://user:s3cret@[::1\nhttp://bob:s3cret@127.0.0.1:1/x\n"
	for _, args := range [][]string{{"-", "--retries", "0"}, {"-", "--retries", "0", "--fail-fast"}, {"-", "-f", "csv"}, {"-", "-f", "table"}} {
		res := runCLI(t, list, args...)
		if strings.Contains(res.stdout+res.stderr, "s3cret") {
			t.Errorf("%q: the password shows:\n%s\n%s", args, res.stdout, res.stderr)
		}
		if !strings.Contains(res.stdout+res.stderr, "user:xxxxx@") && !strings.Contains(res.stderr, "fail-fast") {
			t.Errorf("%q: the masked URL is missing:\n%s", args, res.stdout)
		}
	}
}
