package ernie_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"ernie"
)

// Packed copies of the repository's tiny checkpoints, made once per run.
var packed = map[string]string{}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ernie-go-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		for _, name := range []string{"tiny-moe-a", "tiny-moe-b"} {
			out := filepath.Join(dir, name+".ernie")
			if err := ernie.Pack(filepath.Join(repoRoot(), "tests", "data", name), out, nil); err != nil {
				fmt.Fprintf(os.Stderr, "packing %s: %v\n", name, err)
				return 1
			}
			packed[name] = out
		}
		return m.Run()
	}()
	os.Exit(code)
}

func repoRoot() string {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		panic(err)
	}
	return root
}

func loadModel(t *testing.T, name string) *ernie.Model {
	t.Helper()
	m, err := ernie.Load(packed[name], nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func newSession(t *testing.T, m *ernie.Model, opts *ernie.SessionOptions) *ernie.Session {
	t.Helper()
	s, err := m.NewSession(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// cliTokens runs the C reference, `ernie run ... --json` (the CLI next to
// the library: ERNIE_CLI overrides), and returns its tokens.
func cliTokens(t *testing.T, args ...string) []int32 {
	t.Helper()
	cli := os.Getenv("ERNIE_CLI")
	if cli == "" {
		cli = filepath.Join(repoRoot(), "build", "bin", "ernie")
	}
	cmd := exec.Command(cli, append(append([]string{"run"}, args...), "--json")...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", cli, err)
	}
	var doc struct {
		Tokens []int32 `json:"tokens"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("CLI output %q: %v", out, err)
	}
	return doc.Tokens
}

func seeded(seed uint64, maxTokens int32) *ernie.GenerateOptions {
	s := ernie.DefaultSampling()
	s.Seed = seed
	return &ernie.GenerateOptions{Sampling: &s, MaxTokens: maxTokens}
}

func equalTokens(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
