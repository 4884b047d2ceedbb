package crawler

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// maxSitemapBytes caps one sitemap after decompression (the protocol's own
// limit is 50 MB).
const maxSitemapBytes = 50 << 20

// maxSitemaps caps how many sitemap files one crawl reads.
const maxSitemaps = 1000

// Sitemaps returns the page URLs listed by the sitemaps of the seeds'
// sites: the Sitemap: lines of their robots.txt (when robots is not nil)
// and /sitemap.xml. Sitemap indexes are followed and gzipped sitemaps
// read. A sitemap that cannot be fetched or parsed is skipped and named in
// the notes. URLs are returned as listed; the crawl canonicalises, scopes
// and deduplicates them like any link.
func Sitemaps(ctx context.Context, f Fetcher, robots *Robots, seeds []string) (urls, notes []string) {
	var queue []string
	seen := map[string]bool{}
	add := func(u string) {
		if !seen[u] {
			seen[u] = true
			queue = append(queue, u)
		}
	}
	for _, s := range seeds {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			continue
		}
		if robots != nil {
			listed, err := robots.Sitemaps(ctx, u)
			if err != nil {
				return urls, notes
			}
			for _, l := range listed {
				add(l)
			}
		}
		add(u.Scheme + "://" + u.Host + "/sitemap.xml")
	}
	for i := 0; i < len(queue) && i < maxSitemaps && ctx.Err() == nil; i++ {
		res := f.Get(ctx, queue[i], func(string) bool { return true })
		if res.Err != nil || res.Status != 200 {
			if res.Status != 404 { // a site without a sitemap is normal
				notes = append(notes, "sitemap "+queue[i]+": "+describeFailure(res.Status, res.Err))
			}
			res.Release()
			continue
		}
		children, pages, err := parseSitemap(res.Body)
		res.Release()
		if err != nil {
			notes = append(notes, "sitemap "+queue[i]+": "+err.Error())
			continue
		}
		for _, c := range children {
			add(c)
		}
		urls = append(urls, pages...)
	}
	return urls, notes
}

func describeFailure(status int, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("status %d", status)
}

// parseSitemap reads a sitemap or sitemap index, gzipped or not, and
// returns the child sitemaps and the page URLs it lists.
func parseSitemap(body []byte) (children, pages []string, err error) {
	var r io.Reader = bytes.NewReader(body)
	if bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		defer zr.Close()
		r = io.LimitReader(zr, maxSitemapBytes)
	}
	dec := xml.NewDecoder(r)
	var inSitemap, inURL, inLoc bool
	var loc strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return children, pages, nil
		}
		if err != nil {
			return nil, nil, errors.New("not a valid sitemap: " + err.Error())
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "sitemap":
				inSitemap = true
			case "url":
				inURL = true
			case "loc":
				inLoc = true
				loc.Reset()
			}
		case xml.CharData:
			if inLoc {
				loc.Write(t)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "loc":
				inLoc = false
				l := strings.TrimSpace(loc.String())
				switch {
				case l == "":
				case inSitemap:
					children = append(children, l)
				case inURL:
					pages = append(pages, l)
				}
			case "sitemap":
				inSitemap = false
			case "url":
				inURL = false
			}
		}
	}
}
