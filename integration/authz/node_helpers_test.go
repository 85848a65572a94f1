package authz_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// installNodePackage installs pkg (name@range) from the npm registry into a
// temporary directory and writes the scripts (file name → source) there;
// it returns the directory to run node in. node and npm are required: a
// missing one fails the test rather than skip it.
func installNodePackage(t *testing.T, pkg string, scripts map[string]string) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is required for the interoperability test: %v", tool, err)
		}
	}
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"type":"module","private":true}`), 0o644))
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--silent", pkg)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install %s: %v\n%s", pkg, err, out)
	}
	for name, src := range scripts {
		must(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644))
	}
	return dir
}

// runNode runs node with args in dir and returns its standard output; a
// failure fails the test with node's standard error.
func runNode(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("node", args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}
