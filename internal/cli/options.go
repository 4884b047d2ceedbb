package cli

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/net/http/httpguts"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/internal/config"
	"github.com/fetchall/fetchall/limiter"
)

// requestOptions are the flags that shape requests; fetch, and later crawl,
// run and bench, share them.
type requestOptions struct {
	concurrency    int
	perHost        int
	rate           float64
	hostRate       float64
	timeout        time.Duration
	connectTimeout time.Duration
	retries        int
	maxRetryWait   time.Duration
	maxBody        byteSize
	headers        []string
	userAgent      string
	insecure       bool
	proxy          string
	maxRedirects   int
	okStatus       statusSet
	configFile     string
	fromFile       map[string]bool // flags --config set
	method         string
	delay          time.Duration // least spacing per host
}

// minRate is the smallest --rate or --host-rate: one request every 31.7
// years, well within what a time.Duration holds (292 years).
const minRate = 1e-9

// bind binds every request flag but --concurrency, whose form differs
// between commands (a number for fetch, a list of levels for bench).
func (o *requestOptions) bind(fs *pflag.FlagSet) {
	o.maxBody = fetch.DefaultMaxBody
	fs.IntVar(&o.perHost, "per-host", 0, "requests in flight at once to one host (0: no extra cap)")
	fs.Float64Var(&o.rate, "rate", 0, "requests per second overall (0: unlimited)")
	fs.Float64Var(&o.hostRate, "host-rate", 0, "requests per second to one host (0: unlimited)")
	fs.DurationVar(&o.delay, "delay", 0, "least time between two requests to one host")
	fs.DurationVarP(&o.timeout, "timeout", "t", fetch.DefaultTimeout, "time for one attempt: connect, headers and body")
	fs.DurationVar(&o.connectTimeout, "connect-timeout", 0, "time to connect and finish TLS (0: the smaller of --timeout and 10s)")
	fs.IntVar(&o.retries, "retries", 2, "retries after network errors and 429, 502, 503, 504")
	fs.DurationVar(&o.maxRetryWait, "max-retry-wait", fetch.DefaultMaxRetryWait, "longest wait before a retry, Retry-After included")
	fs.Var(&o.maxBody, "max-body", "most body bytes read per response, e.g. 512k, 10MiB; the rest is dropped (truncated: true)")
	fs.StringArrayVarP(&o.headers, "header", "H", nil, "request header 'Name: value' (repeatable)")
	fs.StringVarP(&o.userAgent, "user-agent", "A", "fetchall/"+fetchallVersion(), "User-Agent header")
	fs.BoolVarP(&o.insecure, "insecure", "k", false, "skip TLS certificate verification")
	fs.StringVar(&o.proxy, "proxy", "", "proxy URL for every request (default: HTTP_PROXY, HTTPS_PROXY, NO_PROXY)")
	fs.IntVar(&o.maxRedirects, "max-redirects", fetch.DefaultMaxRedirects, "redirects followed per request (0: none)")
	fs.Var(&o.okStatus, "ok-status", "statuses that count as ok, e.g. 200-399,404 (default: below 400)")
	fs.StringVar(&o.configFile, "config", "", "YAML file of settings; keys are these flags' names (see config.example.yaml)")
}

// notInConfigFile are flags a configuration file cannot set.
var notInConfigFile = map[string]bool{"config": true, "help": true, "version": true, "status": true, "reset": true}

// sharedSetting says whether name is a setting of any command that reads
// --config, so that one file (config.example.yaml, say) serves them all:
// fetch ignores crawl's max_depth, crawl ignores fetch's ordered.
func sharedSetting(name string) bool {
	if notInConfigFile[name] {
		return false
	}
	s := &Streams{}
	for _, cmd := range []*cobra.Command{newFetchCmd(s, nil), newCrawlCmd(s), newBenchCmd(s)} {
		if cmd.Flags().Lookup(name) != nil {
			return true
		}
	}
	return false
}

// loadConfig applies --config, if given, to the flags not set on the
// command line.
func (o *requestOptions) loadConfig(cmd *cobra.Command) error {
	if o.configFile == "" {
		return nil
	}
	f, err := os.Open(o.configFile)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	fs := cmd.Flags()
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { onCommandLine[f.Name] = true })
	err = config.ApplyShared(fs, o.configFile, f, func(name string) bool { return !notInConfigFile[name] }, sharedSetting)
	o.fromFile = map[string]bool{}
	fs.Visit(func(f *pflag.Flag) {
		if !onCommandLine[f.Name] {
			o.fromFile[f.Name] = true
		}
	})
	return err
}

// traced names the --config line and key that set a value which parses
// but cannot work (concurrency: 0): such a value is found only once every
// setting is known, and said "--concurrency must be 1 or more" of a flag
// the user never typed.
func (o *requestOptions) traced(err error) error {
	var ferr *FlagError
	if !errors.As(err, &ferr) || !o.fromFile[ferr.Flag] {
		return err
	}
	line, key, ok := config.KeyLine(o.configFile, ferr.Flag)
	if !ok {
		return err
	}
	return &config.Error{File: o.configFile, Line: line, Key: key, Err: ferr.Err}
}

