//go:build linux

// Command perf measures fetchall against the targets in one run,
// on loopback, and prints ratios (to the ideal, to wrk, between list
// lengths) rather than lone absolute times:
//
//	go run ./scripts/perf            # all three measurements
//	go run ./scripts/perf -only=latency
//
// It builds fetchall, starts `fetchall serve` as a separate process so the
// client's CPU and memory are its own, and needs wrk (apt-get install -y wrk)
// for the throughput ratio. It is a benchmark, not a test: CI does not run it.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fetchall/fetchall/internal/procstatus"
)

func main() {
	only := flag.String("only", "", "run one measurement: latency, hosts, throughput, memory, crawl, straggler, state, shared or soak")
	flag.Parse()
	if err := run(*only); err != nil {
		fmt.Fprintln(os.Stderr, "perf:", err)
		os.Exit(1)
	}
}

func run(only string) error {
	dir, err := os.MkdirTemp("", "fetchall-perf")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "fetchall")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	server := exec.Command(bin, "serve", "--addr", addr)
	if err := server.Start(); err != nil {
		return fmt.Errorf("start test site: %w", err)
	}
	defer func() { _ = server.Process.Kill(); _ = server.Wait() }()
	if err := waitListening(addr); err != nil {
		return err
	}
	base := "http://" + addr
	fmt.Printf("fetchall perf on %s, GOMAXPROCS from %d CPUs, test site in its own process at %s\n\n", goos(), numCPU(), base)

	if only == "" || only == "latency" {
		if err := latencyBound(bin, dir, base); err != nil {
			return err
		}
	}
	if only == "" || only == "hosts" {
		if err := sortedHosts(bin, dir); err != nil {
			return err
		}
	}
	if only == "" || only == "throughput" {
		if err := throughputBound(bin, dir, base); err != nil {
			return err
		}
	}
	if only == "" || only == "memory" {
		if err := memory(bin, dir, base); err != nil {
			return err
		}
	}
	if only == "" || only == "crawl" {
		if err := crawl(bin, dir); err != nil {
			return err
		}
	}
	if only == "" || only == "straggler" {
		if err := straggler(bin, dir); err != nil {
			return err
		}
	}
	if only == "" || only == "state" {
		if err := stateCost(bin, dir, base); err != nil {
			return err
		}
	}
	if only == "" || only == "shared" {
		if err := shared(bin, dir); err != nil {
			return err
		}
	}
	if only == "soak" { // minutes long: only on demand
		if err := soak(bin, dir, base); err != nil {
			return err
		}
	}
	return nil
}

// soak: 100,000 URLs at concurrency 256 with 1% faulty (resets, short
// bodies, 500s, bodies slower than the timeout): exactly one record per
// URL, and peak memory no higher than for 10,000.
func soak(bin, dir, base string) error {
	faults := []string{"/fault/reset", "/fault/short-body", "/status/500", "/slow-body?bytes=100&interval=500ms"}
	fmt.Printf("\nsoak: --concurrency 256 --timeout 2s --retries 1, 1%% of URLs faulty\n")
	var rss10k int64
	for _, n := range []int{10000, 100000} {
		list, err := writeList(dir, fmt.Sprintf("soak%d.txt", n), n, func(i int) string {
			if i%100 == 7 {
				return base + faults[(i/100)%len(faults)]
			}
			return fmt.Sprintf("%s/page/%d?size=2048", base, i)
		})
		if err != nil {
			return err
		}
		out := filepath.Join(dir, "soak.jsonl")
		cmd := exec.Command(bin, list, "-c", "256", "--timeout", "2s", "--retries", "1", "-q", "-o", out)
		wall, rss, err := runWatched(cmd)
		var exitErr *exec.ExitError
		if err != nil && !(errors.As(err, &exitErr) && exitErr.ExitCode() == 1) { // 1: some failed, as they should
			return fmt.Errorf("soak: %w", err)
		}
		lines, failed, err := recordLines(out)
		if err != nil {
			return err
		}
		note := ""
		if n == 10000 {
			rss10k = rss
		} else if rss10k > 0 {
			note = fmt.Sprintf(" (%.2fx the 10,000-URL peak)", float64(rss)/float64(rss10k))
		}
		fmt.Printf("  %6d URLs in %s: %d records for %d distinct lines, %d failed; peak RSS %.1f MiB%s\n",
			n, wall.Round(time.Millisecond), lines.total, lines.distinct, failed, float64(rss)/1024, note)
		if lines.total != n || lines.distinct != n {
			return fmt.Errorf("soak: %d records, %d distinct lines, for %d URLs", lines.total, lines.distinct, n)
		}
	}
	fmt.Printf("  goroutines: every package's tests check with goleak that none outlives a run\n")
	return nil
}

