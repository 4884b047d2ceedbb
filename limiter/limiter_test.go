package limiter

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestPerHostCapsConcurrencyPerHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{PerHost: 2})
		var inFlight, peak atomic.Int32
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Go(func() {
				release, err := l.Acquire(t.Context(), "a.test")
				if err != nil {
					t.Errorf("Acquire %d: %v", i, err)
					return
				}
				n := inFlight.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				time.Sleep(10 * time.Millisecond)
				inFlight.Add(-1)
				release()
			})
		}
		wg.Wait()
		if p := peak.Load(); p != 2 {
			t.Errorf("peak in flight to one host = %d, want 2", p)
		}
	})
}

func TestHostsAreIndependent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{PerHost: 1})
		r1, err := l.Acquire(t.Context(), "a.test")
		if err != nil {
			t.Fatal(err)
		}
		defer r1()
		// a.test is full; b.test must still go at once.
		r2, err := l.Acquire(t.Context(), "b.test")
		if err != nil {
			t.Fatalf("Acquire(b.test) with a.test full: %v", err)
		}
		r2()
	})
}

func TestHostRateSpacesRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{HostRate: 10}) // one every 100ms
		start := time.Now()
		for range 5 {
			release, err := l.Acquire(t.Context(), "a.test")
			if err != nil {
				t.Fatal(err)
			}
			release()
		}
		if got := time.Since(start); got != 400*time.Millisecond {
			t.Errorf("5 requests at 10/s took %s, want 400ms", got)
		}
	})
}

func TestDelayAndRateTakeTheStricter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{HostRate: 100, Delay: 250 * time.Millisecond})
		start := time.Now()
		for range 3 {
			release, _ := l.Acquire(t.Context(), "a.test")
			release()
		}
		if got := time.Since(start); got != 500*time.Millisecond {
			t.Errorf("3 requests with 250ms delay took %s, want 500ms", got)
		}
	})
}

func TestGlobalRateCoversAllHosts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{Rate: 20}) // one every 50ms
		start := time.Now()
		for _, h := range []string{"a", "b", "c", "d"} {
			release, _ := l.Acquire(t.Context(), h)
			release()
		}
		if got := time.Since(start); got != 150*time.Millisecond {
			t.Errorf("4 requests to 4 hosts at 20/s took %s, want 150ms", got)
		}
	})
}

func TestCoolDownHoldsHostBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{})
		l.CoolDown("a.test", 2*time.Second)
		l.CoolDown("a.test", time.Second) // shorter: must not shorten
		start := time.Now()
		release, err := l.Acquire(t.Context(), "a.test")
		if err != nil {
			t.Fatal(err)
		}
		release()
		if got := time.Since(start); got != 2*time.Second {
			t.Errorf("Acquire during cool-down waited %s, want 2s", got)
		}
		start = time.Now()
		release, _ = l.Acquire(t.Context(), "b.test")
		release()
		if got := time.Since(start); got != 0 {
			t.Errorf("other host waited %s during a.test's cool-down, want 0", got)
		}
	})
}

func TestAcquireReturnsWhenContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{PerHost: 1})
		held, _ := l.Acquire(t.Context(), "a.test")
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err := l.Acquire(ctx, "a.test")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Acquire on a full host with a 1s deadline = %v, want DeadlineExceeded", err)
		}
		held()
		// The failed Acquire must not have kept a slot.
		release, err := l.Acquire(t.Context(), "a.test")
		if err != nil {
			t.Fatalf("Acquire after release: %v", err)
		}
		release()
	})
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{{PerHost: -1}, {Rate: -1}, {HostRate: -0.5}, {Delay: -time.Second}} {
		if c.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
	}
	if err := (Config{PerHost: 2, Rate: 5}).Validate(); err != nil {
		t.Errorf("Validate(valid) = %v", err)
	}
}

func TestSetDelaySpacesAHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{HostRate: 100})
		l.SetDelay("a.test", time.Second)
		l.SetDelay("a.test", 10*time.Millisecond) // looser: ignored
		start := time.Now()
		for range 3 {
			release, _ := l.Acquire(t.Context(), "a.test")
			release()
		}
		if got := time.Since(start); got != 2*time.Second {
			t.Errorf("3 requests with a 1s delay took %s, want 2s", got)
		}
	})
}
