package limiter

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// mayGo says whether a request to host may start at now.
func mayGo(l *Limiter, host string, now time.Time) bool {
	at, ok := l.Next(host, now)
	return ok && !at.After(now) && !l.GlobalNext(now).After(now)
}

func TestPerHostCapsSlots(t *testing.T) {
	l := New(Config{PerHost: 2})
	for i := range 2 {
		if !mayGo(l, "a.test", t0) {
			t.Fatalf("request %d to a.test refused with %d in flight, want allowed (PerHost 2)", i+1, i)
		}
		l.Start("a.test", t0)
	}
	if _, ok := l.Next("a.test", t0); ok {
		t.Fatal("Next(a.test) ok with 2 in flight, want no free slot")
	}
	if !mayGo(l, "b.test", t0) {
		t.Error("b.test refused while only a.test is full, want hosts independent")
	}
	l.Done("a.test")
	if !mayGo(l, "a.test", t0) {
		t.Error("a.test refused after Done, want its slot back")
	}
}

func TestSpacingTakesTheStricterOfRateAndDelay(t *testing.T) {
	for _, tt := range []struct {
		cfg  Config
		want time.Duration
	}{
		{Config{HostRate: 10}, 100 * time.Millisecond},
		{Config{Delay: 250 * time.Millisecond}, 250 * time.Millisecond},
		{Config{HostRate: 10, Delay: 250 * time.Millisecond}, 250 * time.Millisecond},
		{Config{HostRate: 2, Delay: 250 * time.Millisecond}, 500 * time.Millisecond},
	} {
		l := New(tt.cfg)
		l.Start("a.test", t0)
		l.Done("a.test")
		if at, _ := l.Next("a.test", t0); !at.Equal(t0.Add(tt.want)) {
			t.Errorf("%+v: next start %s after the first, want %s", tt.cfg, at.Sub(t0), tt.want)
		}
		if !mayGo(l, "b.test", t0) {
			t.Errorf("%+v: another host held back by a.test's spacing", tt.cfg)
		}
	}
}

func TestGlobalRateCoversAllHosts(t *testing.T) {
	l := New(Config{Rate: 4})
	l.Start("a.test", t0)
	if mayGo(l, "b.test", t0.Add(100*time.Millisecond)) {
		t.Error("b.test allowed 100ms after a.test at Rate 4, want 250ms apart overall")
	}
	if !mayGo(l, "b.test", t0.Add(250*time.Millisecond)) {
		t.Error("b.test refused 250ms after a.test at Rate 4")
	}
}

func TestCoolDownHoldsOneHostBack(t *testing.T) {
	l := New(Config{})
	l.CoolDown("a.test", t0.Add(2*time.Second))
	l.CoolDown("a.test", t0.Add(time.Second)) // shorter: ignored
	if mayGo(l, "a.test", t0.Add(1500*time.Millisecond)) {
		t.Error("a.test allowed during its cool-down")
	}
	if !mayGo(l, "a.test", t0.Add(2*time.Second)) {
		t.Error("a.test refused after its cool-down ended")
	}
	if !mayGo(l, "b.test", t0) {
		t.Error("b.test held back by a.test's cool-down")
	}
}

func TestSetDelaySpacesFromWhenItIsLearnt(t *testing.T) {
	l := New(Config{})
	l.Start("a.test", t0) // leased before robots.txt was read
	learnt := t0.Add(50 * time.Millisecond)
	l.SetDelay("a.test", time.Second, learnt)
	l.SetDelay("a.test", 10*time.Millisecond, learnt) // looser: ignored
	if at, _ := l.Next("a.test", learnt); !at.Equal(learnt.Add(time.Second)) {
		t.Errorf("next start %s after the first, want 1.05s (Crawl-delay from when it was learnt)", at.Sub(t0))
	}
	l.Done("a.test")
	l.Start("a.test", learnt.Add(time.Second))
	if at, _ := l.Next("a.test", learnt.Add(time.Second)); !at.Equal(learnt.Add(2 * time.Second)) {
		t.Errorf("third start at %s, want 2.05s", at.Sub(t0))
	}
}

func TestForgetDropsOnlyIdleHosts(t *testing.T) {
	l := New(Config{Delay: time.Second})
	l.Start("busy.test", t0)
	l.Start("spaced.test", t0)
	l.Done("spaced.test")
	l.Start("idle.test", t0.Add(-time.Hour))
	l.Done("idle.test")
	l.Forget(t0)
	if got := l.Hosts(); got != 2 {
		t.Errorf("Hosts() after Forget = %d, want 2 (busy and still spaced)", got)
	}
	l.Done("busy.test")
	l.Forget(t0.Add(time.Second))
	if got := l.Hosts(); got != 0 {
		t.Errorf("Hosts() once all are idle = %d, want 0", got)
	}
}

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, ""},
		{Config{PerHost: -1}, "limiter: PerHost"},
		{Config{Rate: -1}, "limiter: Rate"},
		{Config{HostRate: -1}, "limiter: HostRate"},
		{Config{Delay: -time.Second}, "limiter: Delay"},
	} {
		err := tt.cfg.Validate()
		if (err == nil) != (tt.want == "") || (err != nil && !strings.HasPrefix(err.Error(), tt.want)) {
			t.Errorf("Validate(%+v) = %v, want an error naming %q", tt.cfg, err, tt.want)
		}
	}
}

func TestProbeFirstSendsAHostsFirstRequestAlone(t *testing.T) {
	l := New(Config{PerHost: 4, ProbeFirst: true})
	l.Start("a.test", t0)
	if mayGo(l, "a.test", t0) {
		t.Error("a second request to a.test allowed before its first was done")
	}
	if !mayGo(l, "b.test", t0) {
		t.Error("b.test held back by a.test's probe")
	}
	l.Done("a.test")
	l.Start("a.test", t0)
	if !mayGo(l, "a.test", t0) {
		t.Error("a.test still one at a time after its first request was done")
	}
}

// A request never sent (robots.txt kept it back) gives its host's and the
// run's spacing back: the next may go at once, not a delay later. A start
// since then keeps what it took.
func TestRefundGivesBackAnUnsentStart(t *testing.T) {
	l := New(Config{Rate: 1})
	l.SetDelay("a.test", 2*time.Second, t0.Add(-3*time.Second)) // learnt earlier: no hold now
	ticket := l.Start("a.test", t0)
	l.Done("a.test")
	now := t0.Add(10 * time.Millisecond)
	if mayGo(l, "a.test", now) {
		t.Fatal("a.test may go 10ms after a start with a 2s Crawl-delay")
	}
	l.Refund("a.test", ticket)
	if !mayGo(l, "a.test", now) {
		t.Error("a.test held back after its start was refunded, want it free at once")
	}
	// Refunded after another start: that one keeps its tokens.
	first := l.Start("a.test", now)
	l.Done("a.test")
	second := l.Start("b.test", now.Add(time.Second))
	l.Done("b.test")
	l.Refund("a.test", first)
	later := now.Add(1100 * time.Millisecond)
	if mayGo(l, "b.test", later) {
		t.Error("the run's rate given back by an older start's refund: b.test's start no longer counts")
	}
	l.Refund("b.test", second)
	if !mayGo(l, "b.test", later) {
		t.Error("b.test held back after its own start was refunded")
	}
}
