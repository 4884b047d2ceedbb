//go:build !unix

package cli

import (
	"context"
	"os"
)

// openNamedPipe opens a named pipe; this system's opens do not wait for a
// writer.
func openNamedPipe(_ context.Context, name string) (*os.File, error) {
	return os.Open(name)
}
