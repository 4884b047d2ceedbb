// Package leaktest holds what the packages' goroutine-leak checks share.
package leaktest

import "go.uber.org/goleak"

// LeanPathCleaners are fasthttp's own housekeeping goroutines (the fetch
// package's lean path): one per client and per host, each ending by
// itself once its connections are closed and a sleep of at most ten
// seconds is over. Nothing of ours, so a leak check ignores them.
var LeanPathCleaners = []goleak.Option{
	goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*Client).mCleaner"),
	goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*HostClient).connsCleaner"),
}
