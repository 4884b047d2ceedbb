package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestConcurrency2000(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 4000 sockets; skipped with -short")
	}
	// The client's 2000 sockets and the in-process server's 2000 more.
	if limit, err := openFileLimit(); err != nil || limit < 4200 {
		t.Skipf("the open-file limit (%d, %v) cannot hold 4000 sockets here", limit, err)
	}
	_, base := startSite(t)
	var list strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&list, "%s/page/%d?latency=500ms\n", base, i)
	}
	res := runCLI(t, list.String(), "-", "-c", "2000", "--no-progress")
	recs := parseRecords(t, res.stdout)
	if res.code != 0 || len(recs) != 2000 {
		t.Fatalf("-c 2000: exit %d, %d records; stderr %q", res.code, len(recs), res.stderr)
	}
}

// TestCredentialHeadersStayOnTheirHost: -H Authorization and Cookie are
// not sent to another host after a redirect.
func TestCredentialHeadersStayOnTheirHost(t *testing.T) {
	var seen http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.Header.Clone() }))
	defer other.Close()
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			t.Error("the first host did not get the Authorization header")
		}
		// 127.0.0.1 and localhost are different hosts to the client.
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/landing", http.StatusFound)
	}))
	defer first.Close()
	res := runCLI(t, first.URL+"/\n", "-", "-H", "Authorization: Bearer s3cret", "-H", "Cookie: session=s3cret", "-H", "X-Trace: 1", "-q")
	if res.code != 0 || seen == nil {
		t.Fatalf("exit %d, redirect target reached %v; stderr %q", res.code, seen != nil, res.stderr)
	}
	if seen.Get("Authorization") != "" || seen.Get("Cookie") != "" {
		t.Errorf("after a redirect to another host: Authorization %q Cookie %q, want neither", seen.Get("Authorization"), seen.Get("Cookie"))
	}
	if seen.Get("X-Trace") != "1" {
		t.Errorf("other headers should still follow the redirect: X-Trace %q", seen.Get("X-Trace"))
	}
}
