// Package archive writes web archives (WARC 1.1, one gzip member per
// record) of everything a run fetches, and plays them back: a job run
// against its archive gives the items of the live run, with no network.
// The WARC format itself is github.com/internetarchive/gowarc's, which
// builds on Linux, macOS and Windows; elsewhere Create and OpenReplay say
// so (unsupported.go).
package archive
