package fetch

import (
	"net/url"
	"testing"
	"time"
)

// TestFaults fetches each broken-server endpoint of the test site and
// checks the outcome the README's Reliability table promises.
func TestFaults(t *testing.T) {
	_, base := newSite(t)
	tests := []struct {
		path      string
		cfg       Config
		kind      Kind // "" for a response
		attempts  int
		truncated bool
		bytes     int64
	}{
		{"/fault/reset", Config{Retries: 1, Backoff: time.Millisecond}, KindReset, 2, false, 0},
		{"/fault/short-body", Config{Retries: 1, Backoff: time.Millisecond}, KindIncompleteBody, 2, false, 0},
		{"/fault/big?mb=100", Config{MaxBody: 1 << 20}, "", 1, true, 1 << 20},
		{"/fault/gzip-bomb", Config{MaxBody: 1 << 20}, "", 1, true, 1 << 20},
		{"/fault/redirect-loop", Config{}, KindTooManyRedirects, 1, false, 0},
		{"/redirect/30", Config{}, KindTooManyRedirects, 1, false, 0},
		{"/fault/redirect-to?url=" + url.QueryEscape("file:///etc/passwd"), Config{}, KindUnsupportedScheme, 1, false, 0},
		{"/fault/redirect-to?url=" + url.QueryEscape("ftp://127.0.0.1/x"), Config{}, KindUnsupportedScheme, 1, false, 0},
		{"/slow-body?bytes=100&interval=100ms", Config{Timeout: 300 * time.Millisecond}, KindTimeout, 1, false, 0},
		{"/hang", Config{Timeout: 200 * time.Millisecond}, KindTimeout, 1, false, 0},
		{"/fault/empty", Config{}, "", 1, false, 0},
	}
	for _, tt := range tests {
		start := time.Now()
		res := newClient(t, tt.cfg).Get(t.Context(), base+tt.path, keepAll)
		kind := Kind("")
		if res.Err != nil {
			kind = res.Err.Kind
		}
		if kind != tt.kind || res.Attempts != tt.attempts || res.Truncated != tt.truncated {
			t.Errorf("%s: kind %q attempts %d truncated %v (err %v); want %q %d %v",
				tt.path, kind, res.Attempts, res.Truncated, res.Err, tt.kind, tt.attempts, tt.truncated)
		}
		if tt.truncated && (res.Bytes != tt.bytes || int64(len(res.Body)) != tt.bytes) {
			t.Errorf("%s: %d bytes read, %d kept; want both capped at %d", tt.path, res.Bytes, len(res.Body), tt.bytes)
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("%s took %s: a fault must never hang the fetch", tt.path, took)
		}
	}
}
