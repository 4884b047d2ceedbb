package fetch

import (
	"fmt"
	"net"
	"net/http"
	"testing"
)

// A list of many hosts keeps at most its concurrency and the idle budget
// of connections open on the lean path: each host met left an idle one
// open for a minute and a half, and after 20,000 hosts every dial failed
// with "too many open files" (net/http's path caps its idle ones with
// MaxIdleConns). Linux answers on all of 127.0.0.0/8, so each address is
// a host of its own.
func TestManyHostsKeepFewConnectionsOpen(t *testing.T) {
	const hosts = 3 * idleBudget
	urls := serveOnHosts(t, hosts, 10, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	c := newClient(t, Config{Concurrency: 2})
	if c.fast == nil {
		t.Skip("the lean path is off (FETCHALL_HTTP=std)")
	}
	peak := 0
	for _, u := range urls {
		if res := c.Get(t.Context(), u, nil); res.Err != nil || res.Status != 200 {
			t.Fatalf("%s: %d %v", u, res.Status, res.Err)
		}
		c.fast.mu.Lock()
		peak = max(peak, len(c.fast.conns))
		c.fast.mu.Unlock()
	}
	if limit := 2 + idleBudget; peak > limit {
		t.Errorf("%d hosts, one after another: %d connections open at once, want at most %d (the concurrency and the idle budget)", hosts, peak, limit)
	}
	if peak < idleBudget {
		t.Errorf("%d hosts: at most %d connections open; want idle ones kept up to the budget, %d", hosts, peak, idleBudget)
	}
}

// Past maxHosts hosts, requests go through net/http, the same records:
// fasthttp keeps a goroutine and a pool for each host it met, for a
// minute and a half, and a list of 50,000 hosts held 221 MiB.
func TestLeanPathServesBoundedHosts(t *testing.T) {
	urls := serveOnHosts(t, 30, 20, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<title>" + r.Host + "</title>")) })
	c := newClient(t, Config{Concurrency: 2})
	if c.fast == nil {
		t.Skip("the lean path is off (FETCHALL_HTTP=std)")
	}
	c.fast.maxHosts = 8
	for round := range 2 {
		for _, u := range urls {
			res := c.Get(t.Context(), u, func(string) bool { return true })
			if res.Err != nil || res.Status != 200 || string(res.Body) != "<title>"+u[len("http://"):len(u)-1]+"</title>" {
				t.Fatalf("round %d, %s: %d %v %q", round, u, res.Status, res.Err, res.Body)
			}
		}
	}
	c.fast.hostsMu.RLock()
	lean := len(c.fast.hosts)
	c.fast.hostsMu.RUnlock()
	pools := map[any]bool{}
	c.fast.mu.Lock()
	for _, tc := range c.fast.conns {
		pools[tc.host] = true
	}
	c.fast.mu.Unlock()
	if lean != 8 || len(pools) > 8 {
		t.Errorf("30 hosts, twice: %d hosts on the lean path, connections open to %d; want 8 and at most 8", lean, len(pools))
	}
}

// serveOnHosts serves handler on n loopback addresses of their own, from
// 127.0.<third>.1 on, and returns a URL of each; it skips the test where
// the system answers on 127.0.0.1 alone.
func serveOnHosts(t *testing.T, n, third int, handler http.HandlerFunc) []string {
	t.Helper()
	srv := &http.Server{Handler: handler}
	t.Cleanup(func() { srv.Close() })
	var urls []string
	for i := range n {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.%d.%d:0", third+i/200, 1+i%200))
		if err != nil {
			t.Skipf("a loopback address of its own for each host: %v", err)
		}
		go srv.Serve(ln)
		urls = append(urls, "http://"+ln.Addr().String()+"/")
	}
	return urls
}
