package crawler

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// page is what the crawler learns from one HTML document.
type page struct {
	doc       *goquery.Document
	title     string
	canonical string     // the page's <link rel=canonical>, absolute, or ""
	links     []*url.URL // canonical, absolute http(s), each once, in document order
	rich      []Link     // links that carry data (a FollowRule's Pass), canonical
}

// linkRules say which links of a page are followed.
type linkRules struct {
	followNofollow bool
	// follow, when not empty, limits links to a[href] and area[href]
	// elements matching one of its rules' selectors or inside one.
	follow []FollowRule
	// from is the page for the rules' Pass (its Doc set by parsePage).
	from *Page
}

// linkRels are the rel values of <link> and Link headers that lead to
// other pages (stylesheets and icons do not).
var linkRels = map[string]bool{"alternate": true, "next": true, "prev": true, "previous": true}

// documentTitle is the page's title as a browser shows it: the text of
// its first HTML <title>. An <svg> or <math> has <title>s of its own
// (inline icons carry them), which are not the page's.
func documentTitle(doc *goquery.Document) string {
	return normalizeSpace(doc.Find("title").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return s.Get(0).Namespace == ""
	}).First().Text())
}

// treeTitle is documentTitle of body, parsed whole: the answer for a page
// where a token scan cannot tell (see foreignTag).
func treeTitle(body []byte, contentType string) string {
	doc, err := goquery.NewDocumentFromReader(utf8Reader(body, contentType))
	if err != nil {
		return ""
	}
	return documentTitle(doc)
}

// foreignTag says whether a start tag opens SVG or MathML content, whose
// <title>s are not the page's. A token scan that meets a <title> after one
// cannot tell where that content ends (an HTML element inside may close
// it, an </svg> may not) and asks the tree (treeTitle); inline SVG before
// the page's own title is rare.
func foreignTag(tag atom.Atom, tt html.TokenType) bool {
	return tt == html.StartTagToken && (tag == atom.Svg || tag == atom.Math)
}

// parsePage extracts the title and the followable links of an HTML page:
// a[href], area[href], link[href] with rel alternate/next/prev,
// iframe[src], frame[src], <meta http-equiv=refresh>, and Link headers,
// resolved against <base href> where there is one. Links marked
// rel=nofollow, or every link when <meta name=robots> says nofollow, are
// left out unless followNofollow. Only http and https links are kept.
func parsePage(body []byte, contentType string, pageURL *url.URL, header http.Header, rules linkRules) (p page) {
	doc, err := goquery.NewDocumentFromReader(utf8Reader(body, contentType))
	if err != nil {
		return page{}
	}
	p = page{doc: doc, title: documentTitle(doc)}
	followNofollow := rules.followNofollow
	base := pageURL
	if href, ok := doc.Find("base[href]").First().Attr("href"); ok {
		if b, err := pageURL.Parse(strings.TrimSpace(href)); err == nil {
			base = b
		}
	}
	doc.Find("link[rel][href]").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		if !hasToken(s.AttrOr("rel", ""), "canonical") {
			return true
		}
		if u, err := base.Parse(strings.TrimSpace(s.AttrOr("href", ""))); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			p.canonical = u.String()
		}
		return false
	})
	if !followNofollow && (metaNofollow(doc) || headerNofollow(header)) {
		return p
	}

	links := linkSet{seen: map[string]bool{}}
	add := links.add
	defer func() { p.links = links.links }()
	followable := func(s *goquery.Selection) bool {
		return followNofollow || !hasToken(s.AttrOr("rel", ""), "nofollow")
	}
	if len(rules.follow) > 0 {
		for _, rule := range rules.follow {
			chosen := doc.FindMatcher(rule.Within)
			var data []byte
			if rule.Pass != nil && rules.from != nil {
				from := *rules.from
				from.Doc = doc
				data = rule.Pass(&from)
			}
			chosen.FilterMatcher(anchors).AddSelection(chosen.FindMatcher(anchors)).Each(func(_ int, s *goquery.Selection) {
				if !followable(s) {
					return
				}
				if data == nil {
					add(base, s.AttrOr("href", ""))
				} else if u, ok := links.take(base, s.AttrOr("href", "")); ok {
					p.rich = append(p.rich, Link{URL: u, Data: data})
				}
			})
		}
		return p
	}
	doc.Find("a[href], area[href], link[href], iframe[src], frame[src], meta[http-equiv][content]").Each(func(_ int, s *goquery.Selection) {
		switch goquery.NodeName(s) {
		case "a", "area":
			if followable(s) {
				add(base, s.AttrOr("href", ""))
			}
		case "link":
			if followable(s) && anyToken(s.AttrOr("rel", ""), linkRels) {
				add(base, s.AttrOr("href", ""))
			}
		case "iframe", "frame":
			add(base, s.AttrOr("src", ""))
		case "meta":
			if strings.EqualFold(s.AttrOr("http-equiv", ""), "refresh") {
				if target, ok := refreshURL(s.AttrOr("content", "")); ok {
					add(base, target)
				}
			}
		}
	})
	for _, target := range headerLinks(header) {
		// Link headers resolve against the page itself, not <base>.
		add(pageURL, target)
	}
	return p
}