type lineCount struct{ total, distinct int }

// recordLines counts the records of a JSONL file, the distinct input lines
// they answer, and the failures.
func recordLines(path string) (lineCount, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return lineCount{}, 0, err
	}
	defer f.Close()
	seen := map[int]bool{}
	var c lineCount
	failed := 0
	dec := json.NewDecoder(f)
	for {
		var rec struct {
			Line int  `json:"line"`
			OK   bool `json:"ok"`
		}
		if err := dec.Decode(&rec); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return c, failed, fmt.Errorf("record %d: %w", c.total+1, err)
		}
		c.total++
		if !seen[rec.Line] {
			seen[rec.Line] = true
			c.distinct++
		}
		if !rec.OK {
			failed++
		}
	}
	return c, failed, nil
}

// crawl: the 5,000-page synthetic site with 10 ms latency at concurrency
// 16 (per-host 16, robots on) against the ideal ceil(pages/16) x 10 ms,
// duplicates counted by the server; then 100,000 pages for peak memory.
func crawl(bin, dir string) error {
	fmt.Printf("\ncrawl: synthetic site, robots.txt on, --concurrency 16 --per-host 16\n")
	for _, c := range []struct {
		pages   int
		latency time.Duration
	}{{5000, 10 * time.Millisecond}, {100000, 0}} {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		server := exec.Command(bin, "serve", "--addr", addr, "--pages", strconv.Itoa(c.pages), "--latency", c.latency.String())
		if err := server.Start(); err != nil {
			return err
		}
		err = func() error {
			defer func() { _ = server.Process.Kill(); _ = server.Wait() }()
			if err := waitListening(addr); err != nil {
				return err
			}
			out := filepath.Join(dir, "crawl.jsonl")
			rss, wall, records, err := timedCrawl(bin, addr, out)
			if err != nil {
				return err
			}
			dups, requests, err := serverDuplicates("http://" + addr + "/stats")
			if err != nil {
				return err
			}
			fmt.Printf("  %6d-page site, %s latency: %d pages in %s", c.pages, c.latency, records, wall.Round(time.Millisecond))
			if c.latency > 0 {
				// The yardstick: ceil(pages/16) rounds of the latency.
				pagesIdeal := time.Duration(math.Ceil(float64(c.pages)/16)) * c.latency
				fmt.Printf(", %.3f of ceil(%d/16) x %s (target >= 0.95)", pagesIdeal.Seconds()/wall.Seconds(), c.pages, c.latency)
				// Every answer, redirects included, carries the latency.
				rounds := math.Ceil(float64(records) / 16)
				ideal := time.Duration(rounds) * c.latency
				fmt.Printf(", %.3f of ceil(%d records/16) x %s", ideal.Seconds()/wall.Seconds(), records, c.latency)
				// The server's timers overshoot: the ideal for the latency
				// each request really had is the fairer yardstick.
				mean, err := meanDuration(out)
				if err != nil {
					return err
				}
				fmt.Printf("; requests took %s on average, so %.3fx the ideal at that latency",
					mean.Round(10*time.Microsecond), wall.Seconds()/(rounds*mean.Seconds()))
				// What the server itself gives a minimal client: wrk's mean
				// latency for one page of the site at the same concurrency.
				if lat, err := wrkLatency("http://"+addr+"/site/1", 16); err == nil {
					fmt.Printf("; wrk -c 16 sees %s per request, so the best any client can do is %.3f of the nominal ideal, and fetchall reaches %.3f of the ideal at wrk's latency",
						lat.Round(10*time.Microsecond), c.latency.Seconds()/lat.Seconds(), rounds*lat.Seconds()/wall.Seconds())
				}
			}
			fmt.Printf("; %d requests, %d duplicate fetches; peak RSS %.1f MiB\n", requests, dups, float64(rss)/1024)
			return nil
		}()
		if err != nil {
			return err
		}
	}
	fmt.Printf("  targets: 0 duplicates; 100,000 pages under 200 MB\n")
	return nil
}