// clientConfig validates the request flags and builds the fetch client's
// configuration from them. The client tries each request once: retries
// are the engine's, and wait in their host's queue.
func (o *requestOptions) clientConfig() (fetch.Config, error) {
	if o.concurrency < 1 {
		return fetch.Config{}, flagErrorf("concurrency", "must be 1 or more, got %d", o.concurrency)
	}
	if o.retries < 0 {
		return fetch.Config{}, flagErrorf("retries", "must be 0 or more, got %d", o.retries)
	}
	if m := strings.ToUpper(o.method); m != "" && m != http.MethodGet && m != http.MethodHead {
		return fetch.Config{}, flagErrorf("method", "%q: want GET or HEAD", o.method)
	}
	if o.timeout <= 0 {
		return fetch.Config{}, flagErrorf("timeout", "must be positive, got %s", o.timeout)
	}
	if o.connectTimeout < 0 {
		return fetch.Config{}, flagErrorf("connect-timeout", "must be 0 (the smaller of --timeout and 10s) or more, got %s", o.connectTimeout)
	}
	if o.maxRetryWait <= 0 {
		return fetch.Config{}, flagErrorf("max-retry-wait", "must be positive, got %s", o.maxRetryWait)
	}
	if o.maxRedirects < 0 {
		return fetch.Config{}, flagErrorf("max-redirects", "must be 0 or more, got %d", o.maxRedirects)
	}
	for _, limit := range []struct {
		flag  string
		value float64
		shown any
		rate  bool
	}{{"per-host", float64(o.perHost), o.perHost, false}, {"rate", o.rate, o.rate, true}, {"host-rate", o.hostRate, o.hostRate, true}, {"delay", o.delay.Seconds(), o.delay, false}} {
		if limit.value < 0 {
			return fetch.Config{}, flagErrorf(limit.flag, "must be 0 (no limit) or more, got %v", limit.shown)
		}
		// NaN passed the check above and meant no limit; a rate below
		// minRate spaces requests further apart than a time.Duration
		// holds, and the rate limiter then let every request go at once.
		if limit.rate && (math.IsNaN(limit.value) || math.IsInf(limit.value, 0) || (limit.value > 0 && limit.value < minRate)) {
			return fetch.Config{}, flagErrorf(limit.flag, "must be 0 (no limit) or a rate of requests per second from %g (one every 31 years), got %v", minRate, limit.value)
		}
	}
	header, err := parseHeaders(o.headers)
	if err != nil {
		return fetch.Config{}, err
	}
	if !httpguts.ValidHeaderFieldValue(o.userAgent) {
		return fetch.Config{}, flagErrorf("user-agent", "%q has a control character (a line break?), which cannot be sent", o.userAgent)
	}
	cfg := fetch.Config{
		Timeout:        o.timeout,
		ConnectTimeout: o.connectTimeout,
		MaxRetryWait:   o.maxRetryWait,
		MaxBody:        int64(o.maxBody),
		MaxRedirects:   o.maxRedirects,
		Header:         header,
		UserAgent:      o.userAgent,
		Method:         o.method,
		Insecure:       o.insecure,
		Concurrency:    o.concurrency,
	}
	if o.maxRedirects == 0 {
		cfg.MaxRedirects = -1 // the flag's 0 means "follow none"
	}
	if o.proxy != "" {
		u, err := url.Parse(o.proxy)
		if err != nil || u.Host == "" {
			return fetch.Config{}, flagErrorf("proxy", "%q: want a URL such as http://host:3128", fetch.Redact(o.proxy))
		}
		cfg.Proxy = u
	}
	return cfg, nil
}

// settings validates the request flags and turns them into a run's
// settings: the client's configuration (with its retries, which the
// engine schedules), limits, workers and status policy.
func (o *requestOptions) settings() (crawler.Settings, error) {
	fc, err := o.clientConfig()
	if err != nil {
		return crawler.Settings{}, o.traced(err)
	}
	fc.Retries = o.retries
	return crawler.Settings{
		Fetch:   fc,
		Limits:  limiter.Config{PerHost: o.perHost, Rate: o.rate, HostRate: o.hostRate, Delay: o.delay},
		Workers: o.concurrency,
		Accept:  o.okStatus.accept,
	}, nil
}

// parseHeaders turns "Name: value" strings into a header.
// headerStart is what an error may show of a header line: its first
// word, at most 40 bytes of it.
func headerStart(line string) string {
	word := strings.TrimSpace(line)
	if i := strings.IndexAny(word, " \t:"); i >= 0 {
		word = word[:i]
	}
	if len(word) > 40 {
		word = word[:40]
	}
	return word
}

func parseHeaders(lines []string) (http.Header, error) {
	if len(lines) == 0 {
		return nil, nil
	}
	h := http.Header{}
	for _, line := range lines {
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		// The errors name the header, never its value: it may be a token
		// ("Authorization Bearer ..." without its colon), and an error
		// goes to logs.
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, flagErrorf("header", "%q...: want 'Name: value'", headerStart(line))
		}
		value = strings.TrimSpace(value)
		// Sent as given, a line break would start another header (the
		// lean path turned it into spaces, net/http refused every request).
		if !httpguts.ValidHeaderFieldName(name) {
			return nil, flagErrorf("header", "%q is not a header name (letters, digits and !#$%%&'*+-.^_`|~ only)", headerStart(name))
		}
		if !httpguts.ValidHeaderFieldValue(value) {
			return nil, flagErrorf("header", "%s: the value has a control character (a line break?), which cannot be sent", name)
		}
		h.Add(name, value)
	}
	return h, nil
}
