package cli

import (
	"os"
	"regexp"
	"testing"

	"github.com/spf13/pflag"
)

// TestConfigExampleLoadsAndChangesNothing: the documented defaults must be
// the real ones, so running with the example equals running without it.
func TestConfigExampleLoadsAndChangesNothing(t *testing.T) {
	_, base := startSite(t)
	list := writeFile(t, "urls.txt", base+"/page/1\n")
	res := runCLI(t, "", list, "--config", "../../config.example.yaml", "-q")
	if res.code != 0 || len(parseRecords(t, res.stdout)) != 1 {
		t.Fatalf("with config.example.yaml: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
}

// TestConfigExampleDocumentsEveryFlag keeps the example in step with the flags.
func TestConfigExampleDocumentsEveryFlag(t *testing.T) {
	data, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cmd := newFetchCmd(&Streams{}, nil)
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if notInConfigFile[f.Name] {
			return
		}
		key := regexp.MustCompile(`(?m)^#? ?` + regexp.QuoteMeta(underscored(f.Name)) + `:`)
		if !key.Match(data) {
			t.Errorf("config.example.yaml does not document the key %q (flag --%s)", underscored(f.Name), f.Name)
		}
	})
}

func underscored(name string) string {
	return regexp.MustCompile(`-`).ReplaceAllString(name, "_")
}
