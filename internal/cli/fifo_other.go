//go:build !unix

package cli

import (
	"context"
	"os"
)

// openNamedPipe opens a named pipe; this system's opens do not wait for
// the other end.
func openNamedPipe(_ context.Context, name string, write bool) (*os.File, error) {
	if write {
		return os.OpenFile(name, os.O_WRONLY, 0)
	}
	return os.Open(name)
}
