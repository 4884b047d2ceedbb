package fetch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// pairedConn dials a loopback listener and pairs the dialled end; serve
// runs on the accepted end and its error is checked when the test ends.
func pairedConn(t *testing.T, serve func(net.Conn) error) (net.Conn, *pairedIO) {
	return pairedConnWith(t, net.ListenConfig{}, serve)
}

func pairedConnWith(t *testing.T, lc net.ListenConfig, serve func(net.Conn) error) (net.Conn, *pairedIO) {
	t.Helper()
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		done <- serve(c)
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	pio := newPairedIO(conn)
	if pio == nil {
		t.Skip("no paired I/O on this platform")
	}
	return conn, pio
}

// A request written in pieces reaches the server whole only once its
// answer is read, and the answer comes back.
func TestPairedRequestIsSentByTheRead(t *testing.T) {
	got := make(chan []byte, 1)
	conn, pio := pairedConn(t, func(c net.Conn) error {
		buf := make([]byte, 64)
		n, err := io.ReadAtLeast(c, buf, len("GET / HTTP/1.1\r\n\r\n"))
		if err != nil {
			return err
		}
		got <- buf[:n]
		_, err = c.Write([]byte("answer"))
		return err
	})
	for _, piece := range []string{"GET / ", "HTTP/1.1\r\n\r\n"} {
		if n, err := pio.write(conn, []byte(piece)); n != len(piece) || err != nil {
			t.Fatalf("write(%q) = %d, %v", piece, n, err)
		}
	}
	select {
	case b := <-got:
		t.Fatalf("the server had %q before any read", b)
	case <-time.After(50 * time.Millisecond):
	}
	buf := make([]byte, 64)
	n, err := pio.read(conn, buf)
	if err != nil || string(buf[:n]) != "answer" {
		t.Fatalf("read = %q, %v; want answer", buf[:n], err)
	}
	if b := <-got; string(b) != "GET / HTTP/1.1\r\n\r\n" {
		t.Errorf("the server got %q", b)
	}
}

// A request larger than what is held back goes as it is written, in order.
func TestPairedLargeRequest(t *testing.T) {
	pairedRequestArrivesWhole(t, net.ListenConfig{}, []int{maxPending - 10, 100, 3 * maxPending})
}

// pairedRequestArrivesWhole writes pieces of the given sizes, each of other
// bytes, to a server that reads them only after a while, and then reads
// its answer. It returns the pairing, for what it did.
func pairedRequestArrivesWhole(t *testing.T, lc net.ListenConfig, pieces []int) *pairedIO {
	t.Helper()
	var want []byte
	for i, n := range pieces {
		want = append(want, bytes.Repeat([]byte{'a' + byte(i)}, n)...)
	}
	conn, pio := pairedConnWith(t, lc, func(c net.Conn) error {
		time.Sleep(100 * time.Millisecond) // the client's buffers fill
		got := make([]byte, len(want))
		if _, err := io.ReadFull(c, got); err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			return errors.New("the request came altered or out of order")
		}
		_, err := c.Write([]byte("ok"))
		return err
	})
	if err := conn.(*net.TCPConn).SetWriteBuffer(4 << 10); err != nil {
		t.Fatal(err)
	}
	off := 0
	for _, n := range pieces {
		if m, err := pio.write(conn, want[off:off+n]); m != n || err != nil {
			t.Fatalf("write of %d = %d, %v", n, m, err)
		}
		off += n
	}
	buf := make([]byte, 8)
	n, err := pio.read(conn, buf)
	if err != nil || string(buf[:n]) != "ok" {
		t.Fatalf("read = %q, %v; want ok", buf[:n], err)
	}
	return pio
}

// A paired read ends as a connection's own read would: at the end of the
// stream with io.EOF, at the read deadline with a timeout.
func TestPairedReadEndsAsARead(t *testing.T) {
	t.Run("closed", func(t *testing.T) {
		conn, pio := pairedConn(t, func(c net.Conn) error {
			_, err := io.ReadFull(c, make([]byte, 4))
			return err
		})
		_, _ = pio.write(conn, []byte("ping"))
		if n, err := pio.read(conn, make([]byte, 8)); n != 0 || err != io.EOF {
			t.Fatalf("read of a closed stream = %d, %v; want 0, EOF", n, err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		release := make(chan struct{})
		conn, pio := pairedConn(t, func(c net.Conn) error {
			<-release
			return nil
		})
		defer close(release)
		_, _ = pio.write(conn, []byte("ping"))
		_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, err := pio.read(conn, make([]byte, 8))
		var op *net.OpError
		if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &op) || op.Op != "read" {
			t.Fatalf("read past its deadline = %v; want a read timeout", err)
		}
	})
}

// A kept-alive connection the server closed while idle is found closed by
// the next request (sent from within its read, it meets the server's
// end), which goes again on a new connection, unseen in the result.
func TestRequestAfterTheServerClosedAnIdleConnection(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	srv.Config.IdleTimeout = 20 * time.Millisecond
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := newClient(t, Config{Timeout: 5 * time.Second, Retries: 0})
	for i := range 3 {
		if i > 0 {
			time.Sleep(100 * time.Millisecond) // past the server's idle timeout
		}
		res := c.Get(t.Context(), srv.URL+"/", nil)
		if res.Err != nil || res.Status != 200 || res.Attempts != 1 {
			t.Fatalf("request %d: status %d, attempts %d, err %v; want 200 at the first attempt", i+1, res.Status, res.Attempts, res.Err)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections for three requests each after an idle close, want 3", n)
	}
}
