package output

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// The hand-written encoder writes what encoding/json writes, byte for
// byte, for records with every kind of string and number.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"", "a", "é", "日本", "<b>&amp;</b>", `"`, `\`, "\n", "\r\t", "\x00", "\x1f", "\x7f", "\xff", "\xc3", "\u2028", "\u2029",
		"http://x/?a=1&b=<2>", "\U0001F600", " ", "\b\f"}
	str := func() string {
		var b bytes.Buffer
		for range rng.IntN(5) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	floats := []float64{0, 1, 0.001, 1.5, 123.456, 1e-7, 5e-324, 1e21, 1e20, 12345678.9, -0.5, math.SmallestNonzeroFloat64, 3.14159e-6}
	for i := range 5000 {
		rec := Record{URL: str(), Line: rng.IntN(3) * rng.IntN(1000), OK: rng.IntN(2) == 0, FinalURL: str(), Status: rng.IntN(600),
			ContentType: str(), Bytes: rng.Int64N(1 << 40), Truncated: rng.IntN(2) == 0, DurationMS: floats[rng.IntN(len(floats))] * float64(rng.IntN(3)+1),
			Attempts: rng.IntN(4), Title: str(), Error: str(), ErrorMessage: str(), SavedPath: str(), Parent: str(), Canonical: str()}
		if rng.IntN(2) == 0 {
			d, l := rng.IntN(10), rng.IntN(100)
			rec.Depth, rec.Links = &d, &l
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rec); err != nil {
			t.Fatal(err)
		}
		if got := rec.AppendJSON(nil); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("record %d:\n got %s\nwant %s", i, got, want.Bytes())
		}
	}
}
