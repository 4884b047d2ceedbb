//go:build linux || darwin || windows

package archive

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fetchall/fetchall/internal/filelock"
	"github.com/fetchall/fetchall/internal/warctest"

	"os"

	"github.com/fetchall/fetchall/fetch"
)

func testServer(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/page/{n}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Add("Set-Cookie", "sid=cookiesecret; Path=/; HttpOnly")
		w.Header().Add("Set-Cookie", "theme=dark")
		fmt.Fprintf(w, "<title>Page %s</title>%s", r.PathValue("n"), strings.Repeat("x", 500))
	})
	mux.HandleFunc("/gz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		fmt.Fprint(zw, "compressed body")
		zw.Close()
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/page/7", http.StatusFound) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestArchiveHoldsEveryExchangeAndReplaysIt(t *testing.T) {
	srv := testServer(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "run.warc.gz")
	w, err := Create(path, 0, map[string]string{"software": "fetchall/test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	client, err := fetch.New(fetch.Config{Archive: w, Header: http.Header{"Authorization": {"Bearer secret"}, "X-Api-Key": {"keysecret"}}})
	if err != nil {
		t.Fatal(err)
	}
	urls := []string{srv.URL + "/page/1", srv.URL + "/gz", srv.URL + "/moved"}
	live := map[string]*fetch.Result{}
	for _, u := range urls {
		live[u] = client.Get(context.Background(), u, func(string) bool { return true })
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs := warctest.Read(t, path)
	var types []string
	for _, r := range recs {
		types = append(types, r.Header["WARC-Type"]+" "+strings.TrimPrefix(r.Header["WARC-Target-URI"], srv.URL))
	}
	want := "warcinfo |response /page/1|request /page/1|response /gz|request /gz|response /moved|request /moved|response /page/7|request /page/7"
	if got := strings.Join(types, "|"); got != want {
		t.Errorf("records:\n%s\nwant\n%s", got, want)
	}
	for i, r := range recs {
		block := string(r.Block)
		switch r.Header["WARC-Type"] {
		case "response":
			if !strings.HasPrefix(block, "HTTP/1.1 ") || r.Header["WARC-IP-Address"] != "127.0.0.1" || !strings.HasPrefix(r.Header["WARC-Payload-Digest"], "sha1:") {
				t.Errorf("response record %d: %v\n%.80q", i, r.Header, block)
			}
			// The cookies a response sets are what the requests send as
			// Cookie, masked there: they were kept here, in clear.
			if strings.Contains(block, "cookiesecret") || (strings.Contains(block, "<title>Page") &&
				!strings.Contains(block, "Set-Cookie: sid=xxxxx; Path=/; HttpOnly\r\n") || strings.Contains(block, "theme=dark")) {
				t.Errorf("response record %d keeps a cookie's value:\n%q", i, block)
			}
		case "request":
			if !strings.HasPrefix(block, "GET /") || !strings.Contains(block, "Authorization: xxxxx") || !strings.Contains(block, "X-Api-Key: xxxxx") || strings.Contains(block, "secret") ||
				r.Header["WARC-Concurrent-To"] != recs[i-1].Header["WARC-Record-ID"] {
				t.Errorf("request record %d: %v\n%q", i, r.Header, block)
			}
		}
	}
	// The gzip body is archived as it came, still compressed.
	if gz := string(recs[3].Block); !strings.Contains(gz, "Content-Encoding: gzip") || strings.Contains(gz, "compressed body") {
		t.Errorf("the /gz response was not kept as received: %q", gz)
	}

	// Played back with no network: the same statuses, bodies and redirect.
	rp, err := OpenReplay(path)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	replay, _ := fetch.New(fetch.Config{Replay: rp})
	for _, u := range urls {
		got := replay.Get(context.Background(), u, func(string) bool { return true })
		if got.Err != nil || got.Status != live[u].Status || got.FinalURL != live[u].FinalURL || !bytes.Equal(got.Body, live[u].Body) {
			t.Errorf("%s replayed: %d %s %v %q; live %d %s %q", u, got.Status, got.FinalURL, got.Err, got.Body, live[u].Status, live[u].FinalURL, live[u].Body)
		}
	}
	replay, _ = fetch.New(fetch.Config{Replay: rp, Retries: 2, Backoff: time.Millisecond})
	if got := replay.Get(context.Background(), srv.URL+"/page/99", nil); got.Err == nil || got.Err.Kind != fetch.KindNotArchived || got.Attempts != 1 {
		t.Errorf("an unarchived URL: %+v after %d attempts; want kind %s at once", got.Err, got.Attempts, fetch.KindNotArchived)
	}
}

// An archive cut short (a crash, a full disk) is replayed up to the damage,
// which is said; it was refused whole. A file with no record before the
// damage is refused.
func TestReplayOfADamagedArchiveGivesWhatCameBefore(t *testing.T) {
	srv := testServer(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "run.warc.gz")
	w, err := Create(path, 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	client, _ := fetch.New(fetch.Config{Archive: w})
	for i := range 20 {
		client.Get(context.Background(), fmt.Sprintf("%s/page/%d", srv.URL, i), nil)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.warc.gz")
	if err := os.WriteFile(cut, whole[:len(whole)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	rp, err := OpenReplay(cut)
	if err != nil {
		t.Fatalf("a damaged archive: %v; want what came before the damage", err)
	}
	if len(rp.Damaged) != 1 || !strings.Contains(rp.Damaged[0], "cut.warc.gz is damaged after its first") || rp.Len() < 5 || rp.Len() >= 20 {
		t.Errorf("damaged %q, %d URLs; want the damage said and some of the 20 pages", rp.Damaged, rp.Len())
	}
	replay, _ := fetch.New(fetch.Config{Replay: rp})
	if got := replay.Get(context.Background(), srv.URL+"/page/0", func(string) bool { return true }); got.Err != nil || !strings.Contains(string(got.Body), "Page 0") {
		t.Errorf("the first page, before the damage: %v %q", got.Err, got.Body)
	}
	head := filepath.Join(dir, "head.warc.gz")
	if err := os.WriteFile(head, whole[:20], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenReplay(head); err == nil {
		t.Error("a file damaged before its first record was taken")
	}
}

func TestArchiveRotatesAndEachFileStandsAlone(t *testing.T) {
	srv := testServer(t)
	path := filepath.Join(t.TempDir(), "big.warc.gz")
	w, err := Create(path, 1500, map[string]string{"software": "fetchall/test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	client, _ := fetch.New(fetch.Config{Archive: w})
	for n := range 12 {
		client.Get(context.Background(), fmt.Sprintf("%s/page/%d", srv.URL, n), nil)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files := w.Files()
	if len(files) < 3 || filepath.Base(files[0]) != "big-00000.warc.gz" || filepath.Base(files[1]) != "big-00001.warc.gz" {
		t.Fatalf("files %v", files)
	}
	total := 0
	for _, f := range files {
		recs := warctest.Read(t, f)
		if recs[0].Header["WARC-Type"] != "warcinfo" || recs[0].Header["WARC-Filename"] != filepath.Base(f) {
			t.Errorf("%s starts with %v", f, recs[0].Header)
		}
		total += len(recs) - 1
		info, _ := os.Stat(f)
		if info.Size() > 1500+2000 {
			t.Errorf("%s is %d bytes: rotation at 1500 let it grow past one more exchange", f, info.Size())
		}
	}
	if total != 24 || w.Records() != 24 {
		t.Errorf("%d records in the files, %d counted; want 24", total, w.Records())
	}
	rp, err := OpenReplay(files...)
	if err != nil || rp.Len() != 12 {
		t.Errorf("replay of the rotated files: %d URLs, %v", rp.Len(), err)
	}
}

func TestArchiveWriteErrorIsReportedOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.warc.gz")
	var heard []error
	w, err := Create(path, 0, nil, func(err error) { heard = append(heard, err) })
	if err != nil {
		t.Fatal(err)
	}
	w.file.Close() // the disk goes away under it
	srv := testServer(t)
	client, _ := fetch.New(fetch.Config{Archive: w})
	client.Get(context.Background(), srv.URL+"/page/1", nil)
	client.Get(context.Background(), srv.URL+"/page/2", nil)
	if len(heard) != 1 || w.Close() == nil {
		t.Errorf("heard %v; want one error, and Close to return it", heard)
	}
	if _, err := Create(filepath.Join(t.TempDir(), "no", "such", "dir.warc.gz"), 0, nil, nil); err == nil {
		t.Error("Create in a missing folder succeeded")
	}
	if _, err := OpenReplay(filepath.Join(t.TempDir(), "missing.warc.gz")); err == nil {
		t.Error("OpenReplay of a missing file succeeded")
	}
	bad := filepath.Join(t.TempDir(), "bad.warc.gz")
	_ = os.WriteFile(bad, []byte("not a warc"), 0o644)
	if _, err := OpenReplay(bad); err == nil {
		t.Error("OpenReplay of a text file succeeded")
	}
}

// An archive already there is added to, never overwritten: a resumed run
// keeps what the first one recorded.
func TestArchiveAppendsToAnExistingOne(t *testing.T) {
	srv := testServer(t)
	path := filepath.Join(t.TempDir(), "run.warc.gz")
	for n := range 2 {
		w, err := Create(path, 0, map[string]string{"software": "fetchall/test"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		client, _ := fetch.New(fetch.Config{Archive: w})
		client.Get(context.Background(), fmt.Sprintf("%s/page/%d", srv.URL, n), nil)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var types []string
	for _, r := range warctest.Read(t, path) {
		types = append(types, r.Header["WARC-Type"]+" "+strings.TrimPrefix(r.Header["WARC-Target-URI"], srv.URL))
	}
	if got := strings.Join(types, "|"); got != "warcinfo |response /page/0|request /page/0|warcinfo |response /page/1|request /page/1" {
		t.Errorf("records after two runs: %s", got)
	}
	// Rotated: the second run starts after the first one's last file.
	rot := filepath.Join(t.TempDir(), "rot.warc.gz")
	var files []string
	for range 2 {
		w, err := Create(rot, 1<<20, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		files = append(files, filepath.Base(w.Files()[0]))
	}
	if files[0] != "rot-00000.warc.gz" || files[1] != "rot-00001.warc.gz" {
		t.Errorf("rotated runs wrote %v", files)
	}
}

// A second writer of the same file, another fetchall given the same
// --warc, is refused: appending at once, the two would interleave their
// records. Once the first is closed the file is free again.
func TestArchiveInUseIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.warc.gz")
	first, err := Create(path, 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Create(path, 0, nil, nil); !errors.Is(err, filelock.ErrLocked) {
		t.Errorf("a second writer of %s: %v, want it refused", path, err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Create(path, 0, nil, nil)
	if err != nil {
		t.Fatalf("once the first is closed: %v", err)
	}
	again.Close()
}

// Check refuses what Create would, writing nothing: a name that is not
// .warc.gz (the archive is gzip whatever it is called), a missing folder,
// a file another writer holds. A device is no name to go by.
func TestCheckRefusesWhatCreateWouldAndWritesNothing(t *testing.T) {
	dir := t.TempDir()
	held, err := Create(filepath.Join(dir, "held.warc.gz"), 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	for path, want := range map[string]error{
		filepath.Join(dir, "run.warc"):            ErrNotWarcGz,
		filepath.Join(dir, "run.txt"):             ErrNotWarcGz,
		filepath.Join(dir, "gone", "run.warc.gz"): fs.ErrNotExist,
		filepath.Join(dir, "held.warc.gz"):        filelock.ErrLocked,
		filepath.Join(dir, "new.WARC.GZ"):         nil,
		os.DevNull:                                nil,
	} {
		if err := Check(path, 0); !errors.Is(err, want) {
			t.Errorf("Check(%s) = %v, want %v", path, err, want)
		}
		if want != ErrNotWarcGz {
			continue
		}
		if _, err := Create(path, 0, nil, nil); !errors.Is(err, want) {
			t.Errorf("Create(%s) = %v, want %v", path, err, want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files after the checks, want only the held archive", len(entries))
	}
}

// Replayed fetches at once each get their own page: gowarc reads a
// record's header in a pooled buffer, which two readers at once shared.
func TestReplayAtOnceGivesEachItsPage(t *testing.T) {
	srv := testServer(t)
	path := filepath.Join(t.TempDir(), "run.warc.gz")
	w, err := Create(path, 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	client, _ := fetch.New(fetch.Config{Archive: w})
	const pages = 20
	for n := range pages {
		client.Get(context.Background(), fmt.Sprintf("%s/page/%d", srv.URL, n), nil)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rp, err := OpenReplay(path)
	if err != nil {
		t.Fatal(err)
	}
	replay, _ := fetch.New(fetch.Config{Replay: rp})
	var readers sync.WaitGroup
	for range 8 {
		readers.Go(func() {
			for n := range pages {
				got := replay.Get(context.Background(), fmt.Sprintf("%s/page/%d", srv.URL, n), func(string) bool { return true })
				if want := fmt.Sprintf("<title>Page %d</title>", n); got.Err != nil || !strings.HasPrefix(string(got.Body), want) {
					t.Errorf("page %d replayed: %v %.40q", n, got.Err, got.Body)
				}
			}
		})
	}
	readers.Wait()
}

// An HTTP/2 exchange is written in HTTP/1.1's form, which WARC readers
// expect (the response said HTTP/2.0, the request HTTP/1.1), with the
// protocol in WARC-Protocol; it replays as it was.
func TestHTTP2ExchangeIsWrittenAsHTTP11(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<title>over %s</title>", r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	path := filepath.Join(t.TempDir(), "h2.warc.gz")
	w, err := Create(path, 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	client, err := fetch.New(fetch.Config{Archive: w, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	live := client.Get(t.Context(), srv.URL+"/", func(string) bool { return true })
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if live.Err != nil || string(live.Body) != "<title>over HTTP/2.0</title>" {
		t.Fatalf("live: %v %q; want the page over HTTP/2", live.Err, live.Body)
	}
	recs := warctest.Read(t, path)
	if len(recs) != 3 {
		t.Fatalf("%d records, want warcinfo, response, request", len(recs))
	}
	for _, r := range recs[1:] {
		if r.Header["WARC-Protocol"] != "h2" {
			t.Errorf("%s record: WARC-Protocol %q, want h2", r.Header["WARC-Type"], r.Header["WARC-Protocol"])
		}
	}
	if block := string(recs[1].Block); !strings.HasPrefix(block, "HTTP/1.1 200 OK\r\n") {
		t.Errorf("response record starts %.30q, want HTTP/1.1 200 OK", block)
	}
	if block := string(recs[2].Block); !strings.HasPrefix(block, "GET / HTTP/1.1\r\n") {
		t.Errorf("request record starts %.30q, want GET / HTTP/1.1", block)
	}
	rp, err := OpenReplay(path)
	if err != nil {
		t.Fatal(err)
	}
	replay, _ := fetch.New(fetch.Config{Replay: rp, Trace: true})
	got := replay.Get(t.Context(), srv.URL+"/", func(string) bool { return true })
	if got.Err != nil || got.Status != 200 || string(got.Body) != string(live.Body) {
		t.Errorf("replayed: %d %v %q; want the live page", got.Status, got.Err, got.Body)
	} else if got.Details == nil || got.Details.HTTPVersion != "HTTP/2.0" {
		t.Errorf("replayed: details %+v, want http_version HTTP/2.0 as it came", got.Details)
	}
}
