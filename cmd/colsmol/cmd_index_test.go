package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/colsmol/colsmol/index"
	"github.com/colsmol/colsmol/ingest/pdfwrite"
	"github.com/colsmol/colsmol/internal/ort"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// colsmolBinary builds the colsmol command once for the tests that run it as a child process.
func colsmolBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "colsmol-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "colsmol")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func moduleRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// cliEnv checks for ONNX Runtime and the tiny model and returns the model folder.
func cliEnv(t *testing.T) string {
	t.Helper()
	if _, err := ort.Init(""); err != nil {
		t.Skipf("ONNX Runtime library not available: %v (run `make ort`)", err)
	}
	model, _ := filepath.Abs(filepath.Join(moduleRoot(t), "testdata", "models", "tiny-colsmol"))
	if _, err := os.Stat(model); err != nil {
		t.Fatalf("tiny model missing: %v", err)
	}
	return model
}

func pdfWithPages(title string, n int) []byte {
	d := pdfwrite.New()
	for i := 0; i < n; i++ {
		p := d.AddPage(612, 792)
		p.Text(40, 700, 18, true, fmt.Sprintf("%s - page %d", title, i+1))
		p.Fill(0.1*float64(i%10), 0.3, 0.6)
		p.Rect(40, 200+float64(i%7)*30, 300, 200, true)
	}
	return d.Bytes(pdfwrite.Options{})
}

func cliCommand(bin, model, db string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, append([]string{"--db", db, "--model", model, "--threads", "1"}, args...)...)
	cmd.Env = append(os.Environ(), "ONNXRUNTIME_LIB="+ort.LibraryPath())
	return cmd
}

