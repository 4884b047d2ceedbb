package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/crawler/redisfrontier"
	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/output"
)

// sharedOptions are the flags of a crawl shared by many processes.
type sharedOptions struct {
	url      string
	crawlID  string
	leaseTTL time.Duration
	status   bool
	reset    bool
}

func (o *sharedOptions) bind(fs *pflag.FlagSet) {
	fs.StringVar(&o.url, "frontier", "", "share the crawl with other processes through this Redis, redis://HOST:PORT/DB (needs --crawl-id)")
	fs.StringVar(&o.crawlID, "crawl-id", "", "with --frontier: the name of the shared crawl; every process started with the same one works on it")
	fs.DurationVar(&o.leaseTTL, "lease-ttl", redisfrontier.DefaultLeaseTTL, "with --frontier: how long the URLs of a process that died stay leased before others take them")
	fs.BoolVar(&o.status, "status", false, "with --frontier and --crawl-id: print where the shared crawl stands, and exit")
	fs.BoolVar(&o.reset, "reset", false, "with --frontier and --crawl-id: delete the shared crawl from Redis, and exit")
}

// leaseTTLGiven says whether --lease-ttl was given a value of its own: a
// job's options left empty hold 0.
func leaseTTLGiven(ttl time.Duration) bool {
	return ttl != 0 && ttl != redisfrontier.DefaultLeaseTTL
}

// check reports a combination that cannot work; state is --state's folder.
func (o *sharedOptions) check(state string) error {
	switch {
	case o.url == "" && (o.crawlID != "" || o.status || o.reset || leaseTTLGiven(o.leaseTTL)):
		return errors.New("--crawl-id, --lease-ttl, --status and --reset need --frontier redis://HOST:PORT/DB")
	case o.url == "":
		return nil
	case o.status && o.reset:
		return errors.New("give --status or --reset, not both (--status ran alone, and --reset did nothing)")
	case o.crawlID == "":
		return errors.New("--frontier needs --crawl-id NAME: the processes that share a crawl give the same one")
	case state != "":
		return errors.New("--frontier and --state do not go together: Redis holds the shared crawl's state")
	case o.leaseTTL < time.Second:
		// Leases are renewed at a third of it, each a round trip to Redis:
		// below a second, a page in flight loses its lease to a slow
		// answer and is fetched again by another process.
		return fmt.Errorf("--lease-ttl must be at least 1s (a lease is renewed every third of it), got %s", o.leaseTTL)
	}
	return nil
}

// action runs --status or --reset; done says whether one ran.
func (o *sharedOptions) action(ctx context.Context, w io.Writer) (done bool, err error) {
	switch {
	case o.status:
		r, err := redisfrontier.Status(ctx, o.url, o.crawlID)
		if err != nil {
			return true, err
		}
		printShared(w, o.crawlID, r)
		return true, nil
	case o.reset:
		n, err := redisfrontier.Reset(ctx, o.url, o.crawlID)
		if err != nil {
			return true, err
		}
		fmt.Fprintf(w, "crawl %q: %s deleted\n", o.crawlID, output.Count(n, "key"))
		return true, nil
	}
	return false, nil
}

// openOutputs opens the files this process writes for the shared crawl,
// each cut back to the length Redis last committed for it (a process
// killed and started again with the same -o leaves no record twice).
func (o *sharedOptions) openOutputs(ctx context.Context, fr *redisfrontier.Frontier, paths ...string) ([]*os.File, error) {
	machine, err := os.Hostname()
	if err != nil {
		machine = "localhost"
	}
	name := func(path string) string { return machine + ":" + absPath(path) }
	hint := fmt.Sprintf("crawl %q in Redis expects it; --reset starts over", o.crawlID)
	return reopenOutputs(paths, hint,
		func(path string) (int64, error) { return fr.Committed(ctx, name(path)) },
		func(path string, f *os.File) { fr.AddOutput(name(path), syncedLength(f)) })
}

// open joins the shared crawl.
func (o *sharedOptions) open(ctx context.Context, fingerprint string, settings crawler.Settings, maxPages int) (*redisfrontier.Frontier, error) {
	return redisfrontier.Open(ctx, o.url, o.crawlID, redisfrontier.Options{
		Limits: settings.CrawlLimits(), MaxPages: maxPages, MaxPagesPerHost: settings.HostCap(), LeaseTTL: o.leaseTTL, Fingerprint: fingerprint,
	})
}

func printShared(w io.Writer, id string, r *redisfrontier.Report) {
	fmt.Fprintf(w, "crawl:    %s, %s\n", id, standing(r))
	if r.Command == "" && r.Seen == 0 && r.Done == 0 {
		return // nothing more to say of no crawl ("hosts: 0 ()")
	}
	if r.Command != "" {
		fmt.Fprintf(w, "command:  %s\n", fetch.RedactText(r.Command))
	}
	fmt.Fprintf(w, "urls:     %d found, %d done, %d queued, %d leased, %d waiting to retry\n", r.Seen, r.Done, r.Queued, r.Leased, r.Delayed)
	if r.Expired > 0 {
		fmt.Fprintf(w, "expired:  %s of processes that stopped went back to the queue\n", output.Count(int(r.Expired), "lease"))
	}
	fmt.Fprintf(w, "status:   %s\n", counts(r.ByStatus, 0))
	fmt.Fprintf(w, "hosts:    %d (%s)\n", len(r.ByHost), counts(r.ByHost, 5))
	fmt.Fprintf(w, "redis:    %s\n", output.HumanBytes(r.Bytes))
}

// standing says where a shared crawl stands, in a few words.
func standing(r *redisfrontier.Report) string {
	switch {
	case r.Command == "":
		return "no such crawl"
	case r.Finished():
		return "finished"
	case r.Capped():
		return fmt.Sprintf("stopped at --max-pages %d, %s fetched (what is queued is not fetched; a process with a larger --max-pages goes on)", r.MaxPages, output.Count(int(r.Started), "page"))
	}
	if r.Running > 0 {
		return fmt.Sprintf("in progress, %s running", output.CountNouns(int(r.Running), "process", "processes"))
	}
	return "stopped, no process running (start one to go on)"
}

// usageErrorOrNil is usageError for a non-nil err.
func usageErrorOrNil(err error) error {
	if err == nil {
		return nil
	}
	return usageError(err)
}
