package output

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"mime"
	"net/url"
	"os"
	"path"
	"strings"
)

// Dir saves bodies into one folder under names derived from their URLs.
// Names are made of [A-Za-z0-9._-] only and end in a hash of the whole URL,
// so they are stable across runs, distinct for distinct URLs, and can never
// name a path outside the folder; os.Root also refuses to follow a symlink
// out of it. A Dir is safe for concurrent use; call Close when done.
type Dir struct {
	root *os.Root
}

// OpenDir creates the folder if needed and opens it for saving.
func OpenDir(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("save dir: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("save dir: %w", err)
	}
	return &Dir{root: root}, nil
}

// Close releases the folder.
func (d *Dir) Close() error { return d.root.Close() }

// Save writes body under FileName(rawURL, contentType) and returns the path
// as the folder name joined with the file name. The body is written to a
// file of its own and renamed into place, so that the name holds one
// whole body: two saves of one URL at once (a list's duplicate lines)
// wrote over each other's bytes, and a run killed mid-write left a page
// cut short under its name.
func (d *Dir) Save(rawURL, contentType string, body []byte) (string, error) {
	name := FileName(rawURL, contentType)
	part := fmt.Sprintf(".%s.%08x.part", name, rand.Uint32())
	f, err := d.root.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	_, err = f.Write(body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = d.root.Rename(part, name)
	}
	if err != nil {
		_ = d.root.Remove(part)
		return "", err
	}
	return path.Join(d.root.Name(), name), nil
}

// FileName derives a safe, stable file name from a URL: host, a slug of
// the path, 12 hex digits of the URL's SHA-256, and an extension from the
// content type or the path.
func FileName(rawURL, contentType string) string {
	sum := sha256.Sum256([]byte(rawURL))
	hash := hex.EncodeToString(sum[:6])
	host, slug, ext := "", "", ""
	if u, err := url.Parse(rawURL); err == nil {
		host = u.Host
		p := strings.Trim(u.Path, "/")
		ext = path.Ext(p)
		slug = strings.TrimSuffix(p, ext)
	}
	if e := extFor(contentType); e != "" {
		ext = e
	}
	ext = sanitize(strings.TrimPrefix(ext, "."), 10)
	if ext == "" {
		ext = "bin"
	}
	parts := []string{}
	for _, s := range []string{sanitize(host, 60), sanitize(slug, 80)} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	parts = append(parts, hash)
	return strings.Join(parts, "_") + "." + ext
}

// extFor picks an extension for the common content types.
func extFor(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	switch mt {
	case "text/html", "application/xhtml+xml":
		return "html"
	case "application/json":
		return "json"
	case "text/plain":
		return "txt"
	case "text/css":
		return "css"
	case "application/xml", "text/xml":
		return "xml"
	case "application/pdf":
		return "pdf"
	}
	return ""
}

// sanitize maps s to [A-Za-z0-9.-_], turns every other run into one '-',
// strips leading dots and dashes so no name is hidden or looks like a flag,
// and cuts it to n bytes.
func sanitize(s string, n int) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if ok {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimLeft(b.String(), ".-")
	out = strings.ReplaceAll(out, "..", "-")
	if len(out) > n {
		out = out[:n]
	}
	return strings.TrimRight(out, ".-")
}
