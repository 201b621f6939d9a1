package hub

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

var (
	repoIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$`)
	commitPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)
	sha256Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ValidRepoID reports whether id is a Hub repository id ("name" or "org/name") that is safe to use in paths.
func ValidRepoID(id string) bool {
	return repoIDPattern.MatchString(id) && !strings.Contains(id, "--") && !strings.Contains(id, "..")
}

// IsCommit reports whether rev is a full commit hash (40 lowercase hex digits).
func IsCommit(rev string) bool { return commitPattern.MatchString(rev) }

// RepoFolderName is the folder of a repository inside the hub cache, as huggingface_hub names it:
// "models--org--name", "datasets--org--name".
func RepoFolderName(repoType, repo string) string {
	if repoType == "" {
		repoType = RepoModel
	}
	return repoType + "s--" + strings.ReplaceAll(repo, "/", "--")
}

// cleanFile checks that a file path from a caller or from the Hub's listing stays inside the snapshot folder.
func cleanFile(file string) (string, error) {
	if file == "" || strings.HasPrefix(file, "/") || strings.Contains(file, "\\") || strings.ContainsRune(file, 0) {
		return "", fmt.Errorf("invalid file name %q", file)
	}
	c := path.Clean(file)
	if c != file || c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("invalid file name %q", file)
	}
	return c, nil
}

// cacheRepo is one repository's folder in the hub cache.
type cacheRepo struct {
	cacheDir string
	repoType string
	repo     string
	dir      string // cacheDir/models--org--name
}

func newCacheRepo(o *Options, repo string) cacheRepo {
	folder := RepoFolderName(o.RepoType, repo)
	return cacheRepo{cacheDir: o.CacheDir, repoType: o.RepoType, repo: repo, dir: filepath.Join(o.CacheDir, folder)}
}

func (c cacheRepo) refPath(rev string) string {
	return filepath.Join(c.dir, "refs", filepath.FromSlash(rev))
}

func (c cacheRepo) blobPath(etag string) string { return filepath.Join(c.dir, "blobs", etag) }

func (c cacheRepo) snapshotDir(commit string) string {
	return filepath.Join(c.dir, "snapshots", commit)
}

func (c cacheRepo) pointerPath(commit, file string) string {
	return filepath.Join(c.snapshotDir(commit), filepath.FromSlash(file))
}

func (c cacheRepo) lockPath(etag string) string {
	return filepath.Join(c.cacheDir, ".locks", filepath.Base(c.dir), etag+".lock")
}

// commitFor resolves a revision to a commit from the cache: a commit hash is itself, a branch or tag name is
// read from refs/<revision>. It returns "" when the cache does not know the revision.
func (c cacheRepo) commitFor(rev string) string {
	if IsCommit(rev) {
		return rev
	}
	b, err := os.ReadFile(c.refPath(rev))
	if err != nil {
		return ""
	}
	commit := strings.TrimSpace(string(b))
	if !IsCommit(commit) {
		return ""
	}
	return commit
}

// writeRef records that revision rev points at commit (refs/<rev>), as huggingface_hub does for every
// revision that is not itself a commit hash.
func (c cacheRepo) writeRef(rev, commit string) error {
	if rev == commit || IsCommit(rev) {
		return nil
	}
	if strings.Contains(rev, "..") {
		return fmt.Errorf("invalid revision %q", rev)
	}
	p := c.refPath(rev)
	if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == commit {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(p, []byte(commit))
}

// link makes snapshots/<commit>/<file> a relative symlink to blobs/<etag>, replacing whatever was there.
func (c cacheRepo) link(commit, file, etag string) (string, error) {
	ptr := c.pointerPath(commit, file)
	blob := c.blobPath(etag)
	if err := os.MkdirAll(filepath.Dir(ptr), 0o755); err != nil {
		return "", err
	}
	rel, err := filepath.Rel(filepath.Dir(ptr), blob)
	if err != nil {
		return "", err
	}
	if cur, err := os.Readlink(ptr); err == nil && cur == rel {
		return ptr, nil
	}
	tmp := fmt.Sprintf("%s.tmp-%d", ptr, os.Getpid())
	_ = os.Remove(tmp)
	if err := os.Symlink(rel, tmp); err != nil {
		return "", fmt.Errorf("link %s: %w", ptr, err)
	}
	if err := os.Rename(tmp, ptr); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("link %s: %w", ptr, err)
	}
	return ptr, nil
}

// cachedFile returns the snapshot path of file at rev when it is in the cache, or "".
func (c cacheRepo) cachedFile(rev, file string) string {
	commit := c.commitFor(rev)
	if commit == "" {
		return ""
	}
	p := c.pointerPath(commit, file)
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
		return p
	}
	return ""
}

func writeFileAtomic(p string, data []byte) error {
	tmp := fmt.Sprintf("%s.tmp-%d", p, os.Getpid())
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil || !errors.Is(err, os.ErrNotExist)
}
