//go:build !(linux || darwin || windows)

package archive

import (
	"errors"
	"net/http"

	"github.com/fetchall/fetchall/fetch"
)

// ErrUnsupported is every archive call on a system the WARC library does
// not build on.
var ErrUnsupported = errors.New("web archives (--warc, --replay) are available on Linux, macOS and Windows builds only")

// ErrNotArchived is a replayed request the archives do not answer.
var ErrNotArchived = fetch.ErrNotArchived

// Writer is not available on this system.
type Writer struct{}

// Check says that archives are not available here.
func Check(string, int64) error { return ErrUnsupported }

// Create says that archives are not available here.
func Create(string, int64, map[string]string, func(error)) (*Writer, error) {
	return nil, ErrUnsupported
}

func (*Writer) Record(*fetch.Exchange) {}
func (*Writer) Close() error           { return ErrUnsupported }
func (*Writer) Files() []string        { return nil }
func (*Writer) Records() int           { return 0 }

// Replay is not available on this system.
type Replay struct{ Damaged []string }

// OpenReplay says that archives are not available here.
func OpenReplay(...string) (*Replay, error) { return nil, ErrUnsupported }

func (*Replay) Len() int                                        { return 0 }
func (*Replay) RoundTrip(*http.Request) (*http.Response, error) { return nil, ErrUnsupported }