// serverDuplicates reads the test site's /stats: how many URIs were asked
// more than once, and how many requests there were in all.
func serverDuplicates(statsURL string) (dups, total int, err error) {
	resp, err := http.Get(statsURL)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var stats struct {
		Total int            `json:"total"`
		URIs  map[string]int `json:"uris"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil {
		return 0, 0, err
	}
	for _, n := range stats.URIs {
		if n > 1 {
			dups += n - 1
		}
	}
	return dups, stats.Total, nil
}

// latencyBound: 1000 URLs of 100 ms at concurrency 50; the ideal is
// ceil(1000/50) x 100 ms = 2.0 s.
func latencyBound(bin, dir, base string) error {
	const n, conc, latency = 1000, 50, 100 * time.Millisecond
	list, err := writeList(dir, "latency.txt", n, func(i int) string {
		return fmt.Sprintf("%s/page/%d?latency=100ms&size=2048", base, i)
	})
	if err != nil {
		return err
	}
	ideal := time.Duration(math.Ceil(float64(n)/conc)) * latency
	best := time.Duration(math.MaxInt64)
	for range 3 {
		r, err := runFetchall(bin, list, conc, filepath.Join(dir, "out.jsonl"))
		if err != nil {
			return err
		}
		best = min(best, r.wall)
	}
	fmt.Printf("latency-bound: %d URLs x %s at --concurrency %d\n", n, latency, conc)
	fmt.Printf("  wall %s (best of 3), ideal %s: %.3fx the ideal (target <= 1.03x)\n\n", best.Round(time.Millisecond), ideal, best.Seconds()/ideal.Seconds())
	return nil
}

// throughputBound: 20,000 URLs with no latency and 2 KB bodies at
// concurrency 32, records written, against wrk -c 32 on the same server.
func throughputBound(bin, dir, base string) error {
	const n, conc = 20000, 32
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		return errors.New("throughput needs wrk: apt-get install -y wrk")
	}
	list, err := writeList(dir, "throughput.txt", n, func(i int) string {
		return fmt.Sprintf("%s/page/%d?size=2048", base, i)
	})
	if err != nil {
		return err
	}
	curlConfig, err := writeCurlConfig(dir, list)
	if err != nil {
		return err
	}
	// Alternate the three so that drift on a shared machine hits each.
	// CPU per request is the client's user+system time over its requests:
	// on two shared cores it decides the rate.
	var wrkRates, ourRates, curlRates, wrkCPU, ourCPU, curlCPU []float64
	for range 3 {
		cmd := exec.Command(wrk, "-c", strconv.Itoa(conc), "-t", "2", "-d", "4s", base+"/page/1?size=2048")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("wrk: %w\n%s", err, out)
		}
		m := regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`).FindSubmatch(out)
		total := regexp.MustCompile(`([0-9]+) requests in`).FindSubmatch(out)
		if m == nil || total == nil {
			return fmt.Errorf("wrk output without Requests/sec:\n%s", out)
		}
		rate, _ := strconv.ParseFloat(string(m[1]), 64)
		requests, _ := strconv.ParseFloat(string(total[1]), 64)
		wrkRates = append(wrkRates, rate)
		wrkCPU = append(wrkCPU, cpuOf(cmd.ProcessState).Seconds()/requests)
		r, err := runFetchall(bin, list, conc, filepath.Join(dir, "out.jsonl"))
		if err != nil {
			return err
		}
		ourRates = append(ourRates, float64(n)/r.wall.Seconds())
		ourCPU = append(ourCPU, r.cpu.Seconds()/n)
		if curlConfig != "" {
			start := time.Now()
			cmd := exec.Command("curl", "-s", "--parallel", "--parallel-max", strconv.Itoa(conc), "-K", curlConfig)
			out, err := cmd.CombinedOutput()
			if err != nil {
				return fmt.Errorf("curl: %w\n%s", err, out)
			}
			curlRates = append(curlRates, float64(n)/time.Since(start).Seconds())
			curlCPU = append(curlCPU, cpuOf(cmd.ProcessState).Seconds()/n)
		}
	}
	w, o := median(wrkRates), median(ourRates)
	us := func(xs []float64) float64 { return 1e6 * median(xs) }
	fmt.Printf("throughput-bound: %d URLs, 2 KB bodies, no latency, --concurrency %d, JSONL written\n", n, conc)
	fmt.Printf("  fetchall %.0f req/s, %.1f us CPU a request; wrk -c %d %.0f req/s, %.1f us (medians of 3): ratio %.2f",
		o, us(ourCPU), conc, w, us(wrkCPU), o/w)
	if len(curlRates) > 0 {
		c := median(curlRates)
		fmt.Printf("; curl --parallel %.0f req/s, %.1f us, ratio %.2f; fetchall/curl %.2f", c, us(curlCPU), c/w, o/c)
	}
	fmt.Printf("\n\n")
	return nil
}

