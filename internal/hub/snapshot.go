package hub

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Request names what to take from one repository.
type Request struct {
	Repo     string
	Revision string   // branch, tag or commit; "" means "main"
	Files    []string // files that must exist
	Optional []string // files taken when the repository has them
	// Patterns are shell globs over the repository's file list, as huggingface_hub's allow_patterns: "*"
	// matches across "/", and a pattern ending in "/" takes a whole folder. Matching needs the Hub's file
	// listing. When Files, Optional and Patterns are all empty, every file is taken.
	Patterns []string
}

// Result is a snapshot folder in the cache and the files taken into it.
type Result struct {
	Dir    string   // $HF_HUB_CACHE/models--org--name/snapshots/<commit>
	Commit string   // the commit the revision pointed at
	Files  []string // relative paths, sorted
}

// Snapshot downloads files of a repository at a revision into the cache and returns the snapshot folder.
// Names with glob characters (*, ?, [) are patterns; nil takes every file of the repository.
func Snapshot(ctx context.Context, repo, revision string, files []string, o Options) (string, error) {
	r := Request{Repo: repo, Revision: revision}
	for _, f := range files {
		if strings.ContainsAny(f, "*?[") || strings.HasSuffix(f, "/") {
			r.Patterns = append(r.Patterns, f)
		} else {
			r.Files = append(r.Files, f)
		}
	}
	res, err := Pull(ctx, r, o)
	if err != nil {
		return "", err
	}
	return res.Dir, nil
}

// Pull downloads what r names into the cache (only what is missing) and returns the snapshot. With
// o.Offline, or when the Hub cannot be reached, it is served from the cache, or fails with a
// *NotCachedError naming every missing file.
func Pull(ctx context.Context, r Request, o Options) (*Result, error) {
	o.fill()
	if r.Revision == "" {
		r.Revision = "main"
	}
	if !ValidRepoID(r.Repo) {
		return nil, fmt.Errorf("%q is not a Hub repository id (expected org/name)", r.Repo)
	}
	for _, list := range [][]string{r.Files, r.Optional} {
		for _, f := range list {
			if _, err := cleanFile(f); err != nil {
				return nil, err
			}
		}
	}
	cr := newCacheRepo(&o, r.Repo)
	if o.Offline {
		return pullFromCache(&o, cr, r, nil)
	}
	if IsCommit(r.Revision) && len(r.Patterns) == 0 && len(r.Optional) == 0 && len(r.Files) > 0 {
		if res, err := pullFromCache(&o, cr, r, nil); err == nil {
			return res, nil
		}
	}
	c, err := newClient(&o)
	if err != nil {
		return nil, err
	}
	res, err := c.pull(ctx, cr, r)
	if err != nil && unreachable(err) {
		var nc *NotCachedError
		if errors.As(err, &nc) {
			return nil, err
		}
		if res, cerr := pullFromCache(&o, cr, r, err); cerr == nil {
			if o.Logf != nil {
				o.Logf("the Hub could not be reached (%v); using the cached snapshot of %s", err, r.Repo)
			}
			return res, nil
		} else {
			return nil, cerr
		}
	}
	return res, err
}

