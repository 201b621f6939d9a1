// Package ingest finds the files colsmol indexes and turns them into page images: it walks files and folders,
// renders PDF pages through PDFium compiled to WebAssembly (no system library, nothing of the host file system
// mounted into the sandbox) and decodes image files with internal/vlm.
package ingest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// File is one file to index, as found by Walk.
type File struct {
	// Path is the file's path as reached from the walked argument (the argument joined with the names below it),
	// cleaned. Symbolic links are not resolved in it.
	Path    string
	Size    int64
	ModTime time.Time
}

// pdfExts and imageExts are the file name extensions Walk picks up inside folders (lower case).
var pdfExts = map[string]bool{".pdf": true}

var imageExts = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".jpe": true, ".jfif": true, ".gif": true, ".bmp": true,
	".dib": true, ".tif": true, ".tiff": true, ".webp": true,
}

// Supported reports whether a file name has an extension colsmol indexes (PDFs and images).
func Supported(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return pdfExts[ext] || imageExts[ext]
}

// SupportedExtensions lists the extensions Supported accepts, sorted.
func SupportedExtensions() []string {
	var out []string
	for e := range pdfExts {
		out = append(out, e)
	}
	for e := range imageExts {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// Errors Walk reports through onErr (wrapped with details); callers may test for them with errors.Is.
var (
	ErrNotUTF8      = errors.New("the name is not valid UTF-8")
	ErrSymlinkLoop  = errors.New("symbolic link loop")
	ErrNotRegular   = errors.New("not a regular file")
	ErrUnsupported  = errors.New("not a PDF or an image")
	ErrBrokenSymlnk = errors.New("broken symbolic link")
)

// Walk lists the PDFs and images under paths: files are taken as they are, folders are walked recursively in
// lexical order, following symbolic links to files and folders. Problems with single entries (unreadable
// folders, symbolic link loops, broken links, names that are not UTF-8, special files, a named file of an
// unsupported type) are passed to onErr with the entry's path and a message that says what to do; the walk goes
// on. Files inside folders whose extension is not supported are ignored silently. Each file is listed once,
// even when reached twice through links. The returned error is non-nil only when onErr is nil and a problem
// occurred (then it is the first problem).
func Walk(paths []string, onErr func(path string, err error)) ([]File, error) {
	w := &walker{seenFiles: map[fileKey]bool{}, seenDirs: map[fileKey]bool{}}
	w.onErr = onErr
	if w.onErr == nil {
		w.onErr = func(path string, err error) {
			if w.first == nil {
				w.first = fmt.Errorf("%s: %w", path, err)
			}
		}
	}
	for _, p := range paths {
		p = filepath.Clean(p)
		w.root(p)
	}
	return w.files, w.first
}

type fileKey struct{ dev, ino uint64 }

type walker struct {
	files     []File
	seenFiles map[fileKey]bool
	seenDirs  map[fileKey]bool
	onErr     func(string, error)
	first     error
}

func keyOf(fi os.FileInfo) (fileKey, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileKey{}, false
	}
	return fileKey{uint64(st.Dev), uint64(st.Ino)}, true
}

func (w *walker) root(p string) {
	if !utf8.ValidString(p) {
		w.onErr(p, fmt.Errorf("%w; rename it (e.g. with convmv) and index it again", ErrNotUTF8))
		return
	}
	fi, err := os.Stat(p)
	if err != nil {
		w.onErr(p, statError(p, err))
		return
	}
	if fi.IsDir() {
		w.dir(p, fi, nil)
		return
	}
	if !fi.Mode().IsRegular() {
		w.onErr(p, fmt.Errorf("%w (%s); give a PDF, an image or a folder", ErrNotRegular, kindOf(fi.Mode())))
		return
	}
	if !Supported(p) {
		w.onErr(p, fmt.Errorf("%w (supported: %s); convert it or leave it out", ErrUnsupported, strings.Join(SupportedExtensions(), " ")))
		return
	}
	w.add(p, fi)
}

// statError turns a failed os.Stat into a message that says what to do.
func statError(p string, err error) error {
	switch {
	case errors.Is(err, syscall.ELOOP):
		return fmt.Errorf("%w (the link points back to itself); fix or remove the link", ErrSymlinkLoop)
	case errors.Is(err, fs.ErrNotExist):
		if li, lerr := os.Lstat(p); lerr == nil && li.Mode()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			return fmt.Errorf("%w to %q (the target is missing); fix or remove the link", ErrBrokenSymlnk, target)
		}
		return errors.New("no such file or folder; check the path")
	case errors.Is(err, fs.ErrPermission):
		return errors.New("permission denied; give the user running colsmol read access")
	}
	return fmt.Errorf("%v; check the path", err)
}

func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

func (w *walker) add(p string, fi os.FileInfo) {
	if k, ok := keyOf(fi); ok {
		if w.seenFiles[k] {
			return
		}
		w.seenFiles[k] = true
	}
	w.files = append(w.files, File{Path: p, Size: fi.Size(), ModTime: fi.ModTime()})
}

// dir walks folder p; ancestors holds the folders on the way down (to tell loops from repeated visits).
func (w *walker) dir(p string, fi os.FileInfo, ancestors []fileKey) {
	k, hasKey := keyOf(fi)
	if hasKey {
		for _, a := range ancestors {
			if a == k {
				w.onErr(p, fmt.Errorf("%w: the link leads back to a folder above it; remove the link or index its target directly", ErrSymlinkLoop))
				return
			}
		}
		if w.seenDirs[k] {
			return // reached again through another link: already listed
		}
		w.seenDirs[k] = true
		ancestors = append(ancestors, k)
	}
	entries, err := os.ReadDir(p)
	if err != nil && len(entries) == 0 {
		w.onErr(p, statError(p, err))
		return
	}
	if err != nil {
		w.onErr(p, statError(p, err))
	}
	for _, e := range entries {
		child := filepath.Join(p, e.Name())
		if !utf8.ValidString(e.Name()) {
			if e.IsDir() || Supported(e.Name()) || e.Type()&fs.ModeSymlink != 0 {
				w.onErr(child, fmt.Errorf("%w; rename it (e.g. with convmv) and index it again", ErrNotUTF8))
			}
			continue
		}
		t := e.Type()
		if t&fs.ModeSymlink != 0 {
			ti, err := os.Stat(child)
			if err != nil {
				w.onErr(child, statError(child, err))
				continue
			}
			if ti.IsDir() {
				w.dir(child, ti, ancestors)
				continue
			}
			if !Supported(child) {
				continue
			}
			if !ti.Mode().IsRegular() {
				w.onErr(child, fmt.Errorf("%w (%s); leave it out", ErrNotRegular, kindOf(ti.Mode())))
				continue
			}
			w.add(child, ti)
			continue
		}
		if e.IsDir() {
			di, err := os.Stat(child)
			if err != nil {
				w.onErr(child, statError(child, err))
				continue
			}
			w.dir(child, di, ancestors)
			continue
		}
		if !Supported(child) {
			continue
		}
		if !t.IsRegular() {
			w.onErr(child, fmt.Errorf("%w (%s); leave it out", ErrNotRegular, kindOf(t)))
			continue
		}
		fi, err := e.Info()
		if err != nil {
			w.onErr(child, statError(child, err))
			continue
		}
		w.add(child, fi)
	}
}
