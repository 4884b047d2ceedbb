package testsite

import (
	"fmt"
	"html"
	"net/http"
	"strings"
)

// A small book shop for scraping jobs: /shop/catalogue/page-{n}.html lists
// five books a page with a "next" link, and each book has a detail page
// /shop/catalogue/{slug}/index.html. A few entries are malformed on
// purpose: no price, no availability, or a title that repeats another's.

// Book is one entry of the shop, as its detail page shows it. Empty
// Price or Stock mean the page lacks that element.
type Book struct {
	Slug   string
	Title  string
	Price  string // "51.77", or "" when missing
	Stock  string // availability text, or "" when missing
	Rating string // One .. Five, a CSS class of p.star-rating
	Tags   []string
	Image  string // relative to the detail page, as written
	Desc   string // inner HTML of div.desc
}

// BooksPerPage is the size of a listing page.
const BooksPerPage = 5

var shopTitles = []string{
	"A Light in the Attic", "Tipping the Velvet", "Soumission", "Sharp Objects", "Sapiens",
	"The Requiem Red", "The Dirty Little Secrets", "The Coming Woman", "The Boys in the Boat", "The Black Maria",
	"Starving Hearts", "Shakespeare's Sonnets", "Set Me Free", "Scott Pilgrim", "Rip it Up and Start Again",
	"Our Band Could Be Your Life", "Olio", "Mesaerion", "Libertarianism for Beginners", "It's Only the Himalayas",
}

var ratings = []string{"One", "Two", "Three", "Four", "Five"}

// Books returns the shop's catalogue, in listing order.
func Books() []Book {
	tags := [][]string{{"poetry"}, {"history", "fiction"}, {"fiction"}, {"mystery", "thriller"}, {"history", "science"}}
	out := make([]Book, len(shopTitles))
	for i, title := range shopTitles {
		b := Book{
			Slug:   fmt.Sprintf("%s_%d", slugify(title), i+1),
			Title:  title,
			Price:  fmt.Sprintf("%d.%02d", 10+i*3, (i*37)%100),
			Stock:  fmt.Sprintf("In stock (%d available)", 20-i),
			Rating: ratings[i%5],
			Tags:   tags[i%5],
			Desc:   fmt.Sprintf("<p>Book number %d, <b>well</b> worth reading.</p>", i+1),
		}
		b.Image = "../../media/" + b.Slug + ".jpg"
		switch i {
		case 6:
			b.Price = "" // malformed: no price
		case 12:
			b.Stock = "" // malformed: no availability
		case 16:
			b.Title = shopTitles[2] // a repeated title, for unique_by
		}
		out[i] = b
	}
	return out
}

func slugify(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

func (s *Site) shop(w http.ResponseWriter, r *http.Request) {
	if !wait(r, s.opts.Latency.String()) { // the site's latency, for tests that must catch a job mid-way
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/shop/")
	books := Books()
	pages := (len(books) + BooksPerPage - 1) / BooksPerPage
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	switch {
	case rest == "" || rest == "catalogue/" || rest == "index.html":
		http.Redirect(w, r, "/shop/catalogue/page-1.html", http.StatusFound)
	case strings.HasPrefix(rest, "catalogue/page-"):
		var n int
		if _, err := fmt.Sscanf(rest, "catalogue/page-%d.html", &n); err != nil || n < 1 || n > pages {
			http.NotFound(w, r)
			return
		}
		var body strings.Builder
		for _, b := range books[(n-1)*BooksPerPage : min(n*BooksPerPage, len(books))] {
			fmt.Fprintf(&body, `<article class="product_pod"><h3><a href="%s/index.html" title="%s">%s</a></h3><p class="price_color">£%s</p></article>`,
				b.Slug, html.EscapeString(b.Title), html.EscapeString(b.Title), b.Price)
		}
		body.WriteString(`<ul class="pager">`)
		if n > 1 {
			fmt.Fprintf(&body, `<li class="previous"><a href="page-%d.html">previous</a></li>`, n-1)
		}
		if n < pages {
			fmt.Fprintf(&body, `<li class="next"><a href="page-%d.html">next</a></li>`, n+1)
		}
		body.WriteString(`</ul><a href="/shop/about.html">about</a>`)
		fmt.Fprintf(w, `<!doctype html><html><head><title>Books | page %d</title></head><body><h1>All products</h1>%s</body></html>`, n, body.String())
	case rest == "about.html":
		fmt.Fprint(w, `<!doctype html><html><head><title>About the shop</title></head><body><p>Not a product.</p></body></html>`)
	default:
		slug, ok := strings.CutSuffix(strings.TrimPrefix(rest, "catalogue/"), "/index.html")
		for _, b := range books {
			if ok && b.Slug == slug {
				writeBook(w, b)
				return
			}
		}
		http.NotFound(w, r)
	}
}

func writeBook(w http.ResponseWriter, b Book) {
	var body strings.Builder
	fmt.Fprintf(&body, "<h1>%s</h1>", html.EscapeString(b.Title))
	if b.Price != "" {
		fmt.Fprintf(&body, `<p class="price_color">£%s</p>`, b.Price)
	}
	if b.Stock != "" {
		fmt.Fprintf(&body, "<p class=\"availability\">\n    %s\n</p>", b.Stock)
	}
	fmt.Fprintf(&body, `<p class="star-rating %s"></p><ul class="tags">`, b.Rating)
	for _, t := range b.Tags {
		fmt.Fprintf(&body, `<li><a href="/shop/tags/%s">%s</a></li>`, t, t)
	}
	fmt.Fprintf(&body, `</ul><img src="%s" alt="cover"><div class="desc">%s</div>`, b.Image, b.Desc)
	fmt.Fprintf(w, `<!doctype html><html><head><title>%s | Books</title></head><body>`+
		`<ul class="breadcrumb"><li><a href="../page-1.html">Books</a></li></ul>`+
		`<article class="product_page">%s</article></body></html>`, html.EscapeString(b.Title), body.String())
}
