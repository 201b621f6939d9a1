package hub

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// CachedRepo is one repository in the hub cache.
type CachedRepo struct {
	Type      string            `json:"type"` // "model" or "dataset"
	Repo      string            `json:"repo"`
	Path      string            `json:"path"`
	Refs      map[string]string `json:"refs"` // revision -> commit
	Snapshots []CachedSnapshot  `json:"snapshots"`
	SizeBytes int64             `json:"size_bytes"` // blobs on disk, each counted once
	Modified  time.Time         `json:"modified"`
	Registry  []string          `json:"registry,omitempty"` // registry names that use this repository
}

// CachedSnapshot is one commit of a cached repository.
type CachedSnapshot struct {
	Commit string   `json:"commit"`
	Refs   []string `json:"refs,omitempty"` // revisions pointing here
	Files  []string `json:"files"`
}

// LocalModel is a model folder colsmol made itself under $HF_HOME/colsmol.
type LocalModel struct {
	Kind      string    `json:"kind"` // "converted" or "links"
	Name      string    `json:"name"`
	Path      string    `json:"path"`
	Complete  bool      `json:"complete"`
	SizeBytes int64     `json:"size_bytes"` // regular files only (links count 0)
	Files     int       `json:"files"`
	Modified  time.Time `json:"modified"`
}

// ListCache lists the repositories in the hub cache: models, then datasets, each sorted by id.
func ListCache(o Options) ([]CachedRepo, error) {
	o.fill()
	entries, err := os.ReadDir(o.CacheDir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	users := map[string][]string{}
	for _, e := range registry {
		for _, pr := range e.Precisions[:1] {
			p, _ := e.Plan(pr, "")
			for _, s := range p.Sources {
				users[s.RepoType+"/"+s.Repo] = append(users[s.RepoType+"/"+s.Repo], e.Name)
			}
		}
	}
	var out []CachedRepo
	for _, e := range entries {
		typ, id, ok := parseFolderName(e.Name())
		if !ok || !e.IsDir() {
			continue
		}
		dir := filepath.Join(o.CacheDir, e.Name())
		cr := CachedRepo{Type: typ, Repo: id, Path: dir, Refs: map[string]string{}, Registry: users[typ+"/"+id]}
		refsDir := filepath.Join(dir, "refs")
		_ = filepath.WalkDir(refsDir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(p)
			if err == nil {
				rel, _ := filepath.Rel(refsDir, p)
				cr.Refs[filepath.ToSlash(rel)] = strings.TrimSpace(string(b))
			}
			return nil
		})
		snaps, _ := os.ReadDir(filepath.Join(dir, "snapshots"))
		for _, s := range snaps {
			if !s.IsDir() {
				continue
			}
			cs := CachedSnapshot{Commit: s.Name(), Files: snapshotFiles(filepath.Join(dir, "snapshots", s.Name()))}
			for ref, c := range cr.Refs {
				if c == s.Name() {
					cs.Refs = append(cs.Refs, ref)
				}
			}
			sort.Strings(cs.Refs)
			cr.Snapshots = append(cr.Snapshots, cs)
		}
		blobs, _ := os.ReadDir(filepath.Join(dir, "blobs"))
		for _, b := range blobs {
			if info, err := b.Info(); err == nil && info.Mode().IsRegular() {
				cr.SizeBytes += info.Size()
				if info.ModTime().After(cr.Modified) {
					cr.Modified = info.ModTime()
				}
			}
		}
		out = append(out, cr)
	}
	sort.Slice(out, func(i, j int) bool {
		if ri, rj := typeRank(out[i].Type), typeRank(out[j].Type); ri != rj {
			return ri < rj
		}
		return strings.ToLower(out[i].Repo) < strings.ToLower(out[j].Repo)
	})
	return out, nil
}

// typeRank orders models first, then datasets, then the rest.
func typeRank(t string) int {
	switch t {
	case RepoModel:
		return 0
	case RepoDataset:
		return 1
	}
	return 2
}

func parseFolderName(name string) (typ, id string, ok bool) {
	for _, t := range []string{RepoModel, RepoDataset, "space"} {
		if rest, found := strings.CutPrefix(name, t+"s--"); found && rest != "" {
			return t, strings.Replace(rest, "--", "/", 1), true
		}
	}
	return "", "", false
}

// ListLocal lists the folders colsmol converted or linked under $HF_HOME/colsmol.
func ListLocal(o Options) ([]LocalModel, error) {
	o.fill()
	var out []LocalModel
	for _, kind := range []struct{ sub, kind string }{{"converted", "converted"}, {"models", "links"}} {
		base := filepath.Join(o.Home, "colsmol", kind.sub)
		entries, err := os.ReadDir(base)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !e.IsDir() || strings.Contains(e.Name(), ".tmp-") || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			dir := filepath.Join(base, e.Name())
			lm := LocalModel{Kind: kind.kind, Name: e.Name(), Path: dir, Complete: complete(dir)}
			_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || d.Name() == completeMarker {
					return nil
				}
				lm.Files++
				if info, err := d.Info(); err == nil {
					if info.Mode().IsRegular() {
						lm.SizeBytes += info.Size()
					}
					if info.ModTime().After(lm.Modified) {
						lm.Modified = info.ModTime()
					}
				}
				return nil
			})
			out = append(out, lm)
		}
	}
	return out, nil
}
