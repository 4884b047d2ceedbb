package output

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends the record as one line of JSON, exactly as
// encoding/json (HTML left unescaped) writes it, newline included. It is
// written by hand because a bulk list spends a tenth of its client CPU
// in reflection otherwise; TestAppendJSONMatchesEncodingJSON holds the
// two together.
func (rec *Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"url":`...)
	b = appendString(b, rec.URL)
	if rec.Line != 0 {
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, int64(rec.Line), 10)
	}
	b = append(b, `,"ok":`...)
	b = strconv.AppendBool(b, rec.OK)
	b = append(b, `,"final_url":`...)
	b = appendString(b, rec.FinalURL)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(rec.Status), 10)
	b = append(b, `,"content_type":`...)
	b = appendString(b, rec.ContentType)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, rec.Bytes, 10)
	b = append(b, `,"truncated":`...)
	b = strconv.AppendBool(b, rec.Truncated)
	b = append(b, `,"duration_ms":`...)
	b = appendFloat(b, rec.DurationMS)
	b = append(b, `,"attempts":`...)
	b = strconv.AppendInt(b, int64(rec.Attempts), 10)
	b = append(b, `,"title":`...)
	b = appendString(b, rec.Title)
	b = append(b, `,"error":`...)
	b = appendString(b, rec.Error)
	b = append(b, `,"error_message":`...)
	b = appendString(b, rec.ErrorMessage)
	if rec.SavedPath != "" {
		b = append(b, `,"saved_path":`...)
		b = appendString(b, rec.SavedPath)
	}
	if rec.Depth != nil {
		b = append(b, `,"depth":`...)
		b = strconv.AppendInt(b, int64(*rec.Depth), 10)
	}
	if rec.Parent != "" {
		b = append(b, `,"parent":`...)
		b = appendString(b, rec.Parent)
	}
	if rec.Links != nil {
		b = append(b, `,"links":`...)
		b = strconv.AppendInt(b, int64(*rec.Links), 10)
	}
	if rec.Canonical != "" {
		b = append(b, `,"canonical":`...)
		b = appendString(b, rec.Canonical)
	}
	return append(b, '}', '\n')
}

// appendFloat formats a float64 as encoding/json does.
func appendFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, '0') // encoding/json refuses them; a duration is never one
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does with HTML escaping off:
// quotes, backslashes and control characters escaped, invalid UTF-8 as
// U+FFFD, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
