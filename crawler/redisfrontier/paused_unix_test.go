//go:build unix

package redisfrontier

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/internal/redistest"
)

// A Redis that stops answering (stopped, overloaded) fails the process's
// next step in words that name it and say what may be wrong, within its
// read timeout and retries: go-redis said "i/o timeout" alone.
func TestRedisThatStopsAnsweringIsNamed(t *testing.T) {
	srv := redistest.Start(t)
	f, err := Open(t.Context(), srv.URL()+"?read_timeout=200ms", "paused", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	srv.Pause()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err = f.Add(ctx, []crawler.Task{{URL: "http://a.test/"}})
	if err == nil || !strings.Contains(err.Error(), "the Redis at "+srv.URL()+"?read_timeout=200ms gave no answer within 200ms (is it stopped, or overloaded?)") {
		t.Errorf("Add to a paused Redis: %v; want it named, with what may be wrong", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Add took %s to fail; want the read timeout and its retries", took)
	}
	srv.Resume()
}
