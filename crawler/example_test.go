package crawler_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/internal/testsite"
	"github.com/fetchall/fetchall/limiter"
)

// printTitles is a Sink that prints each page's depth and title.
type printTitles struct{}

func (printTitles) Write(r *crawler.Result) error {
	fmt.Printf("depth %d: %s\n", r.Depth, r.Title)
	return nil
}

func (printTitles) Flush() error { return nil }

// A crawl from Go code: settings as data, one call to assemble the run,
// one to crawl it.
func Example() {
	site := httptest.NewServer(testsite.New())
	defer site.Close()

	run, err := crawler.New(crawler.Settings{
		Workers:  4,
		Limits:   limiter.Config{PerHost: 2},
		MaxDepth: 0, // the seed alone
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer run.Close()
	stats, err := run.Crawl(context.Background(), crawler.Tasks(crawler.Task{URL: site.URL + "/page/7"}), nil, printTitles{})
	fmt.Println(stats.Pages, "page,", err)
	// Output:
	// depth 0: Page 7
	// 1 page, <nil>
}
