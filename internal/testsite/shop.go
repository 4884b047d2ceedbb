package testsite

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// A small book shop for scraping jobs: /shop/catalogue/page-{n}.html lists
// five books a page with a "next" link, and each book has a detail page
// /shop/catalogue/{slug}/index.html. A few entries are malformed on
// purpose: no price, no availability, or a title that repeats another's.
//
// For the second edition of jobs the shop also has: formats (variants)
// on most detail pages, with JSON-LD (schema.org Product), OpenGraph and
// a product information table; categories (/shop/categories.html), each
// a listing of three books a page whose <h1> names the category; a long
// listing of one book a page (/shop/all/page-{n}.html); and a JSON API,
// /api/items?page=N or ?cursor=C, five books a page, which gives the next
// page both as a URL ("next") and as a cursor ("cursor").

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
	UPC    string // the product code in the information table and JSON-LD
	// Formats are the variants a detail page lists; none for some books.
	Formats []Format
}

// Format is one variant of a book.
type Format struct {
	Size  string // Paperback, Hardcover, Audiobook
	Stock int
}

// Category is the category of a book: its first tag, capitalised.
func (b Book) Category() string { return strings.ToUpper(b.Tags[0][:1]) + b.Tags[0][1:] }

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
		b.UPC = fmt.Sprintf("%016x", 0x9e3779b97f4a7c15*uint64(i+1))
		for k, size := range []string{"Paperback", "Hardcover", "Audiobook"}[:i%4] {
			b.Formats = append(b.Formats, Format{Size: size, Stock: (i*7+k*3)%10 + 1})
		}
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
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var n int
	var tag string
	switch {
	case rest == "" || rest == "catalogue/" || rest == "index.html":
		http.Redirect(w, r, "/shop/catalogue/page-1.html", http.StatusFound)
	case scan(rest, "catalogue/page-%d.html", &n):
		s.listing(w, r, "All products", books, BooksPerPage, n, "../")
	case scan(rest, "all/page-%d.html", &n):
		s.listing(w, r, "Every book, one a page", books, 1, n, "../catalogue/")
	case rest == "categories.html":
		var body strings.Builder
		body.WriteString(`<h1>Categories</h1><ul class="categories">`)
		for _, tag := range categories(books) {
			fmt.Fprintf(&body, `<li><a href="category/%s/page-1.html">%s</a></li>`, tag, strings.ToUpper(tag[:1])+tag[1:])
		}
		body.WriteString(`</ul>`)
		fmt.Fprintf(w, `<!doctype html><html><head><title>Categories | Books</title></head><body>%s</body></html>`, body.String())
	case strings.HasPrefix(rest, "category/") && scanCategory(rest, &tag, &n):
		var in []Book
		for _, b := range books {
			if b.Tags[0] == tag {
				in = append(in, b)
			}
		}
		if len(in) == 0 {
			http.NotFound(w, r)
			return
		}
		s.listing(w, r, in[0].Category(), in, 3, n, "../../catalogue/")
	case rest == "about.html":
		fmt.Fprint(w, `<!doctype html><html><head><title>About the shop</title></head><body><p>Not a product.</p></body></html>`)
	default:
		slug, ok := strings.CutSuffix(strings.TrimPrefix(rest, "catalogue/"), "/index.html")
		for _, b := range books {
			if ok && b.Slug == slug {
				s.writeBook(w, r, b)
				return
			}
		}
		http.NotFound(w, r)
	}
}

// scan reads a path by a pattern of one %d, and says whether it matched
// whole.
func scan(path, pattern string, n *int) bool {
	var tail string
	k, _ := fmt.Sscanf(path+"\x00", pattern+"%s", n, &tail)
	return k == 2 && tail == "\x00"
}

// scanCategory reads category/{tag}/page-{n}.html.
func scanCategory(rest string, tag *string, n *int) bool {
	parts := strings.Split(rest, "/")
	return len(parts) == 3 && scan(parts[2], "page-%d.html", n) && func() bool { *tag = parts[1]; return true }()
}

