package urllist

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func readAll(t *testing.T, in string) []Entry {
	t.Helper()
	r := NewReader(strings.NewReader(in))
	var out []Entry
	for range 1000 {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next() error = %v", err)
		}
		out = append(out, e)
	}
	t.Fatal("Next() never returned io.EOF")
	return nil
}

func TestReaderSkipsAndTrims(t *testing.T) {
	in := "\xef\xbb\xbfhttp://a/1\r\n\n   # comment\n  http://a/2  \r\n\t\r\n#x\nhttp://a/3"
	got := readAll(t, in)
	want := []Entry{{Line: 1, URL: "http://a/1"}, {Line: 4, URL: "http://a/2"}, {Line: 7, URL: "http://a/3"}}
	if len(got) != len(want) {
		t.Fatalf("got %d entries %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestReaderLongLineIsOneEntryAndReadingGoesOn(t *testing.T) {
	long := "http://a/" + strings.Repeat("x", MaxLineLength+10)
	got := readAll(t, "http://a/1\n"+long+"\nhttp://a/3\n")
	if len(got) != 3 {
		t.Fatalf("got %d entries, want 3", len(got))
	}
	if !errors.Is(got[1].Err, ErrLineTooLong) || got[1].Line != 2 {
		t.Errorf("long line entry = line %d err %v, want line 2 ErrLineTooLong", got[1].Line, got[1].Err)
	}
	if got[2].URL != "http://a/3" || got[2].Line != 3 {
		t.Errorf("after the long line got %+v, want line 3 http://a/3", got[2])
	}
}

func TestReaderBinaryLineIsNotText(t *testing.T) {
	got := readAll(t, "http://a/\x00\xff\xfe\n")
	if len(got) != 1 || !errors.Is(got[0].Err, ErrNotText) {
		t.Fatalf("got %+v, want one ErrNotText entry", got)
	}
}

func TestReaderEmpty(t *testing.T) {
	for _, in := range []string{"", "\n\n", "# only a comment\n"} {
		if got := readAll(t, in); len(got) != 0 {
			t.Errorf("readAll(%q) = %+v, want no entries", in, got)
		}
	}
}

func FuzzReader(f *testing.F) {
	for _, seed := range []string{"http://a/\n", "\xef\xbb\xbf#c\r\nx\r\n", "", "\x00\xff", strings.Repeat("a", 70000)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r := NewReader(strings.NewReader(in))
		last := 0
		for range len(in) + 2 {
			e, err := r.Next()
			if err != nil {
				return
			}
			if e.Line <= last {
				t.Fatalf("line numbers not increasing: %d after %d", e.Line, last)
			}
			last = e.Line
			if e.Err == nil && (e.URL == "" || strings.TrimSpace(e.URL) != e.URL) {
				t.Fatalf("entry URL %q is empty or untrimmed", e.URL)
			}
		}
		t.Fatal("reader did not end")
	})
}
