package testsite

import (
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
)

// Each raw answer comes as it is written, byte for byte.
func TestRawAnswersAreSentAsWritten(t *testing.T) {
	srv := httptest.NewServer(New())
	defer srv.Close()
	for _, name := range RawNames() {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(conn, "GET /fault/raw/"+name+" HTTP/1.1\r\nHost: x\r\n\r\n")
		got, _ := io.ReadAll(io.LimitReader(conn, 4096))
		conn.Close()
		if string(got) != RawAnswers[name] {
			t.Errorf("%s: got %q, want %q", name, got, RawAnswers[name])
		}
	}
	if len(RawNames()) < 10 || !strings.Contains(strings.Join(RawNames(), " "), "bare-lf") {
		t.Errorf("raw answers %v", RawNames())
	}
}