// categories are the books' first tags, in order of first use.
func categories(books []Book) []string {
	var out []string
	for _, b := range books {
		if !slices.Contains(out, b.Tags[0]) {
			out = append(out, b.Tags[0])
		}
	}
	return out
}

// listing writes page n of a listing of books, perPage a page, under an
// <h1> heading; toBooks leads from the listing's folder to the books'.
func (s *Site) listing(w http.ResponseWriter, r *http.Request, heading string, books []Book, perPage, n int, toBooks string) {
	pages := (len(books) + perPage - 1) / perPage
	if n < 1 || n > pages {
		http.NotFound(w, r)
		return
	}
	if toBooks == "../" {
		toBooks = "" // the catalogue's own listing sits beside its books
	}
	var body strings.Builder
	for _, b := range books[(n-1)*perPage : min(n*perPage, len(books))] {
		price := b.Price
		fmt.Fprintf(&body, `<article class="product_pod"><h3><a href="%s%s/index.html" title="%s">%s</a></h3><p class="%s">£%s</p></article>`,
			toBooks, b.Slug, html.EscapeString(b.Title), html.EscapeString(b.Title), s.priceClass(), price)
	}
	body.WriteString(`<ul class="pager">`)
	if n > 1 {
		fmt.Fprintf(&body, `<li class="previous"><a href="page-%d.html">previous</a></li>`, n-1)
	}
	if n < pages {
		fmt.Fprintf(&body, `<li class="next"><a href="page-%d.html">next</a></li>`, n+1)
	}
	body.WriteString(`</ul><a href="/shop/about.html">about</a>`)
	fmt.Fprintf(w, `<!doctype html><html><head><title>Books | page %d</title></head><body><h1>%s</h1>%s</body></html>`, n, html.EscapeString(heading), body.String())
}

// priceClass is the class of a price: price_color, or price after the
// redesign (Options.ShopRedesign), which breaks jobs that rely on it.
func (s *Site) priceClass() string {
	if s.opts.ShopRedesign {
		return "price"
	}
	return "price_color"
}

func (s *Site) writeBook(w http.ResponseWriter, r *http.Request, b Book) {
	var body strings.Builder
	fmt.Fprintf(&body, "<h1>%s</h1>", html.EscapeString(b.Title))
	if b.Price != "" {
		fmt.Fprintf(&body, `<p class="%s">£%s</p>`, s.priceClass(), b.Price)
	}
	if b.Stock != "" {
		fmt.Fprintf(&body, "<p class=\"availability\">\n    %s\n</p>", b.Stock)
	}
	fmt.Fprintf(&body, `<p class="star-rating %s"></p><ul class="tags">`, b.Rating)
	for _, t := range b.Tags {
		fmt.Fprintf(&body, `<li><a href="/shop/tags/%s">%s</a></li>`, t, t)
	}
	fmt.Fprintf(&body, `</ul><img src="%s" alt="cover"><div class="desc">%s</div>`, b.Image, b.Desc)
	if len(b.Formats) > 0 {
		body.WriteString(`<ul class="variants">`)
		for _, f := range b.Formats {
			fmt.Fprintf(&body, `<li><span class="size">%s</span> <span class="stock">%d</span></li>`, f.Size, f.Stock)
		}
		body.WriteString(`</ul>`)
	}
	fmt.Fprintf(&body, `<table class="info"><tr><th>UPC</th><td>%s</td></tr><tr><th>Product Type</th><td>Books</td></tr><tr><th>Category</th><td>%s</td></tr></table>`,
		b.UPC, b.Category())
	image := "http://" + r.Host + "/shop/media/" + b.Slug + ".jpg"
	head := fmt.Sprintf(`<title>%s | Books</title><meta property="og:title" content="%s"><meta property="og:type" content="book">`+
		`<meta property="og:image" content="%s"><meta name="twitter:card" content="summary">`,
		html.EscapeString(b.Title), html.EscapeString(b.Title), image)
	if ld := s.jsonLD(b, image); ld != "" {
		head += `<script type="application/ld+json">` + ld + `</script>`
	}
	fmt.Fprintf(w, `<!doctype html><html><head>%s</head><body>`+
		`<ul class="breadcrumb"><li><a href="../page-1.html">Books</a></li></ul>`+
		`<article class="product_page">%s</article></body></html>`, head, body.String())
}

