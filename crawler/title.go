package crawler

import (
	"bytes"

	"golang.org/x/net/html"
)

// quickTitle finds the <title> of a UTF-8 page by scanning bytes, which is
// several times cheaper than tokenizing. It only answers when the page is
// plain up to the end of the title: any comment, script-like raw-text
// element, <svg> or <math> (whose own <title>s are not the page's), quoted
// attribute or NUL byte on the way makes it give up (ok false), and the
// caller falls back to the tokenizer. A fuzz test holds the two to the same
// answers.
func quickTitle(body []byte) (title string, ok bool) {
	for i := 0; ; {
		lt := bytes.IndexByte(body[i:], '<')
		if lt < 0 {
			return "", true // no title at all
		}
		i += lt + 1
		name := tagName(body[i:])
		switch name {
		case "title":
			gt := bytes.IndexByte(body[i:], '>')
			if gt < 0 || bytes.ContainsAny(body[i:i+gt], `"'<`) {
				return "", false
			}
			text := body[i+gt+1:]
			end := indexEndTitle(text)
			if end < 0 || bytes.IndexByte(text[:end], 0) >= 0 {
				return "", false
			}
			return normalizeSpace(html.UnescapeString(string(text[:end]))), true
		case "!":
			// <!DOCTYPE html> is a plain tag as far as we care; any other
			// declaration sends us to the tokenizer.
			if len(body)-i < 8 || !bytes.EqualFold(body[i:i+8], []byte("!doctype")) {
				return "", false
			}
			end := skipTag(body[i:])
			if end < 0 {
				return "", false
			}
			i += end
		case "!--", "?", "script", "style", "svg", "math", "template", "textarea", "xmp",
			"noscript", "iframe", "noembed", "noframes", "plaintext", "select":
			return "", false
		case "":
			// Not a tag: a lone '<' is text.
		default:
			end := skipTag(body[i:])
			if end < 0 {
				return "", false
			}
			i += end
		}
	}
}

// skipTag returns the length of a tag's rest up to and including its '>',
// skipping quoted attribute values (a '>' inside them does not end the
// tag), or -1 when the tag does not end plainly.
func skipTag(b []byte) int {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '>':
			return i + 1
		case '"', '\'':
			if i == 0 || b[i-1] != '=' {
				return -1
			}
			j := bytes.IndexByte(b[i+1:], b[i])
			if j < 0 {
				return -1
			}
			i += j + 1
		case '<', 0:
			return -1
		}
	}
	return -1
}

// tagName returns the lower-cased name of the tag starting at b (just after
// '<'), as the tokenizer reads it: a letter, then anything up to white
// space, '/' or '>'. It returns "!--" for a comment, "!" or "?" for other
// declarations, "/" for an end tag, "other" for names longer than any we
// look for, and "" when the '<' starts no tag. It does not allocate.
func tagName(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("!--")):
		return "!--"
	case len(b) == 0:
		return ""
	case b[0] == '!':
		return "!"
	case b[0] == '?':
		return "?"
	case b[0] == '/':
		return "/"
	case !(b[0] >= 'a' && b[0] <= 'z' || b[0] >= 'A' && b[0] <= 'Z'):
		return ""
	}
	// The name ends at white space, '/' or '>'; past the longest watched
	// name it is none of them. (bytes.IndexAny built its byte set on
	// every call: a third of the scan.)
	n := 0
	for n < len(b) && !endsTagName[b[n]] {
		if n++; n > len(longestName) {
			return "other"
		}
	}
	for _, name := range watchedNames {
		if len(name) == n && bytes.EqualFold(b[:n], []byte(name)) {
			return name
		}
	}
	return "other"
}

// watchedNames are the tags quickTitle acts on; every other is skipped.
var watchedNames = []string{"title", "script", "style", "svg", "math", "template", "textarea", "xmp",
	"noscript", "iframe", "noembed", "noframes", "plaintext", "select"}

const longestName = "plaintext"

// endsTagName marks the bytes that end a tag's name.
var endsTagName = [256]bool{' ': true, '\t': true, '\n': true, '\f': true, '\r': true, '/': true, '>': true}

// indexEndTitle finds "</title" followed by white space, '/' or '>', which
// is what ends RCDATA; -1 if it is not there.
func indexEndTitle(b []byte) int {
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("</"))
		if j < 0 {
			return -1
		}
		i += j
		rest := b[i+2:]
		if len(rest) > 5 && bytes.EqualFold(rest[:5], []byte("title")) {
			switch rest[5] {
			case '>', '/', ' ', '\t', '\n', '\f', '\r':
				// The tokenizer only ends the title at a whole end tag.
				if bytes.IndexByte(rest, '>') < 0 {
					return -1
				}
				return i
			}
		}
		i += 2
	}
}
