package index

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/colsmol/colsmol/maxsim"
)

// The child processes are this test binary run again with COLSMOL_INDEX_CHILD set; they open the store
// at COLSMOL_INDEX_DB and print "ready" once they hold it.
const (
	envChild = "COLSMOL_INDEX_CHILD"
	envDB    = "COLSMOL_INDEX_DB"
	envSeed  = "COLSMOL_INDEX_SEED"
)

func TestMain(m *testing.M) {
	switch os.Getenv(envChild) {
	case "hold":
		os.Exit(childHold())
	case "write":
		os.Exit(childWrite())
	}
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func childHold() int {
	s, err := Open(os.Getenv(envDB), Options{})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer s.Close()
	fmt.Println("ready")
	time.Sleep(60 * time.Second)
	return 0
}

// crashDoc is document number gen of the writer child: its path cycles through a few names (so puts
// replace documents), and every page's vectors derive from gen, so a reader can tell a whole document
// from a mix of two versions.
func crashDoc(gen int) (Document, []Page) {
	sy := newSynth(99, 128, 10)
	r := rand.New(rand.NewPCG(uint64(gen), 3))
	n := 1 + r.IntN(6)
	doc := Document{Path: fmt.Sprintf("docs/file%d.pdf", gen%5), SHA256: fmt.Sprintf("%064d", gen)}
	pages := sy.pages(uint64(gen*100), n, 30+r.IntN(60))
	return doc, pages
}

func childWrite() int {
	s, err := Open(os.Getenv(envDB), Options{})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	seed, _ := strconv.Atoi(os.Getenv(envSeed))
	for gen := seed * 100000; ; gen++ {
		doc, pages := crashDoc(gen)
		if err := s.Put(doc, pages); err != nil {
			fmt.Println("error:", err)
			return 1
		}
		if gen%9 == 4 {
			s.Delete(DocumentID(fmt.Sprintf("docs/file%d.pdf", (gen+2)%5)))
		}
		if gen == seed*100000 {
			fmt.Println("ready")
		}
	}
}

// startChild runs the test binary as a child in the given role and waits until it holds the store.
func startChild(t *testing.T, role, db string, seed int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"="+role, envDB+"="+db, envSeed+"="+strconv.Itoa(seed))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
	}()
	select {
	case line := <-ready:
		if line != "ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child %s: %q", role, line)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child %s did not start", role)
	}
	return cmd
}

func TestOpen_HeldByAnotherProcess(t *testing.T) {
	db := filepath.Join(t.TempDir(), "held.db")
	child := startChild(t, "hold", db, 0)
	defer func() { child.Process.Kill(); child.Wait() }()
	for _, o := range []Options{{Timeout: 500 * time.Millisecond}, {Timeout: 500 * time.Millisecond, ReadOnly: true}} {
		start := time.Now()
		s, err := Open(db, o)
		if err == nil {
			s.Close()
			t.Fatalf("Open(%+v) succeeded while another process holds the file", o)
		}
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("Open(%+v) error %v, want ErrLocked", o, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("Open(%+v) took %s to fail", o, d)
		}
	}
}

// TestStore_SurvivesKill9 runs a writer process, kills it with SIGKILL at random moments, and checks
// after each kill that the file opens, passes bbolt's consistency check, and holds every document
// whole (all pages of one version) or not at all; then writing goes on in the same file.
func TestStore_SurvivesKill9(t *testing.T) {
	db := filepath.Join(t.TempDir(), "crash.db")
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	rounds := 6
	if testing.Short() {
		rounds = 2
	}
	for round := 1; round <= rounds; round++ {
		child := startChild(t, "write", db, round)
		time.Sleep(time.Duration(5+r.IntN(300)) * time.Millisecond)
		child.Process.Signal(syscall.SIGKILL)
		err := child.Wait()
		if ws, ok := child.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: writer ended without being killed: %v", round, err)
		}
		s, err := Open(db, Options{Timeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("round %d: open after kill -9: %v", round, err)
		}
		if err := verify(s); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		docs, err := s.Documents()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			checkCrashDoc(t, s, d)
		}
		s.Close()
		t.Logf("round %d: %d documents whole after kill -9", round, len(docs))
	}
}

// checkCrashDoc compares a stored document with the version its sha names.
func checkCrashDoc(t *testing.T, s *Store, d Document) {
	t.Helper()
	gen, err := strconv.Atoi(d.SHA256)
	if err != nil {
		t.Fatalf("document %s has sha %q", d.Path, d.SHA256)
	}
	want, pages := crashDoc(gen)
	if d.Path != want.Path || d.Pages != len(pages) {
		t.Fatalf("document %s: %d pages, version %d has %s with %d", d.Path, d.Pages, gen, want.Path, len(pages))
	}
	for p := range pages {
		vecs, _, err := s.PageVectors(d.ID, p+1)
		if err != nil || len(vecs) != len(pages[p].Vectors) {
			t.Fatalf("document %s page %d: %d vectors, %v", d.Path, p+1, len(vecs), err)
		}
		for _, j := range []int{0, len(vecs) - 1} {
			for k := range vecs[j] {
				if vecs[j][k] != maxsim.ToFloat32(maxsim.FromFloat32(pages[p].Vectors[j][k])) {
					t.Fatalf("document %s page %d holds vectors of another version", d.Path, p+1)
				}
			}
		}
	}
}