// TestIndexKillResume kills a real `colsmol index` with SIGKILL after its first stored document, checks that
// the index holds only whole documents, then lets a second run finish the job while another process gets a
// clear "in use" error (exit 3) within seconds.
func TestIndexKillResume(t *testing.T) {
	model := cliEnv(t)
	bin := colsmolBinary(t)
	dir := t.TempDir()
	docs := filepath.Join(dir, "docs")
	os.MkdirAll(docs, 0o755)
	const files, pagesEach = 6, 3
	for i := 0; i < files; i++ {
		os.WriteFile(filepath.Join(docs, fmt.Sprintf("doc%d.pdf", i)), pdfWithPages(fmt.Sprintf("Document %d", i), pagesEach), 0o644)
	}
	os.WriteFile(filepath.Join(docs, "broken.pdf"), []byte("%PDF-1.7 broken"), 0o644)
	db := filepath.Join(dir, "index.db")

	cmd := cliCommand(bin, model, db, "index", docs)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stderr)
	var seen []string
	for lines.Scan() {
		seen = append(seen, lines.Text())
		if strings.HasPrefix(lines.Text(), "indexed ") {
			break
		}
	}
	if len(seen) == 0 || !strings.HasPrefix(seen[len(seen)-1], "indexed ") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no document was indexed; stderr:\n%s", strings.Join(seen, "\n"))
	}

	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	st, err := index.Open(db, index.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.Documents()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range stored {
		if d.Pages != pagesEach {
			t.Errorf("%s: %d pages stored, want %d", d.Path, d.Pages, pagesEach)
		}
		for p := 1; p <= d.Pages; p++ {
			if v, _, err := st.PageVectors(d.ID, p); err != nil || len(v) == 0 {
				t.Errorf("%s page %d: %v", d.Path, p, err)
			}
		}
	}
	st.Close()
	if len(stored) == 0 || len(stored) == files {
		t.Fatalf("%d documents stored when killed; the test wants a kill mid-run", len(stored))
	}

	// The second run finishes: the stored documents are skipped, the broken file fails again (exit 1). More
	// files are added so that it runs long enough for the lock check below.
	const extra = 4
	for i := 0; i < extra; i++ {
		os.WriteFile(filepath.Join(docs, fmt.Sprintf("more%d.pdf", i)), pdfWithPages(fmt.Sprintf("More %d", i), pagesEach), 0o644)
	}
	again := cliCommand(bin, model, db, "--json", "index", docs)
	var out bytes.Buffer
	again.Stdout = &out
	stderr2, _ := again.StderrPipe()
	if err := again.Start(); err != nil {
		t.Fatal(err)
	}
	lines = bufio.NewScanner(stderr2)
	var errLines []string
	for lines.Scan() {
		errLines = append(errLines, lines.Text())
		if strings.HasPrefix(lines.Text(), "found ") {
			break
		}
	}
	// While the indexer holds the file, a search fails clearly and quickly.
	start := time.Now()
	search := cliCommand(bin, model, db, "search", "document")
	var serr bytes.Buffer
	search.Stderr = &serr
	err = search.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitNothing || !strings.Contains(serr.String(), "in use") {
		t.Errorf("search on a locked index: %v, stderr %q", err, serr.String())
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("the locked-index error took %v", d)
	}
	for lines.Scan() {
		errLines = append(errLines, lines.Text())
	}
	err = again.Wait()
	errOut := strings.Join(errLines, "\n")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitPartial {
		t.Errorf("second run: %v (want exit 1 for the broken file); stderr:\n%s", err, errOut)
	}
	var sum struct {
		Files, Pages, Embedded, Skipped, Removed int
		Failed                                   []struct{ Path, Error string }
		Seconds                                  *float64
	}
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("summary %q: %v", out.String(), err)
	}
	// Pages of the document that was under way when killed may be reused (page-level resumption), so up to
	// pagesEach-1 of them are not embedded again.
	toEmbed := (files + extra - len(stored)) * pagesEach
	if sum.Files != files+extra+1 || sum.Skipped != len(stored) || sum.Embedded > toEmbed || sum.Embedded < toEmbed-(pagesEach-1) ||
		sum.Pages != (files+extra)*pagesEach || len(sum.Failed) != 1 || sum.Seconds == nil {
		t.Errorf("second run summary %+v (had %d documents)", sum, len(stored))
	}
	if len(sum.Failed) == 1 && (filepath.Base(sum.Failed[0].Path) != "broken.pdf" || !strings.Contains(errOut, "skip ")) {
		t.Errorf("failure %+v, stderr %q", sum.Failed, errOut)
	}

	// search --json answers in the documented shape.
	search = cliCommand(bin, model, db, "--json", "search", "--k", "4", "Document 3")
	out.Reset()
	search.Stdout = &out
	if err := search.Run(); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Query   string
		K       int
		Results []map[string]any
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Query != "Document 3" || res.K != 4 || len(res.Results) != 4 {
		t.Fatalf("search --json %s: %v", out.String(), err)
	}
	for i, r := range res.Results {
		if r["rank"] != float64(i+1) || r["page"].(float64) < 1 || r["page"].(float64) > pagesEach || r["doc_id"] == "" ||
			!strings.HasSuffix(r["path"].(string), ".pdf") || len(r) != 5 {
			t.Errorf("result %d: %v", i, r)
		}
	}

	// The phase sizes are taken, and a bad one is a usage error (exit 2) naming the flag.
	search = cliCommand(bin, model, db, "--json", "search", "--k", "2", "--candidates", "3", "--rerank", "2", "Document 3")
	out.Reset()
	search.Stdout = &out
	if err := search.Run(); err != nil || json.Unmarshal(out.Bytes(), &res) != nil || len(res.Results) != 2 {
		t.Fatalf("search --candidates 3 --rerank 2: %v, %s", err, out.String())
	}
	search = cliCommand(bin, model, db, "search", "--candidates", "-1", "Document 3")
	serr.Reset()
	search.Stderr = &serr
	if err := search.Run(); exitCode(err) != 2 || !strings.Contains(serr.String(), "--candidates") {
		t.Errorf("search --candidates -1: %v, stderr %q", err, serr.String())
	}
}
