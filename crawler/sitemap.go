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

	"github.com/fetchall/fetchall/fetch"
)

// maxSitemapBytes caps one sitemap after decompression (the protocol's own
// limit is 50 MB).
const maxSitemapBytes = 50 << 20

// maxSitemaps caps how many sitemap files one crawl reads.
const maxSitemaps = 1000

// SitemapSource yields the tasks of its seeds, then the pages that the
// sitemaps of the seeds' sites list: the Sitemap: lines of their
// robots.txt (when robots is not nil) and /sitemap.xml. Sitemap indexes are
// followed and gzipped sitemaps read. URLs are yielded one at a time as a
// file is decoded, so a sitemap of any length costs the frontier's memory,
// not a list of its own; one file's body is held while it is read. A
// sitemap that cannot be fetched or parsed is skipped and named in Notes.
// The crawl canonicalises, scopes and deduplicates the URLs like any link.
type SitemapSource struct {
	seeds  Source
	f      Fetcher
	robots *Robots

	sites   []string        // scheme://host of the seeds, in order
	queue   []string        // sitemap files to read
	queued  map[string]bool // every sitemap file ever queued
	started bool            // the seeds have ended and the queue is built
	current *sitemapReader
	notes   []string
}

// NewSitemapSource returns a source of seeds followed by what their sites'
// sitemaps list, fetched with f.
func NewSitemapSource(seeds Source, f Fetcher, robots *Robots) *SitemapSource {
	return &SitemapSource{seeds: seeds, f: f, robots: robots, queued: map[string]bool{}}
}

// Notes says which sitemaps could not be read, once the source is done.
func (s *SitemapSource) Notes() []string { return s.notes }

// Next implements Source.
func (s *SitemapSource) Next(ctx context.Context) (Task, error) {
	if !s.started {
		t, err := s.seeds.Next(ctx)
		if !errors.Is(err, io.EOF) {
			if err == nil && t.Invalid == nil {
				s.noteSite(t.URL)
			}
			return t, err
		}
		s.started = true
		if err := s.queueSites(ctx); err != nil {
			return Task{}, err
		}
	}
	for {
		if s.current != nil {
			loc, child, err := s.current.next()
			switch {
			case err == nil && child:
				s.add(loc)
				continue
			case err == nil:
				return Task{URL: loc, FromSitemap: true}, nil
			case !errors.Is(err, io.EOF):
				s.notes = append(s.notes, "sitemap "+s.current.url+": "+err.Error())
			}
			s.current.close()
			s.current = nil
		}
		if len(s.queue) == 0 || ctx.Err() != nil {
			return Task{}, io.EOF
		}
		next := s.queue[0]
		s.queue = s.queue[1:]
		s.current = s.open(ctx, next)
	}
}

func (s *SitemapSource) noteSite(raw string) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return
	}
	site := u.Scheme + "://" + u.Host
	for _, known := range s.sites {
		if known == site {
			return
		}
	}
	s.sites = append(s.sites, site)
}

// queueSites queues each seed site's sitemaps: robots.txt's first.
func (s *SitemapSource) queueSites(ctx context.Context) error {
	for _, site := range s.sites {
		if s.robots != nil {
			u, _ := url.Parse(site + "/")
			listed, err := s.robots.Sitemaps(ctx, u)
			if err != nil {
				return nil // the run is ending
			}
			for _, l := range listed {
				s.add(l)
			}
		}
		s.add(site + "/sitemap.xml")
	}
	return nil
}

func (s *SitemapSource) add(u string) {
	if !s.queued[u] && len(s.queued) < maxSitemaps {
		s.queued[u] = true
		s.queue = append(s.queue, u)
	}
}

// open fetches one sitemap file; nil when it cannot be read (noted).
func (s *SitemapSource) open(ctx context.Context, u string) *sitemapReader {
	res := s.f.Get(ctx, u, func(string) bool { return true })
	if res.Err != nil || res.Status != 200 {
		if res.Status != 404 && ctx.Err() == nil { // a site without a sitemap is normal
			s.notes = append(s.notes, "sitemap "+u+": "+describeFailure(res.Status, res.Err))
		}
		res.Release()
		return nil
	}
	r, err := newSitemapReader(u, res)
	if err != nil {
		s.notes = append(s.notes, "sitemap "+u+": "+err.Error())
		res.Release()
		return nil
	}
	return r
}

func describeFailure(status int, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("status %d", status)
}

// sitemapReader decodes one sitemap or sitemap index, gzipped or not,
// one <loc> at a time.
type sitemapReader struct {
	url  string
	res  interface{ Release() }
	zr   *gzip.Reader
	dec  *xml.Decoder
	in   string // "sitemap" or "url": the element a <loc> belongs to
	loc  strings.Builder
	inLo bool
}

func newSitemapReader(u string, res *fetch.Result) (*sitemapReader, error) {
	r := &sitemapReader{url: u, res: res}
	var body io.Reader = bytes.NewReader(res.Body)
	if bytes.HasPrefix(res.Body, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, err
		}
		r.zr = zr
		body = io.LimitReader(zr, maxSitemapBytes)
	}
	r.dec = xml.NewDecoder(body)
	return r, nil
}

// next returns the next <loc> and whether it names a child sitemap; io.EOF
// at the end of the file.
func (r *sitemapReader) next() (loc string, child bool, err error) {
	for {
		tok, err := r.dec.Token()
		if errors.Is(err, io.EOF) {
			return "", false, io.EOF
		}
		if err != nil {
			return "", false, errors.New("not a valid sitemap: " + err.Error())
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !inSitemapSpace(t.Name) {
				continue // <image:loc>, <video:content_loc>...: not pages
			}
			switch t.Name.Local {
			case "sitemap", "url":
				r.in = t.Name.Local
			case "loc":
				r.inLo = true
				r.loc.Reset()
			}
		case xml.CharData:
			if r.inLo {
				r.loc.Write(t)
			}
		case xml.EndElement:
			if !inSitemapSpace(t.Name) {
				continue
			}
			switch t.Name.Local {
			case "loc":
				r.inLo = false
				if l := strings.TrimSpace(r.loc.String()); l != "" && r.in != "" {
					return l, r.in == "sitemap", nil
				}
			case "sitemap", "url":
				r.in = ""
			}
		}
	}
}

// sitemapNS is the sitemap protocol's XML namespace.
const sitemapNS = "http://www.sitemaps.org/schemas/sitemap/0.9"

// inSitemapSpace says whether an element is the sitemap protocol's own:
// in its namespace, or in none (many sitemaps forget to declare it).
func inSitemapSpace(n xml.Name) bool {
	return n.Space == "" || n.Space == sitemapNS
}

func (r *sitemapReader) close() {
	if r.zr != nil {
		r.zr.Close()
	}
	r.res.Release()
}
