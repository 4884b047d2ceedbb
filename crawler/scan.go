package crawler

import (
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// scanPage is parsePage for a crawl that needs no document tree (no job
// extractor, no follow selectors): the same title, links and canonical,
// read in one pass of the tokenizer that goquery's parser runs on, without
// building the tree. A crawl spends most of its CPU per page here, so this
// is worth the second implementation; FuzzScanPageAgreesWithParsePage keeps
// the two in step.
func scanPage(body []byte, contentType string, pageURL *url.URL, header http.Header, followNofollow bool) page {
	type ref struct {
		kind  atom.Atom
		value string
	}
	var (
		p         page
		refs      []ref
		baseHref  string
		haveBase  bool
		canonical string
		haveCanon bool
		nofollow  bool
		frameset  bool // <frame> counts only in a frameset, as the HTML parser has it
		inTitle   bool
		haveTitle bool
		foreign   bool // an <svg> or <math> came before any title
		askTree   bool // a <title> came after one: see foreignTag
		title     strings.Builder
	)
	z := html.NewTokenizer(utf8Reader(body, contentType))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		switch tt {
		case html.TextToken:
			if inTitle {
				title.Write(z.Text())
			}
			continue
		case html.EndTagToken:
			if name, _ := z.TagName(); atom.Lookup(name) == atom.Title && inTitle {
				inTitle, haveTitle = false, true
			}
			continue
		case html.StartTagToken, html.SelfClosingTagToken:
		default:
			continue
		}
		name, hasAttr := z.TagName()
		tag := atom.Lookup(name)
		if foreignTag(tag, tt) && !haveTitle {
			foreign = true
			continue
		}
		if tag == atom.Frameset {
			frameset = true
			continue
		}
		if tag == atom.Title {
			// The tree ignores "/>" on <title/>: what follows is the
			// title, as after <title>.
			if !haveTitle {
				inTitle = true
				title.Reset()
				askTree = askTree || foreign
			}
			continue
		}
		switch tag {
		case atom.A, atom.Area, atom.Link, atom.Iframe, atom.Frame, atom.Meta, atom.Base:
		default:
			continue
		}
		attrs := map[string]string{}
		for hasAttr {
			var k, v []byte
			k, v, hasAttr = z.TagAttr()
			key := string(k)
			if _, dup := attrs[key]; !dup { // the first of a repeated attribute counts
				attrs[key] = string(v)
			}
		}
		switch tag {
		case atom.Base:
			if href, ok := attrs["href"]; ok && !haveBase {
				baseHref, haveBase = href, true
			}
		case atom.A, atom.Area:
			if href, ok := attrs["href"]; ok && (followNofollow || !hasToken(attrs["rel"], "nofollow")) {
				refs = append(refs, ref{tag, href})
			}
		case atom.Link:
			href, ok := attrs["href"]
			if !ok {
				continue
			}
			rel, hasRel := attrs["rel"]
			if hasRel && !haveCanon && hasToken(rel, "canonical") {
				canonical, haveCanon = href, true
			}
			if (followNofollow || !hasToken(rel, "nofollow")) && anyToken(rel, linkRels) {
				refs = append(refs, ref{tag, href})
			}
		case atom.Iframe, atom.Frame:
			if src, ok := attrs["src"]; ok && (tag == atom.Iframe || frameset) {
				refs = append(refs, ref{tag, src})
			}
		case atom.Meta:
			content, ok := attrs["content"]
			if !ok {
				continue
			}
			if equiv, ok := attrs["http-equiv"]; ok && strings.EqualFold(equiv, "refresh") {
				if target, ok := refreshURL(content); ok {
					refs = append(refs, ref{tag, target})
				}
			}
			if n, ok := attrs["name"]; ok && strings.EqualFold(n, "robots") && !nofollow {
				c := strings.ToLower(content)
				nofollow = strings.Contains(c, "nofollow") || strings.Contains(c, "none")
			}
		}
	}
	switch {
	case askTree:
		p.title = treeTitle(body, contentType)
	case haveTitle || inTitle:
		p.title = normalizeSpace(title.String())
	}
	base := pageURL
	if haveBase {
		if b, err := pageURL.Parse(strings.TrimSpace(baseHref)); err == nil {
			base = b
		}
	}
	if haveCanon {
		if u, err := base.Parse(strings.TrimSpace(canonical)); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			p.canonical = u.String()
		}
	}
	if (nofollow || headerNofollow(header)) && !followNofollow {
		return p
	}
	links := linkSet{seen: map[string]bool{}}
	add := links.add
	for _, r := range refs {
		add(base, r.value)
	}
	for _, target := range headerLinks(header) {
		add(pageURL, target) // Link headers resolve against the page itself
	}
	p.links = links.links
	return p
}
