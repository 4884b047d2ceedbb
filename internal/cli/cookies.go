package cli

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/fetchall/fetchall/fetch"
)

// cookieOptions are --cookies and --cookie-jar: a Netscape cookies.txt
// file to start from, and one to save the run's cookies to at its end.
type cookieOptions struct {
	load string // --cookies
	save string // --cookie-jar
}

// bind adds the flags; what names the run in their help ("crawl").
func (c *cookieOptions) bind(fs *pflag.FlagSet, what string) {
	fs.StringVar(&c.load, "cookies", "", "load cookies from this Netscape cookies.txt file (as curl and wget write it)")
	fs.StringVar(&c.save, "cookie-jar", "", "save the "+what+"'s cookies to this file, in the same format, when it ends (readable by you alone; may be the --cookies file)")
}

// bindLoad adds --cookies alone, for a command that keeps no cookies
// (bench: every run starts from the file's).
func (c *cookieOptions) bindLoad(fs *pflag.FlagSet) {
	fs.StringVar(&c.load, "cookies", "", "send the cookies of this Netscape cookies.txt file (as curl and wget write it); each timed run starts from them (unless --keep-alive-across-runs)")
}

// given says whether either flag was.
func (c *cookieOptions) given() bool { return c.load != "" || c.save != "" }

// jarFile is --cookie-jar as a file a run writes.
func (c *cookieOptions) jarFile() flagFile { return flagFile{"--cookie-jar", c.save} }

// jar makes the run's cookie jar, holding the --cookies file's cookies.
func (c *cookieOptions) jar() (*fetch.Jar, error) {
	jar := fetch.NewJar()
	if c.load == "" {
		return jar, nil
	}
	f, err := os.Open(c.load)
	if err != nil {
		return nil, fmt.Errorf("--cookies: %w", err)
	}
	defer f.Close()
	if err := jar.Load(c.load, f); err != nil {
		return nil, err
	}
	return jar, nil
}

// saveJar writes the run's cookies to --cookie-jar, if asked: only its
// owner may read it (cookies are sessions), and a failed save leaves the
// file as it was (it may be the --cookies the run started from).
func (c *cookieOptions) saveJar(jar *fetch.Jar) error {
	if c.save == "" || jar == nil {
		return nil
	}
	if err := replaceFile(c.save, 0o600, jar.Save); err != nil {
		return fmt.Errorf("save cookies to %s: %w", c.save, err)
	}
	return nil
}
