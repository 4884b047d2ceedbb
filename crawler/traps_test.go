package crawler

import (
	"net/url"
	"strings"
	"testing"
)

func TestStripTrackingKeepsThePage(t *testing.T) {
	for in, want := range map[string]string{
		"http://a/p?utm_source=x&id=3&UTM_Medium=y": "http://a/p?id=3",
		"http://a/p?fbclid=1":                       "http://a/p",
		"http://a/p;jsessionid=ABC?x=1":             "http://a/p?x=1",
		"http://a/p?PHPSESSID=1&q=a+b":              "http://a/p?q=a+b",
		"http://a/p?id=3":                           "http://a/p?id=3",
		"http://a/p?aspsessionidQQ=1":               "http://a/p",
	} {
		u, _ := url.Parse(in)
		if got := stripTracking(u).String(); got != want {
			t.Errorf("stripTracking(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestTrapGuards(t *testing.T) {
	for in, want := range map[string]string{
		"http://a/a/b/a/b/a/b/":                   "",
		"http://a/a/a/a/a/":                       TrapRepeatedSegment,
		"http://a/x/" + strings.Repeat("y", 2100): TrapLongURL,
		"http://a/2024/01/01/":                    "",
	} {
		u, _ := url.Parse(in)
		if got := trap(u, u.String()); got != want {
			t.Errorf("trap(%s) = %q, want %q", in[:min(len(in), 40)], got, want)
		}
	}
}
