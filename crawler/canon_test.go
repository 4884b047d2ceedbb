package crawler

import (
	"testing"
)

func TestCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://example.org", "http://example.org/"},
		{"HTTP://Example.ORG/", "http://example.org/"},
		{"http://example.org:80/a", "http://example.org/a"},
		{"https://example.org:443/a", "https://example.org/a"},
		{"http://example.org:8080/a", "http://example.org:8080/a"},
		{"https://example.org:80/a", "https://example.org:80/a"},
		{"http://example.org/a#frag", "http://example.org/a"},
		{"http://example.org/a?#", "http://example.org/a"},
		{"http://example.org/a/./b/../c", "http://example.org/a/c"},
		{"http://example.org/../../a", "http://example.org/a"},
		{"http://example.org/a/b/..", "http://example.org/a/"},
		{"http://example.org/a/.", "http://example.org/a/"},
		{"http://example.org/%7Euser/%2fx", "http://example.org/~user/%2Fx"},
		{"http://example.org/a%20b", "http://example.org/a%20b"},
		{"http://example.org/a b", "http://example.org/a%20b"},
		{"http://example.org/?b=2&a=1", "http://example.org/?b=2&a=1"},
		{"http://example.org/?q=%7e", "http://example.org/?q=~"},
		{"http://example.org/?q=a b&c=\u00e4", "http://example.org/?q=a%20b&c=%C3%A4"},
		{"http://bücher.example/", "http://xn--bcher-kva.example/"},
		{"http://EXAMPLE.org./x", "http://example.org/x"},
		{"http://[::1]:80/", "http://[::1]/"},
		{"http://[::1]:8080/x", "http://[::1]:8080/x"},
		{"http://user:pw@example.org/", "http://user:pw@example.org/"},
		{"http://127.0.0.1:8080/site/1", "http://127.0.0.1:8080/site/1"},
	}
	for _, tt := range tests {
		got, err := Canonical(tt.in)
		if err != nil {
			t.Errorf("Canonical(%q) error = %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Canonical(%q) = %q, want %q", tt.in, got, tt.want)
		}
		// Canonical is idempotent.
		if again, _ := Canonical(got); again != got {
			t.Errorf("Canonical(%q) = %q, not stable", got, again)
		}
	}
	for _, bad := range []string{"ftp://example.org/", "example.org/a", "http:///x", "mailto:a@b"} {
		if got, err := Canonical(bad); err == nil {
			t.Errorf("Canonical(%q) = %q, want an error", bad, got)
		}
	}
}

func FuzzCanonical(f *testing.F) {
	for _, seed := range []string{"http://a/b/../c", "HTTP://X:80/%7e?q#f", "http://bücher.de/", "http://[::1]:8/", "https://a/%zz"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Canonical(in)
		if err != nil {
			return
		}
		again, err := Canonical(c)
		if err != nil || again != c {
			t.Fatalf("Canonical(%q) = %q, then Canonical(%q) = %q, %v: not idempotent", in, c, c, again, err)
		}
	})
}
