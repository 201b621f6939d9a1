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

// relocate stores the indexed document d again under the file of j (its new path, size and modification
// time), copying its pages from the index instead of embedding them again, and removes the old entry when
// the path changed. The index has no "move" of its own, so this takes two transactions: a crash between
// them leaves the document under both paths, each whole; the next run with --prune drops the old one.
func (x *run) relocate(d *index.Document, j *job) error {
	pages := make([]index.Page, d.Pages)
	for p := 1; p <= d.Pages; p++ {
		info, err := x.st.PageInfo(d.ID, p)
		if err != nil {
			return err
		}
		vecs, pos, err := x.st.PageVectors(d.ID, p)
		if err != nil {
			return err
		}
		thumb, err := x.st.PageImage(d.ID, p, true)
		if err != nil {
			return err
		}
		preview, err := x.st.PageImage(d.ID, p, false)
		if err != nil {
			return err
		}
		pages[p-1] = index.Page{Width: info.Width, Height: info.Height, Tiles: info.Tiles, Thumb: thumb, Preview: preview,
			Vectors: vecs, ImagePositions: pos}
	}
	nd := index.Document{Path: j.abs, SHA256: d.SHA256, Size: j.file.Size, ModTime: j.file.ModTime, IndexedAt: d.IndexedAt}
	if err := x.st.Put(nd, pages); err != nil {
		return err
	}
	if index.DocumentID(j.abs) != d.ID && d.Path != j.abs {
		return x.st.Delete(d.ID)
	}
	return nil
}