// writeCurlConfig writes a curl -K file fetching every URL of list to
// /dev/null; "" when curl is not installed.
func writeCurlConfig(dir, list string) (string, error) {
	if _, err := exec.LookPath("curl"); err != nil {
		return "", nil
	}
	data, err := os.ReadFile(list)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, u := range strings.Fields(string(data)) {
		fmt.Fprintf(&b, "url = \"%s\"\noutput = \"/dev/null\"\n", u)
	}
	path := filepath.Join(dir, "curl.config")
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

// startSite starts the test site at addr with extra serve flags; stop
// kills it.
func startSite(bin, addr string, args ...string) (stop func(), err error) {
	server := exec.Command(bin, append([]string{"serve", "--addr", addr}, args...)...)
	if err := server.Start(); err != nil {
		return nil, fmt.Errorf("start test site: %w", err)
	}
	stop = func() { _ = server.Process.Kill(); _ = server.Wait() }
	if err := waitListening(addr); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}

// sortedHosts: 5 hosts (test sites on 127.0.0.1-5), 40 URLs each at 50 ms,
// the list sorted by host, --concurrency 10 --per-host 1. The per-host
// ideal is 40 x 50 ms = 2.0 s, whatever the order of the list.
func sortedHosts(bin, dir string) error {
	const hosts, perHost, latency = 5, 40, 50 * time.Millisecond
	port := ""
	var bases []string
	for h := 1; h <= hosts; h++ {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		if port == "" {
			_, port, _ = net.SplitHostPort(addr)
		}
		addr = net.JoinHostPort(fmt.Sprintf("127.0.0.%d", h), port)
		stop, err := startSite(bin, addr)
		if err != nil {
			return err
		}
		defer stop()
		bases = append(bases, "http://"+addr)
	}
	var lines []string
	for _, b := range bases {
		for i := range perHost {
			lines = append(lines, fmt.Sprintf("%s/page/%d?latency=%s", b, i, latency))
		}
	}
	list, err := writeList(dir, "hosts.txt", len(lines), func(i int) string { return lines[i] })
	if err != nil {
		return err
	}
	ideal := perHost * latency
	best := time.Duration(math.MaxInt64)
	for range 3 {
		cmd := exec.Command(bin, list, "-c", "10", "--per-host", "1", "-q", "-o", filepath.Join(dir, "hosts.jsonl"))
		cmd.Stderr = os.Stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("fetchall: %w", err)
		}
		best = min(best, time.Since(start))
	}
	fmt.Printf("multi-host list sorted by host: %d hosts x %d URLs x %s, --concurrency 10 --per-host 1\n", hosts, perHost, latency)
	fmt.Printf("  wall %s (best of 3), per-host ideal %s: %.3fx the ideal (target <= 1.10x)\n\n", best.Round(time.Millisecond), ideal, best.Seconds()/ideal.Seconds())
	return nil
}

