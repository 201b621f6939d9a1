package indexer

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/colsmol/colsmol/index"
)

// read loads and hashes a file.
func read(path string) ([]byte, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrPermission):
			return nil, "", errors.New("permission denied; give the user running colsmol read access")
		case errors.Is(err, fs.ErrNotExist):
			return nil, "", errors.New("the file disappeared while indexing; index again")
		}
		return nil, "", fmt.Errorf("read: %v; check the file", err)
	}
	sum := sha256.Sum256(data)
	return data, hex.EncodeToString(sum[:]), nil
}

// known decides whether a file's content is already indexed: "same" (the document at this path, touched but
// unchanged), "moved" (a document whose file is gone), "duplicate" (a document whose file still exists) or "".
func (x *run) known(j *job, sha string) (string, *index.Document, error) {
	if j.existing != nil && j.existing.SHA256 == sha {
		return "same", j.existing, nil
	}
	d, err := x.st.BySHA(sha)
	if err != nil || d == nil {
		return "", nil, err
	}
	if d.Path == j.abs {
		return "same", d, nil
	}
	if _, err := os.Lstat(d.Path); errors.Is(err, fs.ErrNotExist) {
		return "moved", d, nil
	}
	return "duplicate", d, nil
}

// settle handles a file whose content is already indexed; it reports whether the file needs no embedding.
func (x *run) settle(j *job, how string, d *index.Document) (bool, error) {
	switch how {
	case "same", "moved":
		if err := x.relocate(d, j); err != nil {
			return false, err
		}
		x.mu.Lock()
		x.s.Skipped++
		x.s.Pages += d.Pages
		if how == "moved" {
			x.s.Moved++
		}
		x.mu.Unlock()
		if how == "moved" {
			x.emit(Event{Kind: FileMoved, Path: j.file.Path, From: d.Path, Pages: d.Pages})
		} else {
			x.emit(Event{Kind: FileSkipped, Path: j.file.Path, Pages: d.Pages, Note: "content unchanged"})
		}
		return true, nil
	case "duplicate":
		x.mu.Lock()
		x.s.Skipped++
		x.mu.Unlock()
		x.emit(Event{Kind: FileSkipped, Path: j.file.Path, Pages: d.Pages, Note: "same content as " + d.Path})
		return true, nil
	}
	return false, nil
}

// relocate moves the indexed document d to the file of j (its new path, size and modification time) in one
// transaction of the index, keeping its pages as they are: nothing is embedded again.
func (x *run) relocate(d *index.Document, j *job) error {
	return x.st.Relocate(d.ID, index.Document{Path: j.abs, SHA256: d.SHA256, Size: j.file.Size, ModTime: j.file.ModTime, IndexedAt: d.IndexedAt})
}
