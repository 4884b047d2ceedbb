//go:build !linux

package fetch

import "errors"

const rawIOSupported = false

var errNoRawIO = errors.New("no raw socket I/O on this platform")

func rawWrite(uintptr, []byte) (int, error) { return 0, errNoRawIO }
func rawRead(uintptr, []byte) (int, error)  { return 0, errNoRawIO }