// jsonLD is a book's schema.org Product: alone for odd books, inside an
// @graph with a BreadcrumbList for even ones, as sites write both. The
// redesigned shop has none.
func (s *Site) jsonLD(b Book, image string) string {
	if s.opts.ShopRedesign {
		return ""
	}
	product := map[string]any{"@type": "Product", "name": b.Title, "sku": b.UPC, "image": image, "category": b.Category()}
	if b.Price != "" {
		product["offers"] = map[string]any{"@type": "Offer", "price": b.Price, "priceCurrency": "GBP",
			"availability": "https://schema.org/InStock"}
	}
	var doc any = product
	if n, _ := strconv.Atoi(b.Slug[strings.LastIndex(b.Slug, "_")+1:]); n%2 == 0 {
		doc = map[string]any{"@context": "https://schema.org", "@graph": []any{
			map[string]any{"@type": "BreadcrumbList", "itemListElement": []any{map[string]any{"@type": "ListItem", "position": 1, "name": "Books"}}},
			product,
		}}
	} else {
		product["@context"] = "https://schema.org"
	}
	out, _ := json.Marshal(doc)
	return string(out)
}

// APIPerPage is the size of a page of the JSON API.
const APIPerPage = 5

// api serves /api/items: ?page=N (from 1) or ?cursor=C (from the cursor
// a page gives; none is the first page). Each page has "results", "next"
// (the next page's URL, in the same style, or null) and "cursor" (the
// next page's cursor, or null).
func (s *Site) api(w http.ResponseWriter, r *http.Request) {
	if !wait(r, s.opts.Latency.String()) {
		return
	}
	books := Books()
	q := r.URL.Query()
	offset := 0
	byPage := q.Has("page")
	switch {
	case byPage:
		n, err := strconv.Atoi(q.Get("page"))
		if err != nil || n < 1 {
			http.Error(w, `{"error":"page: want a number from 1"}`, http.StatusBadRequest)
			return
		}
		offset = (n - 1) * APIPerPage
	case q.Get("cursor") != "":
		raw, err := base64.RawURLEncoding.DecodeString(q.Get("cursor"))
		if err == nil {
			offset, err = strconv.Atoi(strings.TrimPrefix(string(raw), "offset:"))
		}
		if err != nil || offset < 0 {
			http.Error(w, `{"error":"cursor: not one this API gave"}`, http.StatusBadRequest)
			return
		}
	}
	name := "name"
	if s.opts.ShopRedesign {
		name = "title"
	}
	results := []any{}
	for i := offset; i < min(offset+APIPerPage, len(books)); i++ {
		b := books[i]
		item := map[string]any{"id": i + 1, name: b.Title, "url": "/shop/catalogue/" + b.Slug + "/index.html", "tags": b.Tags, "price": nil}
		if b.Price != "" {
			item["price"], _ = strconv.ParseFloat(b.Price, 64)
		}
		formats := []any{}
		for _, f := range b.Formats {
			formats = append(formats, map[string]any{"size": f.Size, "stock": f.Stock})
		}
		item["formats"] = formats
		results = append(results, item)
	}
	page := map[string]any{"count": len(books), "results": results, "next": nil, "cursor": nil}
	if next := offset + APIPerPage; next < len(books) {
		cursor := base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(next)))
		page["cursor"] = cursor
		page["next"] = "/api/items?cursor=" + cursor
		if byPage {
			page["next"] = fmt.Sprintf("/api/items?page=%d", next/APIPerPage+1)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(page)
}