// straggler: a 2,000-page crawl at 10 ms with one page of depth 1 taking
// 3 s, --concurrency 16 --per-host 16; the ideal is the larger of 3 s and
// the crawl's own ceil(records/16) x 10 ms.
func straggler(bin, dir string) error {
	const pages, latency, slow = 2000, 10 * time.Millisecond, 3 * time.Second
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	stop, err := startSite(bin, addr, "--pages", strconv.Itoa(pages), "--latency", latency.String(),
		"--slow-page", "/site/0", "--slow-latency", slow.String())
	if err != nil {
		return err
	}
	defer stop()
	_, wall, records, err := timedCrawl(bin, addr, filepath.Join(dir, "straggler.jsonl"))
	if err != nil {
		return err
	}
	ideal := max(slow, time.Duration(math.Ceil(float64(records)/16))*latency)
	fmt.Printf("\nstraggler crawl: %d-page site at %s, /site/0 (depth 1) takes %s, --concurrency 16 --per-host 16\n", pages, latency, slow)
	fmt.Printf("  %d pages in %s, ideal max(%s, crawl) = %s: %.3fx the ideal (target <= 1.10x)\n", records, wall.Round(time.Millisecond), slow, ideal, wall.Seconds()/ideal.Seconds())
	return nil
}

// memory: peak RSS at growing list lengths; flat means the ratio stays near 1.
func memory(bin, dir, base string) error {
	fmt.Printf("memory: peak RSS by list length (no latency, 2 KB bodies, --concurrency 32)\n")
	var rss10k int64
	for _, n := range []int{1000, 10000, 20000, 200000} {
		list, err := writeList(dir, fmt.Sprintf("mem%d.txt", n), n, func(i int) string {
			return fmt.Sprintf("%s/page/%d?size=2048", base, i)
		})
		if err != nil {
			return err
		}
		r, err := runFetchall(bin, list, 32, filepath.Join(dir, "out.jsonl"))
		if err != nil {
			return err
		}
		note := ""
		if n == 10000 {
			rss10k = r.maxRSS
		}
		if n > 10000 && rss10k > 0 {
			note = fmt.Sprintf(" (%.2fx the 10,000-URL peak)", float64(r.maxRSS)/float64(rss10k))
		}
		fmt.Printf("  %7d URLs: %5.1f MiB%s\n", n, float64(r.maxRSS)/1024, note)
	}
	fmt.Printf("  targets: <= 32 MiB at 20,000; 200,000 <= 1.3x of 10,000\n")
	return nil
}

type fetchRun struct {
	wall   time.Duration
	maxRSS int64         // KiB
	cpu    time.Duration // user + system
}

// cpuOf is a finished command's user and system time.
func cpuOf(ps *os.ProcessState) time.Duration { return ps.UserTime() + ps.SystemTime() }

func runFetchall(bin, list string, conc int, out string, extra ...string) (fetchRun, error) {
	cmd := exec.Command(bin, append([]string{list, "-c", strconv.Itoa(conc), "-q", "-o", out}, extra...)...)
	cmd.Stderr = os.Stderr
	wall, peak, err := runWatched(cmd)
	if err != nil {
		return fetchRun{}, fmt.Errorf("fetchall %s: %w", list, err)
	}
	if err := checkRecords(out, list); err != nil {
		return fetchRun{}, err
	}
	return fetchRun{wall: wall, maxRSS: peak, cpu: cpuOf(cmd.ProcessState)}, nil
}

// checkRecords makes sure a timed run really fetched everything: one ok
// record per line.
func checkRecords(out, list string) error {
	want, err := countLines(list)
	if err != nil {
		return err
	}
	f, err := os.Open(out)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	got := 0
	for sc.Scan() {
		if !strings.Contains(sc.Text(), `"ok":true`) {
			return fmt.Errorf("a record is not ok: %s", sc.Text())
		}
		got++
	}
	if got != want {
		return fmt.Errorf("%d records for %d URLs", got, want)
	}
	return sc.Err()
}

// meanDuration is the mean duration_ms of the records in a JSONL file.
func meanDuration(path string) (time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var sum float64
	n := 0
	dec := json.NewDecoder(f)
	for {
		var rec struct {
			DurationMS float64 `json:"duration_ms"`
		}
		if err := dec.Decode(&rec); err != nil {
			break
		}
		sum += rec.DurationMS
		n++
	}
	if n == 0 {
		return 0, errors.New("no records")
	}
	return time.Duration(sum / float64(n) * float64(time.Millisecond)), nil
}