// linkSet gathers a page's followable links: absolute http(s), canonical,
// each once, in the order met.
type linkSet struct {
	seen  map[string]bool
	links []*url.URL
}

// add resolves ref against from and keeps it if it is a new http(s) link.
func (l *linkSet) add(from *url.URL, ref string) {
	if c, ok := l.take(from, ref); ok {
		l.links = append(l.links, c)
	}
}

// take resolves ref against from and returns it, canonical, if it is an
// http(s) link not met before on this page; it is then met.
func (l *linkSet) take(from *url.URL, ref string) (*url.URL, bool) {
	u, err := from.Parse(strings.TrimSpace(ref))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false
	}
	c, err := canonicalURL(u)
	if err != nil {
		return nil, false
	}
	s := c.String()
	if l.seen[s] {
		return nil, false
	}
	l.seen[s] = true
	return c, true
}

// anchors matches the elements whose href a follow selector may pick.
var anchors = cascadia.MustCompile("a[href], area[href]")

// metaNofollow reports <meta name="robots" content="...nofollow...">.
func metaNofollow(doc *goquery.Document) bool {
	nofollow := false
	doc.Find("meta[name][content]").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		if strings.EqualFold(s.AttrOr("name", ""), "robots") {
			c := strings.ToLower(s.AttrOr("content", ""))
			nofollow = strings.Contains(c, "nofollow") || strings.Contains(c, "none")
		}
		return !nofollow
	})
	return nofollow
}

// headerNofollow reports an X-Robots-Tag header that says nofollow (or
// none) to every agent. A value for one agent ("googlebot: nofollow")
// is left alone: its first directive is not a bare nofollow.
func headerNofollow(header http.Header) bool {
	for _, v := range header.Values("X-Robots-Tag") {
		for d := range strings.SplitSeq(v, ",") {
			if d = strings.ToLower(strings.TrimSpace(d)); d == "nofollow" || d == "none" {
				return true
			}
		}
	}
	return false
}

// refreshURL reads the URL of a meta refresh: "5; url=/next".
func refreshURL(content string) (string, bool) {
	_, rest, ok := strings.Cut(content, ";")
	if !ok {
		_, rest, ok = strings.Cut(content, ",")
	}
	if !ok {
		return "", false
	}
	rest = strings.TrimSpace(rest)
	if len(rest) < 4 || !strings.EqualFold(rest[:3], "url") {
		return "", false
	}
	rest = strings.TrimSpace(rest[3:])
	if !strings.HasPrefix(rest, "=") {
		return "", false
	}
	return strings.Trim(strings.TrimSpace(rest[1:]), `"'`), true
}

// headerLinks returns the targets of Link headers whose rel leads to a
// page: `<https://x/2>; rel="next"`.
func headerLinks(h http.Header) []string {
	var out []string
	for _, v := range h.Values("Link") {
		for part := range strings.SplitSeq(v, ",") {
			target, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			target = strings.TrimSpace(target)
			if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			for param := range strings.SplitSeq(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(param), "=")
				if strings.EqualFold(strings.TrimSpace(k), "rel") && anyToken(strings.Trim(v, `"`), linkRels) {
					out = append(out, target[1:len(target)-1])
					break
				}
			}
		}
	}
	return out
}

// hasToken reports whether the space-separated list has tok (any case).
func hasToken(list, tok string) bool {
	for f := range strings.FieldsSeq(list) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}

func anyToken(list string, set map[string]bool) bool {
	for f := range strings.FieldsSeq(list) {
		if set[strings.ToLower(f)] {
			return true
		}
	}
	return false
}
