package cli

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestConfigExampleServesEveryCommand: the documented defaults must be the
// real ones, and one file must serve every command that takes --config.
func TestConfigExampleServesEveryCommand(t *testing.T) {
	_, base := startSite(t)
	list := writeFile(t, "urls.txt", base+"/page/1\n")
	const example = "../../config.example.yaml"
	res := runCLI(t, "", list, "--config", example, "-q")
	if res.code != 0 || len(parseRecords(t, res.stdout)) != 1 {
		t.Fatalf("fetch with config.example.yaml: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	res = runCLI(t, "", "crawl", base+"/site/0", "--max-depth", "0", "--config", example, "-q")
	if res.code != 0 || len(parseRecords(t, res.stdout)) != 1 {
		t.Errorf("crawl with config.example.yaml: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	res = runCLI(t, "", "bench", list, "-c", "1,2", "--runs", "1", "--config", example, "-q")
	if res.code != 0 {
		t.Errorf("bench with config.example.yaml: exit %d, stderr %q", res.code, res.stderr)
	}
	res = runCLI(t, "", "run", "../../testdata/jobs/catalogue.yaml", "--dry-run", "--set", "start="+base+"/shop/", "--config", example)
	if res.code != 0 {
		t.Errorf("run with config.example.yaml: exit %d, stderr %q", res.code, res.stderr)
	}
	bad := writeFile(t, "bad.yaml", "concurrency: 5\nmax_dept: 2\n")
	res = runCLI(t, "", list, "--config", bad, "-q")
	if res.code != 2 || !strings.Contains(res.stderr, `line 2: key "max_dept"`) {
		t.Errorf("a key of no command: exit %d, stderr %q; want 2 naming line 2", res.code, res.stderr)
	}
}

// TestConfigExampleDocumentsEveryFlag keeps the example in step with the
// flags of every command that reads it.
func TestConfigExampleDocumentsEveryFlag(t *testing.T) {
	data, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := &Streams{}
	for _, cmd := range []*cobra.Command{newFetchCmd(s, nil), newCrawlCmd(s), newBenchCmd(s)} {
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if notInConfigFile[f.Name] {
				return
			}
			key := regexp.MustCompile(`(?m)^#? ?` + regexp.QuoteMeta(underscored(f.Name)) + `:`)
			if !key.Match(data) {
				t.Errorf("config.example.yaml does not document the key %q (%s --%s)", underscored(f.Name), cmd.Name(), f.Name)
			}
		})
	}
}

func underscored(name string) string {
	return regexp.MustCompile(`-`).ReplaceAllString(name, "_")
}
