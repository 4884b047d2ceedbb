package testsite

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, client *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp, string(body)
}

func TestEndpoints(t *testing.T) {
	site := New()
	srv := httptest.NewServer(site)
	defer srv.Close()
	c := srv.Client()

	resp, body := get(t, c, srv.URL+"/page/7?size=5000")
	if resp.StatusCode != 200 || len(body) != 5000 || !strings.Contains(body, "<title>Page 7</title>") {
		t.Errorf("/page/7?size=5000 = %d, %d bytes; want 200, 5000 bytes titled Page 7", resp.StatusCode, len(body))
	}
	start := time.Now()
	get(t, c, srv.URL+"/page/1?latency=50ms")
	if time.Since(start) < 50*time.Millisecond {
		t.Errorf("/page/1?latency=50ms answered in %s", time.Since(start))
	}
	if resp, _ := get(t, c, srv.URL+"/status/418"); resp.StatusCode != 418 {
		t.Errorf("/status/418 = %d", resp.StatusCode)
	}
	if resp, _ := get(t, c, srv.URL+"/redirect/3"); resp.Request.URL.Path != "/page/0" {
		t.Errorf("/redirect/3 ended at %s, want /page/0", resp.Request.URL.Path)
	}
	for i, want := range []int{429, 429, 200} {
		resp, _ := get(t, c, srv.URL+"/retry/k?fail=2&code=429&after=7")
		if resp.StatusCode != want {
			t.Errorf("/retry/k request %d = %d, want %d", i+1, resp.StatusCode, want)
		}
		if want == 429 && resp.Header.Get("Retry-After") != "7" {
			t.Errorf("/retry/k Retry-After = %q, want 7", resp.Header.Get("Retry-After"))
		}
	}

	_, stats := get(t, c, srv.URL+"/stats")
	var s struct {
		Total int            `json:"total"`
		Paths map[string]int `json:"paths"`
	}
	if err := json.Unmarshal([]byte(stats), &s); err != nil {
		t.Fatal(err)
	}
	if s.Paths["/retry/k"] != 3 || s.Paths["/redirect/3"] != 1 || s.Paths["/page/0"] != 1 || s.Total != site.Total() {
		t.Errorf("/stats = %+v", s)
	}
}

func TestDefaultSiteFitsTheDefaultCrawlDepth(t *testing.T) {
	s := New()
	all, depth3, depth2 := len(s.Truth(-1, false, false)), len(s.Truth(3, false, false)), len(s.Truth(2, false, false))
	if depth3 != all || depth2 >= all {
		t.Errorf("pages within depth 2, 3 and any: %d, %d, %d; want depth 3 to reach all, depth 2 not", depth2, depth3, all)
	}
	for _, uri := range []string{"/site/hidden", "/site/kinds/frame", "/site/r/hidden"} {
		if _, ok := s.Truth(-1, false, false)[uri]; !ok {
			t.Errorf("the site no longer leads to %s", uri)
		}
	}
}
