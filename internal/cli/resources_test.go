package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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
		if r.Header.Get("Authorization") == "" || r.Header.Get("X-Api-Key") == "" {
			t.Error("the first host did not get the Authorization and X-Api-Key headers")
		}
		// 127.0.0.1 and localhost are different hosts to the client.
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/landing", http.StatusFound)
	}))
	defer first.Close()
	secrets := []string{"Authorization: Bearer s3cret", "Cookie: session=s3cret", "X-Api-Key: s3cret", "Private-Token: s3cret", "X-Auth-Token: s3cret", "Ocp-Apim-Subscription-Key: s3cret"}
	// The lean path, and net/http's (cookies go through net/http).
	for _, extra := range [][]string{nil, {"--cookie-jar", filepath.Join(t.TempDir(), "jar.txt")}} {
		seen = nil
		args := []string{"-", "-H", "X-Trace: 1", "-q"}
		for _, h := range secrets {
			args = append(args, "-H", h)
		}
		res := runCLI(t, first.URL+"/\n", append(args, extra...)...)
		if res.code != 0 || seen == nil {
			t.Fatalf("%v: exit %d, redirect target reached %v; stderr %q", extra, res.code, seen != nil, res.stderr)
		}
		for _, h := range secrets {
			name, _, _ := strings.Cut(h, ":")
			if v := seen.Get(name); v != "" {
				t.Errorf("%v: after a redirect to another host: %s %q, want none", extra, name, v)
			}
		}
		if seen.Get("X-Trace") != "1" {
			t.Errorf("%v: other headers should still follow the redirect: X-Trace %q", extra, seen.Get("X-Trace"))
		}
	}
}
