package crawler

import (
	"bytes"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fetchall/fetchall/fetch"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/transform"
)

// isHTML reports whether a Content-Type names an HTML document. It runs
// for every response, so it compares in place instead of parsing.
func isHTML(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(mt)
	return strings.EqualFold(mt, "text/html") || strings.EqualFold(mt, "application/xhtml+xml")
}

// isJSON says whether a Content-Type is JSON: application/json, text/json
// or a +json type (application/ld+json, application/problem+json).
func isJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

// extractTitle returns the first <title>, whitespace-normalised, or "".
//
// It runs x/net/html's tokenizer, the one under goquery, and stops at the
// title: building the whole tree only to read one element costs a bulk
// fetch most of its client CPU. Title text is RCDATA, so the tokenizer
// returns it as one unescaped text token, exactly as the tree would hold it.
func extractTitle(body []byte, contentType string) string {
	if declaresUTF8(contentType) || isUTF8(body, contentType) {
		if title, ok := quickTitle(body); ok {
			return title
		}
	}
	return tokenizeTitle(body, contentType)
}

// maxTitle is the most bytes of a title a record holds. A page may have a
// title of megabytes (spam, a broken template): in a record it made a
// JSON line past what line readers take (bufio.Scanner's 64 KiB).
const maxTitle = 1024

// recordTitle is title as a record holds it: whole up to maxTitle bytes,
// else cut at a character's start and ended with "…".
func recordTitle(title string) string {
	if len(title) <= maxTitle {
		return title
	}
	cut := maxTitle - len("…")
	for cut > 0 && !utf8.RuneStart(title[cut]) {
		cut--
	}
	return title[:cut] + "…"
}

// tokenizeTitle is extractTitle for any page, however unusual.
func tokenizeTitle(body []byte, contentType string) string {
	z := html.NewTokenizer(utf8Reader(body, contentType))
	inTitle, foreign := false, false
	var title strings.Builder
	for {
		switch tt := z.Next(); tt {
		case html.ErrorToken:
			return normalizeSpace(title.String())
		case html.StartTagToken, html.SelfClosingTagToken: // the tree ignores "/>" on <title/>
			name, _ := z.TagName()
			tag := atom.Lookup(name)
			foreign = foreign || foreignTag(tag, tt)
			if inTitle = tag == atom.Title; inTitle && foreign {
				return treeTitle(body, contentType)
			}
		case html.EndTagToken:
			if inTitle {
				return normalizeSpace(title.String())
			}
		case html.TextToken:
			if inTitle {
				title.Write(z.Text())
			}
		}
	}
}

// declaresUTF8 reports, cheaply, whether a Content-Type says charset=utf-8,
// as most servers do; it saves sniffing the body.
func declaresUTF8(contentType string) bool {
	_, params, ok := strings.Cut(contentType, ";")
	if !ok {
		return false
	}
	_, cs, ok := strings.Cut(strings.ToLower(params), "charset=")
	if !ok {
		return false
	}
	cs = strings.Trim(strings.TrimSpace(cs), `"'`)
	return cs == "utf-8" || cs == "utf8"
}

// isUTF8 sniffs the charset from the Content-Type, a BOM or <meta>.
func isUTF8(body []byte, contentType string) bool {
	enc, name, _ := charset.DetermineEncoding(body[:min(len(body), 1024)], contentType)
	return name == "utf-8" || enc == nil
}

// utf8Reader returns body as UTF-8, converting from the charset named by
// the Content-Type, a BOM or a <meta> tag; UTF-8 bodies are not copied.
func utf8Reader(body []byte, contentType string) io.Reader {
	if declaresUTF8(contentType) {
		return bytes.NewReader(body)
	}
	enc, name, _ := charset.DetermineEncoding(body[:min(len(body), 1024)], contentType)
	if name == "utf-8" || enc == nil {
		return bytes.NewReader(body)
	}
	return transform.NewReader(bytes.NewReader(body), enc.NewDecoder())
}

// normalizeSpace trims s, folds every run of white space into one space
// and drops control characters.
func normalizeSpace(s string) string {
	if isNormalSpace(s) {
		return s // most titles: nothing to do, nothing to allocate
	}
	// Control characters (an escape sequence, say) mean nothing in a
	// title, which a terminal may show: they go.
	return strings.Join(strings.Fields(strings.Map(dropControl, s)), " ")
}

// dropControl drops the control characters but the white space ones.
func dropControl(r rune) rune {
	if unicode.IsControl(r) && !unicode.IsSpace(r) {
		return -1
	}
	return r
}

// isNormalSpace says whether s is ASCII with its words separated by
// single spaces and no space at either end: what normalizeSpace returns.
func isNormalSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x80:
			return false // non-ASCII spaces exist: leave it to strings.Fields
		case c == ' ':
			if i == 0 || i == len(s)-1 || s[i+1] == ' ' {
				return false
			}
		case c < ' ' || c == 0x7f:
			return false // white space to collapse, or a control character
		}
	}
	return true
}

// isChallenge says whether a response is a bot challenge rather than the
// page: the cf-mitigated header says so, or the HTML carries what
// Cloudflare's challenge pages (and those that copy them) carry and
// ordinary pages do not: its options object, its old verification form, or
// the title "Just a moment...". "challenge-platform" is not such a mark:
// Cloudflare puts /cdn-cgi/challenge-platform/ scripts in ordinary pages.
// Each mark starts with a byte that is rare in HTML, so each search is
// mostly one vector scan of the page's head.
func isChallenge(fr *fetch.Result, contentType string) bool {
	if strings.EqualFold(fr.Header.Get("Cf-Mitigated"), "challenge") {
		return true
	}
	if !isHTML(contentType) || len(fr.Body) == 0 {
		return false
	}
	head := fr.Body[:min(len(fr.Body), 64<<10)]
	return bytes.Contains(head, []byte("_cf_chl_opt")) ||
		containsAfter(head, "cf-", "browser-verification") ||
		containsAfter(head, "<title>", "Just a moment...</title>")
}

// containsAfter says whether s holds rest right after prefix (in any case),
// looking for rest, the rarer half, first.
func containsAfter(s []byte, prefix, rest string) bool {
	for len(s) > 0 {
		i := bytes.Index(s, []byte(rest))
		if i < 0 {
			return false
		}
		if i >= len(prefix) && bytes.EqualFold(s[i-len(prefix):i], []byte(prefix)) {
			return true
		}
		s = s[i+1:]
	}
	return false
}
