package cli

// maxrssUnit is the unit of getrusage's ru_maxrss: macOS reports bytes.
const maxrssUnit = 1
