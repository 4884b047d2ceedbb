package output

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/fetchall/fetchall/crawler"
)

// ExtraFields are the fields --fields may add to a record, in the order
// they follow the default ones. They need a traced fetch
// (fetch.Config.Trace).
var ExtraFields = []string{"remote_ip", "http_version", "tls_version", "conn_reused", "dns_ms", "connect_ms",
	"tls_ms", "ttfb_ms", "redirects", "sha256", "etag", "last_modified", "fetched_at", "tls_not_after"}

// FieldSet is the extra fields a run's records carry: some of
// ExtraFields, then selected response headers (header_NAME). The zero
// value adds none.
type FieldSet struct {
	names   []string
	headers []string // canonical header names
}

// ParseFields reads --fields values (comma-separated names, or "all") and
// --header-field names.
func ParseFields(lists, headers []string) (FieldSet, error) {
	var fs FieldSet
	for _, list := range lists {
		for _, name := range strings.Split(list, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			switch {
			case name == "":
			case name == "all":
				for _, n := range ExtraFields {
					if !slices.Contains(fs.names, n) {
						fs.names = append(fs.names, n)
					}
				}
			case !slices.Contains(ExtraFields, name):
				return FieldSet{}, fmt.Errorf("unknown field %q (want all, or some of %s)", name, strings.Join(ExtraFields, ", "))
			case !slices.Contains(fs.names, name):
				fs.names = append(fs.names, name)
			}
		}
	}
	// Record order, whatever the order asked.
	slices.SortFunc(fs.names, func(a, b string) int { return slices.Index(ExtraFields, a) - slices.Index(ExtraFields, b) })
	for _, h := range headers {
		h = strings.TrimSpace(h)
		if !httpguts.ValidHeaderFieldName(h) {
			return FieldSet{}, &HeaderFieldError{Name: h}
		}
		if c := http.CanonicalHeaderKey(h); !slices.Contains(fs.headers, c) {
			fs.headers = append(fs.headers, c)
		}
	}
	return fs, nil
}

// HeaderFieldError is a header field asked for that is not a header name.
type HeaderFieldError struct{ Name string }

func (e *HeaderFieldError) Error() string {
	return fmt.Sprintf("header field %q: want a header name such as Server or X-Cache", e.Name)
}

// Empty says whether the set adds nothing.
func (f FieldSet) Empty() bool { return len(f.names) == 0 && len(f.headers) == 0 }

// Columns are the added fields' names: the extra fields, then
// header_NAME for each header (lower case, - as _).
func (f FieldSet) Columns() []string {
	out := slices.Clone(f.names)
	for _, h := range f.headers {
		out = append(out, headerColumn(h))
	}
	return out
}

func headerColumn(h string) string {
	return "header_" + strings.ReplaceAll(strings.ToLower(h), "-", "_")
}

// values returns the added fields' values for r, in Columns order; nil
// where a field does not apply (no response, no TLS, no such header).
func (f FieldSet) values(r *crawler.Result) []any {
	out := make([]any, 0, len(f.names)+len(f.headers))
	d := r.Details
	ms := func(x time.Duration) any { return float64(x.Microseconds()) / 1000 }
	header := func(name string) any {
		if vs := r.Header.Values(name); len(vs) > 0 {
			return strings.Join(vs, ", ")
		}
		return nil
	}
	for _, name := range f.names {
		if d == nil {
			out = append(out, nil)
			continue
		}
		var v any
		switch name {
		case "remote_ip":
			v = d.RemoteIP
		case "http_version":
			v = d.HTTPVersion
		case "tls_version":
			if d.TLSVersion != "" {
				v = d.TLSVersion
			}
		case "conn_reused":
			v = d.ConnReused
		case "dns_ms":
			v = ms(d.DNS)
		case "connect_ms":
			v = ms(d.Connect)
		case "tls_ms":
			if d.TLSVersion != "" {
				v = ms(d.TLS)
			}
		case "ttfb_ms":
			v = ms(d.TTFB)
		case "redirects":
			v = d.Redirects
			if d.Redirects == nil {
				v = []any{}
			}
		case "sha256":
			v = d.SHA256
		case "etag":
			v = header("Etag")
		case "last_modified":
			v = header("Last-Modified")
		case "fetched_at":
			v = d.FetchedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00")
		case "tls_not_after":
			if !d.TLSNotAfter.IsZero() {
				v = d.TLSNotAfter.UTC().Format(time.RFC3339)
			}
		}
		out = append(out, v)
	}
	for _, h := range f.headers {
		if d == nil {
			out = append(out, nil)
		} else {
			out = append(out, header(h))
		}
	}
	return out
}

// appendJSON adds the fields to a record's JSON object, which ends with
// "}\n".
func (f FieldSet) appendJSON(line []byte, r *crawler.Result) ([]byte, error) {
	line = line[:len(line)-2] // "}\n"
	cols := f.Columns()
	for i, v := range f.values(r) {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		line = append(line, ',', '"')
		line = append(line, cols[i]...)
		line = append(line, '"', ':')
		line = append(line, b...)
	}
	return append(line, '}', '\n'), nil
}

// cells renders the fields for CSV: "" for null, JSON for the redirect
// chain.
func (f FieldSet) cells(r *crawler.Result) []string {
	vals := f.values(r)
	out := make([]string, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case nil:
		case string:
			out[i] = x
		case bool:
			out[i] = strconv.FormatBool(x)
		case float64:
			out[i] = strconv.FormatFloat(x, 'f', 3, 64)
		default:
			b, _ := json.Marshal(x)
			out[i] = string(b)
		}
	}
	return out
}
