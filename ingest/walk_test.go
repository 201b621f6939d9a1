package ingest

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

func write(t *testing.T, path string, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWalk(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.pdf"), "%PDF-1.4")
	write(t, filepath.Join(dir, "B.PNG"), "png")
	write(t, filepath.Join(dir, "sub", "c.jpg"), "jpg")
	write(t, filepath.Join(dir, "sub", "deeper", "d.tiff"), "tiff")
	write(t, filepath.Join(dir, "notes.txt"), "ignored inside folders")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// A link to a file is followed; the same file reached twice is listed once.
	must(os.Symlink("a.pdf", filepath.Join(dir, "link-to-a.pdf")))
	// Two links pointing at each other.
	must(os.Symlink("loop2.pdf", filepath.Join(dir, "loop1.pdf")))
	must(os.Symlink("loop1.pdf", filepath.Join(dir, "loop2.pdf")))
	// A folder link back up the tree.
	must(os.Symlink("..", filepath.Join(dir, "sub", "up")))
	// A link to a sibling folder that is walked anyway: no error, no duplicates.
	must(os.Symlink("deeper", filepath.Join(dir, "sub", "same-as-deeper")))
	// A dangling link.
	must(os.Symlink("missing.pdf", filepath.Join(dir, "gone.pdf")))
	// A name that is not UTF-8.
	write(t, filepath.Join(dir, "bad\xff.pdf"), "%PDF-1.4")
	// A named pipe with a PDF name must not be opened (it would block).
	must(syscall.Mkfifo(filepath.Join(dir, "pipe.pdf"), 0o644))

	var errs []string
	got, err := Walk([]string{dir, filepath.Join(dir, "nope"), filepath.Join(dir, "notes.txt")}, func(p string, err error) {
		rel, _ := filepath.Rel(dir, p)
		errs = append(errs, rel+": "+err.Error())
		switch rel {
		case "loop1.pdf", "loop2.pdf", filepath.Join("sub", "up"):
			if !errors.Is(err, ErrSymlinkLoop) {
				t.Errorf("%s: %v, want ErrSymlinkLoop", rel, err)
			}
		case "gone.pdf":
			if !errors.Is(err, ErrBrokenSymlnk) {
				t.Errorf("%s: %v, want ErrBrokenSymlnk", rel, err)
			}
		case "bad\xff.pdf":
			if !errors.Is(err, ErrNotUTF8) {
				t.Errorf("%q: %v, want ErrNotUTF8", rel, err)
			}
		case "pipe.pdf":
			if !errors.Is(err, ErrNotRegular) {
				t.Errorf("%s: %v, want ErrNotRegular", rel, err)
			}
		case "notes.txt":
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s: %v, want ErrUnsupported", rel, err)
			}
		case "nope":
			if !strings.Contains(err.Error(), "no such file") {
				t.Errorf("%s: %v", rel, err)
			}
		default:
			t.Errorf("unexpected problem %s: %v", rel, err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	var rels []string
	for _, f := range got {
		rel, _ := filepath.Rel(dir, f.Path)
		rels = append(rels, rel)
	}
	want := []string{"B.PNG", "a.pdf", "sub/c.jpg", "sub/deeper/d.tiff"}
	if strings.Join(rels, ",") != strings.Join(want, ",") {
		t.Errorf("files = %v, want %v", rels, want)
	}
	sort.Strings(errs)
	if len(errs) != 8 {
		t.Errorf("got %d problems, want 8:\n%s", len(errs), strings.Join(errs, "\n"))
	}
	for _, f := range got {
		if f.Size == 0 || f.ModTime.IsZero() {
			t.Errorf("%s: size %d, mtime %v", f.Path, f.Size, f.ModTime)
		}
	}
}

func TestWalkUnreadableFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: permissions do not stop reads")
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "locked", "x.pdf"), "%PDF-1.4")
	write(t, filepath.Join(dir, "ok.pdf"), "%PDF-1.4")
	if err := os.Chmod(filepath.Join(dir, "locked"), 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Join(dir, "locked"), 0o755)
	var problems []string
	got, _ := Walk([]string{dir}, func(p string, err error) { problems = append(problems, p+": "+err.Error()) })
	if len(got) != 1 || len(problems) != 1 || !strings.Contains(problems[0], "permission denied") {
		t.Errorf("files %v, problems %v", got, problems)
	}
}

func TestSupported(t *testing.T) {
	for name, want := range map[string]bool{
		"a.pdf": true, "A.PDF": true, "x.jpeg": true, "x.webp": true, "x.tif": true, "x.txt": false, "pdf": false, "x.pdf.bak": false,
	} {
		if Supported(name) != want {
			t.Errorf("Supported(%q) = %v", name, !want)
		}
	}
}