func (c *client) pull(ctx context.Context, cr cacheRepo, r Request) (*Result, error) {
	var want []string
	optional := map[string]bool{}
	commit := ""
	if len(r.Patterns) > 0 || (len(r.Files) == 0 && len(r.Optional) == 0) {
		info, err := c.listFiles(ctx, cr.repo, r.Revision)
		if err != nil {
			return nil, err
		}
		commit = info.SHA
		have := map[string]bool{}
		var all []string
		for _, s := range info.Siblings {
			f, err := cleanFile(s.RFilename)
			if err != nil {
				return nil, fmt.Errorf("the Hub's file list of %s: %w", cr.repo, err)
			}
			have[f] = true
			all = append(all, f)
		}
		want = append(want, r.Files...)
		for _, f := range r.Optional {
			if have[f] {
				want = append(want, f)
			}
		}
		if len(r.Patterns) == 0 && len(r.Files) == 0 && len(r.Optional) == 0 {
			want = all
		} else if len(r.Patterns) > 0 {
			matched := matchAny(r.Patterns, all)
			if len(matched) == 0 && len(r.Files) == 0 {
				return nil, fmt.Errorf("no file of %s at revision %s matches %s", cr.repo, r.Revision, strings.Join(r.Patterns, ", "))
			}
			want = append(want, matched...)
		}
	} else {
		want = append(want, r.Files...)
		for _, f := range r.Optional {
			want = append(want, f)
			optional[f] = true
		}
	}
	want = dedupe(want)
	if len(want) == 0 {
		return nil, fmt.Errorf("%s at revision %s has no files", cr.repo, r.Revision)
	}
	var got []string
	for _, f := range want {
		rev := commit
		if rev == "" {
			rev = r.Revision
		}
		meta, err := c.head(ctx, cr.repo, rev, f)
		if err != nil {
			if optional[f] && errors.Is(err, ErrNotFound) {
				continue
			}
			return nil, err
		}
		if commit == "" {
			commit = meta.commit
		} else if meta.commit != commit {
			return nil, fmt.Errorf("the Hub answered commit %s for %s of %s, expected %s", meta.commit, f, cr.repo, commit)
		}
		if err := c.fetchBlob(ctx, cr, f, meta); err != nil {
			return nil, err
		}
		if _, err := cr.link(commit, f, meta.etag); err != nil {
			return nil, err
		}
		got = append(got, f)
	}
	if commit == "" {
		return nil, fmt.Errorf("none of the files asked for exist in %s at revision %s", cr.repo, r.Revision)
	}
	if err := cr.writeRef(r.Revision, commit); err != nil {
		return nil, fmt.Errorf("record revision %s of %s: %w", r.Revision, cr.repo, err)
	}
	sort.Strings(got)
	return &Result{Dir: cr.snapshotDir(commit), Commit: commit, Files: got}, nil
}

// pullFromCache serves r from the cache only. reason is why the Hub was not asked (nil: offline mode).
func pullFromCache(o *Options, cr cacheRepo, r Request, reason error) (*Result, error) {
	commit := cr.commitFor(r.Revision)
	if commit == "" {
		return nil, cr.notCached(o, r.Revision, append([]string(nil), r.Files...), reason)
	}
	dir := cr.snapshotDir(commit)
	present := snapshotFiles(dir)
	have := map[string]bool{}
	for _, f := range present {
		have[f] = true
	}
	var got, missing []string
	for _, f := range r.Files {
		if have[f] {
			got = append(got, f)
		} else {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return nil, cr.notCached(o, r.Revision, missing, reason)
	}
	for _, f := range r.Optional {
		if have[f] {
			got = append(got, f)
		}
	}
	switch {
	case len(r.Patterns) > 0:
		m := matchAny(r.Patterns, present)
		if len(m) == 0 && len(r.Files) == 0 {
			return nil, cr.notCached(o, r.Revision, r.Patterns, reason)
		}
		got = append(got, m...)
	case len(r.Files) == 0 && len(r.Optional) == 0:
		if len(present) == 0 {
			return nil, cr.notCached(o, r.Revision, nil, reason)
		}
		got = present
	}
	got = dedupe(got)
	sort.Strings(got)
	return &Result{Dir: dir, Commit: commit, Files: got}, nil
}

// snapshotFiles lists the files (resolved symlinks that exist) of a snapshot folder, as slash paths.
func snapshotFiles(dir string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err == nil {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// matchAny returns the names that match any of the fnmatch-style patterns.
func matchAny(patterns, names []string) []string {
	var res []*regexp.Regexp
	for _, p := range patterns {
		if strings.HasSuffix(p, "/") {
			p += "*"
		}
		res = append(res, globRegexp(p))
	}
	var out []string
	for _, n := range names {
		for _, re := range res {
			if re.MatchString(n) {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// globRegexp translates a Python fnmatch pattern: * matches anything (including /), ? one character,
// [...] a set, [!...] its complement.
func globRegexp(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		ch := p[i]
		switch ch {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := strings.IndexByte(p[i+1:], ']')
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			set := p[i+1 : i+1+j]
			if strings.HasPrefix(set, "!") {
				set = "^" + set[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(set, `\`, `\\`) + "]")
			i += j + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(ch)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return regexp.MustCompile("^" + regexp.QuoteMeta(p) + "$")
	}
	return re
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
