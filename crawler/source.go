package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/fetchall/fetchall/internal/urllist"
)

// Tasks is a Source of the given tasks, in order.
func Tasks(tasks ...Task) Source {
	return &sliceSource{tasks: tasks}
}

type sliceSource struct {
	tasks []Task
}

func (s *sliceSource) Next(context.Context) (Task, error) {
	if len(s.tasks) == 0 {
		return Task{}, io.EOF
	}
	t := s.tasks[0]
	s.tasks[0] = Task{}
	s.tasks = s.tasks[1:]
	return t, nil
}

// ListSource reads a URL list, one per line (blank lines and # comments
// skipped), as list tasks: each line is fetched as written, duplicates
// included, and a line that is not a URL becomes a bad_url record. A read
// that blocks (an idle standard input) gives way when the run's context
// ends.
func ListSource(r io.Reader) Source {
	return newLineSource(r, "URL list", true)
}

// SeedList reads seed URLs, one per line, as ListSource reads a list:
// streamed, so a seeds file of any length costs the frontier's memory,
// not its own. A line that is not a URL becomes a bad_url record. name
// says what the reader is, in errors ("seeds.txt").
func SeedList(name string, r io.Reader) Source {
	return newLineSource(r, "seeds "+name, false)
}

// lineSource yields the lines of a reader as tasks.
type lineSource struct {
	what   string // for errors: "read URL list: ..."
	listed bool
	list   *urllist.Reader
	r      *ctxReader
}

func newLineSource(r io.Reader, what string, listed bool) *lineSource {
	cr := &ctxReader{r: r}
	return &lineSource{what: what, listed: listed, list: urllist.NewReader(cr), r: cr}
}

func (s *lineSource) Next(ctx context.Context) (Task, error) {
	s.r.ctx = ctx
	e, err := s.list.Next()
	if errors.Is(err, io.EOF) {
		return Task{}, io.EOF
	}
	if err != nil {
		return Task{}, fmt.Errorf("read %s: %w", s.what, err)
	}
	return Task{URL: e.URL, Line: e.Line, Listed: s.listed, Invalid: e.Err}, nil
}

// Chain is a Source that yields each source's tasks in turn.
func Chain(sources ...Source) Source {
	return &chain{sources: sources}
}

type chain struct {
	sources []Source
}

func (c *chain) Next(ctx context.Context) (Task, error) {
	for len(c.sources) > 0 {
		t, err := c.sources[0].Next(ctx)
		if !errors.Is(err, io.EOF) {
			return t, err
		}
		c.sources = c.sources[1:]
	}
	return Task{}, io.EOF
}
