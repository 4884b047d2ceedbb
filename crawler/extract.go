package crawler

import (
	"bytes"
	"io"
	"mime"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/transform"
)

// isHTML reports whether a Content-Type names an HTML document.
func isHTML(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "text/html" || mt == "application/xhtml+xml"
}

// extractTitle returns the first <title>, whitespace-normalised, or "".
//
// It runs x/net/html's tokenizer, the one under goquery, and stops at the
// title: building the whole tree only to read one element costs a bulk
// fetch most of its client CPU. Title text is RCDATA, so the tokenizer
// returns it as one unescaped text token, exactly as the tree would hold it.
func extractTitle(body []byte, contentType string) string {
	z := html.NewTokenizer(utf8Reader(body, contentType))
	inTitle := false
	var title strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return normalizeSpace(title.String())
		case html.StartTagToken:
			name, _ := z.TagName()
			inTitle = atom.Lookup(name) == atom.Title
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

// utf8Reader returns body as UTF-8, converting from the charset named by
// the Content-Type, a BOM or a <meta> tag; UTF-8 bodies are not copied.
func utf8Reader(body []byte, contentType string) io.Reader {
	enc, name, _ := charset.DetermineEncoding(body[:min(len(body), 1024)], contentType)
	if name == "utf-8" || enc == nil {
		return bytes.NewReader(body)
	}
	return transform.NewReader(bytes.NewReader(body), enc.NewDecoder())
}

// normalizeSpace trims s and folds every run of white space into one space.
func normalizeSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
