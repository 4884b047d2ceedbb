package cli

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fetchall/fetchall/crawler/state"
	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/output"
)

func newStateCmd(s *Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "state DIR",
		Short: "Say where a --state run stands",
		Long: `Print what the --state folder DIR holds: the command that made it, whether
it finished, the records in its output (ok and failed, by kind), the URLs
still queued (those in flight at the last stop included), the hosts, and
the outputs' committed lengths. It changes nothing.`,
		Example: `  fetchall state crawl.state`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				return usageError(errors.New("give the state folder: fetchall state DIR"))
			case len(args) > 1:
				return usageError(fmt.Errorf("one state folder at a time, got %d", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := state.Inspect(args[0])
			if err != nil {
				return usageError(err)
			}
			writeStateReport(s.Out, r)
			return nil
		},
	}
}

// writeStateReport prints a state's report, largest counts first.
func writeStateReport(w io.Writer, r *state.Report) {
	status := "stopped before the end: run the same command again to resume (a crawl stopped at its --max-pages: with a larger one)"
	if r.Finished {
		status = "finished"
	}
	fmt.Fprintf(w, "state:    %s (%s on disk)\n", r.Path, output.HumanBytes(r.Size))
	fmt.Fprintf(w, "made by:  fetchall %s\n", fetch.RedactText(r.Command))
	fmt.Fprintf(w, "status:   %s\n", status)
	done := output.Count(r.Done, "record") + " in the output"
	if strings.HasPrefix(r.Command, "run ") {
		done = output.Count(r.Done, "page") + ", their items in the output" // a job writes items, not records
	}
	fmt.Fprintf(w, "done:     %s (%s)\n", done, counts(r.DoneByKind, 0))
	fmt.Fprintf(w, "not done: %s found (queued, in flight at the last stop, or kept out by robots.txt)\n", output.Count(r.Queued, "URL"))
	fmt.Fprintf(w, "hosts:    %d (%s)\n", len(r.DoneByHost), counts(r.DoneByHost, 5))
	for _, name := range slices.Sorted(maps.Keys(r.Outputs)) {
		now := ""
		if filepath.IsAbs(name) { // a relative one is the run's, from a folder this may not be in
			if short := outputShortfall(name, r.Outputs[name]); short != "" {
				now = " (" + short + ")"
			}
		}
		fmt.Fprintf(w, "output:   %s, %s committed%s\n", name, output.HumanBytes(r.Outputs[name]), now)
	}
}

// counts lists a tally, most first, the first n (0: all).
func counts(m map[string]int, n int) string {
	keys := slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b))
	})
	if n > 0 && len(keys) > n {
		keys = keys[:n]
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
