package crawler

import (
	"bytes"
	"mime"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html/charset"
)

// isHTML reports whether a Content-Type names an HTML document.
func isHTML(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "text/html" || mt == "application/xhtml+xml"
}

// parseHTML parses body as HTML, converting its charset (from the
// Content-Type, a BOM or a <meta> tag) to UTF-8 first. Malformed HTML is
// parsed the way browsers do; only an unknown charset falls back to UTF-8.
func parseHTML(body []byte, contentType string) (*goquery.Document, error) {
	r, err := charset.NewReader(bytes.NewReader(body), contentType)
	if err != nil {
		r = bytes.NewReader(body)
	}
	return goquery.NewDocumentFromReader(r)
}

// extractTitle returns the first <title>, whitespace-normalised, or "".
func extractTitle(body []byte, contentType string) string {
	doc, err := parseHTML(body, contentType)
	if err != nil {
		return ""
	}
	return normalizeSpace(doc.Find("title").First().Text())
}

// normalizeSpace trims s and folds every run of white space into one space.
func normalizeSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
