package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// Issue 15: --fields adds what curl -w and httpstat show, the phases
// ordered, on HTTPS and plain HTTP, for fetch and crawl.
func TestFieldsAddConnectionTimingsAndDigest(t *testing.T) {
	const body = "<html><head><title>T</title></head><body>hello</body></html>"
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		w.Header().Set("X-Cache", "HIT")
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(body))
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/page", http.StatusMovedPermanently)
	})
	tlsSrv := httptest.NewTLSServer(mux)
	defer tlsSrv.Close()
	plain := httptest.NewServer(mux)
	defer plain.Close()
	sum := sha256.Sum256([]byte(body))

	res := runCLI(t, "", tlsSrv.URL+"/moved", "-k", "--fields", "all", "--header-field", "X-Cache", "--no-progress")
	var rec map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &rec); err != nil {
		t.Fatalf("exit %d: %q: %v", res.code, res.stdout, err)
	}
	num := func(k string) float64 { f, _ := rec[k].(float64); return f }
	if rec["tls_version"] != "TLS 1.3" || rec["http_version"] == nil || rec["remote_ip"] != "127.0.0.1" || rec["sha256"] != hex.EncodeToString(sum[:]) ||
		rec["etag"] != `"v1"` || rec["last_modified"] != "Mon, 02 Jan 2006 15:04:05 GMT" || rec["header_x_cache"] != "HIT" {
		t.Errorf("record %v", rec)
	}
	if !(num("connect_ms") <= num("tls_ms") && num("tls_ms") <= num("ttfb_ms") && num("ttfb_ms") > 0) {
		t.Errorf("phases not ordered: connect %v tls %v ttfb %v", rec["connect_ms"], rec["tls_ms"], rec["ttfb_ms"])
	}
	if hops, _ := rec["redirects"].([]any); len(hops) != 1 || hops[0].(map[string]any)["status"] != float64(301) ||
		hops[0].(map[string]any)["url"] != tlsSrv.URL+"/moved" {
		t.Errorf("redirects %v", rec["redirects"])
	}
	if notAfter, err := time.Parse(time.RFC3339, rec["tls_not_after"].(string)); err != nil || !notAfter.Equal(tlsSrv.Certificate().NotAfter.UTC().Truncate(time.Second)) {
		t.Errorf("tls_not_after %v (%v), want %v", rec["tls_not_after"], err, tlsSrv.Certificate().NotAfter)
	}
	if at, err := time.Parse(time.RFC3339, rec["fetched_at"].(string)); err != nil || time.Since(at) > time.Minute {
		t.Errorf("fetched_at %v", rec["fetched_at"])
	}
	// The redirect's target came over the same connection: its phases
	// start at the request; a fresh one shows the handshake.
	if !strings.Contains(res.stderr, "phases (p50/p99 from the request's start): first byte") {
		t.Errorf("summary lacks the phases:\n%s", res.stderr)
	}
	res = runCLI(t, "", tlsSrv.URL+"/page", "-k", "--fields", "ttfb_ms", "--no-progress")
	if !strings.Contains(res.stderr, "connect ") || !strings.Contains(res.stderr, "over 1 new connection, TLS ") {
		t.Errorf("summary lacks the handshake:\n%s", res.stderr)
	}

	// Plain HTTP: no TLS fields; the second request reuses the connection.
	res = runCLI(t, "", plain.URL+"/page", plain.URL+"/page", "-c", "1", "--fields", "tls_version,tls_ms,conn_reused,dns_ms,connect_ms,ttfb_ms", "-q", "--ordered")
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("%q", res.stdout)
	}
	for i, line := range lines {
		rec = map[string]any{}
		_ = json.Unmarshal([]byte(line), &rec)
		if rec["tls_version"] != nil || rec["tls_ms"] != nil || rec["conn_reused"] != (i == 1) || !(num("dns_ms") <= num("connect_ms") && num("connect_ms") <= num("ttfb_ms")) {
			t.Errorf("plain record %d: %v", i, rec)
		}
		if _, ok := rec["sha256"]; ok {
			t.Errorf("a field not asked for: %v", rec)
		}
	}

	// CSV gets the columns, after the default ones; a crawl's records too.
	res = runCLI(t, "", "crawl", plain.URL+"/page", "--fields", "sha256,etag", "-f", "csv", "-q")
	if head := strings.SplitN(res.stdout, "\n", 2)[0]; !strings.HasSuffix(head, ",canonical,sha256,etag") || !strings.Contains(res.stdout, hex.EncodeToString(sum[:])+`,"""v1"""`) {
		t.Errorf("crawl CSV:\n%s", res.stdout)
	}
	// A failure has the fields, null.
	res = runCLI(t, "", "http://127.0.0.1:1/", "--fields", "remote_ip,ttfb_ms", "-q", "--retries", "0")
	if !strings.Contains(res.stdout, `"remote_ip":null,"ttfb_ms":null`) {
		t.Errorf("failed record: %s", res.stdout)
	}
	res = runCLI(t, "", plain.URL+"/page", "--fields", "ttfb,colour")
	if res.code != exitUsage || !strings.Contains(res.stderr, `unknown field "ttfb"`) {
		t.Errorf("bad field: exit %d %q", res.code, res.stderr)
	}
}

// run's error records take the fields too, from the flag or the job.
func TestJobErrorRecordsTakeFields(t *testing.T) {
	_, base := startSite(t)
	for _, how := range []struct {
		key  string
		args []string
	}{{"", []string{"--fields", "remote_ip,ttfb_ms"}}, {"fields: [remote_ip, ttfb_ms]\n", nil}} {
		errs := t.TempDir() + "/errors.jsonl"
		job := writeFile(t, "job.yaml", how.key+"start: ["+base+"/status/500]\nmax_depth: 0\nretries: 0\nitems:\n  - fields:\n      title: {css: h1}\noutput: {errors: "+errs+"}\n")
		res := runCLI(t, "", append([]string{"run", job, "-q"}, how.args...)...)
		data := readFileString(t, errs)
		if res.code != exitFailures || !strings.Contains(data, `"status":500`) || !strings.Contains(data, `"remote_ip":"127.0.0.1","ttfb_ms":`) {
			t.Errorf("%v: exit %d, errors %q", how, res.code, data)
		}
	}
}

func readFileString(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
