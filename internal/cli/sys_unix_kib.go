//go:build unix && !darwin && !ios

package cli

// maxrssUnit is the unit of getrusage's ru_maxrss: Linux and the BSDs
// report kibibytes.
const maxrssUnit = 1024
