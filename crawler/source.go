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

// SeedList reads seed URLs, one per line, as ListSource reads a list:
// streamed, so a seeds file of any length costs the frontier's memory,
// not its own. A line that is not a URL becomes a bad_url record. name
// says what the reader is, in errors ("seeds.txt").
func SeedList(name string, r io.Reader) Source {
	cr := &ctxReader{r: r}
	return &seedSource{name: name, list: urllist.NewReader(cr), r: cr}
}

type seedSource struct {
	name string
	list *urllist.Reader
	r    *ctxReader
}

func (s *seedSource) Next(ctx context.Context) (Task, error) {
	s.r.ctx = ctx
	e, err := s.list.Next()
	if errors.Is(err, io.EOF) {
		return Task{}, io.EOF
	}
	if err != nil {
		return Task{}, fmt.Errorf("read seeds %s: %w", s.name, err)
	}
	return Task{URL: e.URL, Line: e.Line, Invalid: e.Err}, nil
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