func countLines(path string) (int, error) {
	data, err := os.ReadFile(path)
	return strings.Count(string(data), "\n"), err
}

func writeList(dir, name string, n int, line func(int) string) (string, error) {
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	w := bufio.NewWriter(f)
	for i := range n {
		fmt.Fprintln(w, line(i))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitListening(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("test site did not start listening on %s", addr)
}

func goos() string { return runtime.GOOS + "/" + runtime.GOARCH }

func numCPU() int { return runtime.NumCPU() }

// timedCrawl crawls the whole site at addr with -c 16 --per-host 16 into
// out, and says how long it took and how many records it wrote.
func timedCrawl(bin, addr, out string) (peakKiB int64, wall time.Duration, records int, err error) {
	// No per-host page cap: the 100,000-page site is one host.
	cmd := exec.Command(bin, "crawl", "http://"+addr+"/", "-c", "16", "--per-host", "16", "--max-depth", "-1",
		"--max-pages-per-host", "0", "-q", "-o", out)
	cmd.Stderr = os.Stderr
	wall, peakKiB, err = runWatched(cmd)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("crawl: %w", err)
	}
	records, err = countLines(out)
	return peakKiB, wall, records, err
}

// runWatched runs cmd and returns its wall time and its own peak resident
// memory in KiB: VmHWM, read from /proc every 10 ms until it exits. A
// child's ru_maxrss would start at this process's peak: on Linux exec
// carries over the peak of the memory the child was started on.
func runWatched(cmd *exec.Cmd) (time.Duration, int64, error) {
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	done := make(chan struct{})
	var peak atomic.Int64
	var watcher sync.WaitGroup
	watcher.Go(func() {
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			if kib, ok := procstatus.PeakKiB(status); ok {
				peak.Store(kib)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	err := cmd.Wait()
	wall := time.Since(start)
	close(done)
	watcher.Wait()
	if peak.Load() == 0 && cmd.ProcessState != nil { // no /proc: the best there is
		return wall, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss, err
	}
	return wall, peak.Load(), err
}

// wrkLatency is wrk's mean latency for url at conns connections.
func wrkLatency(url string, conns int) (time.Duration, error) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		return 0, err
	}
	out, err := exec.Command(wrk, "-c", strconv.Itoa(conns), "-t", "2", "-d", "2s", url).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("wrk: %w", err)
	}
	m := regexp.MustCompile(`Latency\s+([0-9.]+)(us|ms|s)`).FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("wrk output without Latency:\n%s", out)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[string(m[2])]
	return time.Duration(v * float64(unit)), nil
}

// stateCost: what --state costs, in the same run: the 5,000-page crawl at
// 10 ms and a 200,000-line list, each with and without it, and the state's
// size per URL.
func stateCost(bin, dir, base string) error {
	fmt.Printf("\n--state: the same work with and without a state, in one run\n")
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	stop, err := startSite(bin, addr, "--pages", "5000", "--latency", "10ms")
	if err != nil {
		return err
	}
	defer stop()
	crawlOnce := func(extra ...string) (time.Duration, error) {
		args := append([]string{"crawl", "http://" + addr + "/", "-c", "16", "--per-host", "16", "--max-depth", "-1", "-q", "-o", filepath.Join(dir, "state-crawl.jsonl")}, extra...)
		cmd := exec.Command(bin, args...)
		cmd.Stderr = os.Stderr
		start := time.Now()
		err := cmd.Run()
		return time.Since(start), err
	}
	// Each pair alternates three times and the medians are compared: one
	// run of each moved the ratio by 20% on this shared machine.
	stateDir := filepath.Join(dir, "crawl-state")
	var plainCrawl, stateCrawl []float64
	for range 3 {
		plain, err := crawlOnce()
		if err != nil {
			return err
		}
		withState, err := crawlOnce("--state", stateDir, "--state-reset")
		if err != nil {
			return err
		}
		plainCrawl, stateCrawl = append(plainCrawl, plain.Seconds()), append(stateCrawl, withState.Seconds())
	}
	crawlBytes := dirSize(stateDir)
	fmt.Printf("  5000-page crawl at 10ms: %.3fs without, %.3fs with --state (medians of 3): %.3fx (target <= 1.15x); state %.0f bytes per page\n",
		median(plainCrawl), median(stateCrawl), median(stateCrawl)/median(plainCrawl), float64(crawlBytes)/5433)

	const n = 200000
	list, err := writeList(dir, "state-list.txt", n, func(i int) string { return fmt.Sprintf("%s/page/%d?size=512", base, i) })
	if err != nil {
		return err
	}
	out := filepath.Join(dir, "state-list.jsonl")
	listState := filepath.Join(dir, "list-state")
	var plainList, stateList []float64
	for range 3 {
		p, err := runFetchall(bin, list, 32, out)
		if err != nil {
			return err
		}
		w, err := runFetchall(bin, list, 32, out, "--state", listState, "--state-reset")
		if err != nil {
			return err
		}
		plainList, stateList = append(plainList, p.wall.Seconds()), append(stateList, w.wall.Seconds())
	}
	fmt.Printf("  %d-line list: %.3fs without, %.3fs with --state (medians of 3): %.3fx (target <= 1.2x); state %.0f bytes per line\n",
		n, median(plainList), median(stateList), median(stateList)/median(plainList), float64(dirSize(listState))/n)
	return nil
}

func dirSize(dir string) int64 {
	var n int64
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			n += info.Size()
		}
	}
	return n
}

// shared: a 2,000-page site at 20 ms crawled by one process with -c 4 in
// memory, by one through a Redis frontier, and by three through it, in
// one run (needs redis-server on the PATH; skipped without it).
func shared(bin, dir string) error {
	fmt.Printf("\n--frontier: a 2,000-page site at 20ms, -c 4 per process, --per-host 16\n")
	if _, err := exec.LookPath("redis-server"); err != nil {
		fmt.Printf("  skipped: redis-server is not installed\n")
		return nil
	}
	redisAddr, err := freeAddr()
	if err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(redisAddr)
	rs := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	if err := rs.Start(); err != nil {
		return err
	}
	defer func() { _ = rs.Process.Kill(); _ = rs.Wait() }()
	if err := waitListening(redisAddr); err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	stop, err := startSite(bin, addr, "--pages", "2000", "--latency", "20ms")
	if err != nil {
		return err
	}
	defer stop()
	crawlWith := func(procs int, id string) (time.Duration, int, error) {
		start := time.Now()
		var cmds []*exec.Cmd
		for i := range procs {
			args := []string{"crawl", "http://" + addr + "/", "-c", "4", "--per-host", "16", "--max-depth", "-1", "-q",
				"-o", filepath.Join(dir, fmt.Sprintf("shared-%s-%d.jsonl", id, i))}
			if id != "memory" {
				args = append(args, "--frontier", "redis://"+redisAddr+"/0", "--crawl-id", id)
			}
			cmd := exec.Command(bin, args...)
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				return 0, 0, err
			}
			cmds = append(cmds, cmd)
		}
		for _, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				return 0, 0, err
			}
		}
		elapsed := time.Since(start)
		pages := 0
		for i := range procs {
			n, _ := countLines(filepath.Join(dir, fmt.Sprintf("shared-%s-%d.jsonl", id, i)))
			pages += n
		}
		return elapsed, pages, nil
	}
	mem, memPages, err := crawlWith(1, "memory")
	if err != nil {
		return err
	}
	one, onePages, err := crawlWith(1, "one")
	if err != nil {
		return err
	}
	three, threePages, err := crawlWith(3, "three")
	if err != nil {
		return err
	}
	fmt.Printf("  1 process in memory: %s (%d pages); 1 through Redis: %s (%d pages), %.2fx the in-memory crawl (target <= 1.3x)\n",
		mem.Round(time.Millisecond), memPages, one.Round(time.Millisecond), onePages, one.Seconds()/mem.Seconds())
	fmt.Printf("  3 processes through Redis: %s (%d pages), %.2fx faster than 1 through Redis, %.2fx than 1 in memory (target >= 2.7x)\n",
		three.Round(time.Millisecond), threePages, one.Seconds()/three.Seconds(), mem.Seconds()/three.Seconds())
	return nil
}
