package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Download returns the local path of one file of a Hub repository at a revision (a branch, tag or commit;
// "" means "main"), downloading it into the Hugging Face cache when needed. The path is
// $HF_HUB_CACHE/models--org--name/snapshots/<commit>/<file>, a relative symlink into blobs/.
//
// With o.Offline, or when the Hub cannot be reached, the file comes from the cache or the call fails with a
// *NotCachedError that says how to get it.
func Download(ctx context.Context, repo, revision, file string, o Options) (string, error) {
	o.fill()
	if revision == "" {
		revision = "main"
	}
	if !ValidRepoID(repo) {
		return "", fmt.Errorf("%q is not a Hub repository id (expected org/name)", repo)
	}
	f, err := cleanFile(file)
	if err != nil {
		return "", err
	}
	cr := newCacheRepo(&o, repo)
	if o.Offline {
		if p := cr.cachedFile(revision, f); p != "" {
			return p, nil
		}
		return "", cr.notCached(&o, revision, []string{f}, nil)
	}
	// A commit hash never moves: a file already in its snapshot needs no request.
	if IsCommit(revision) {
		if p := cr.cachedFile(revision, f); p != "" {
			return p, nil
		}
	}
	c, err := newClient(&o)
	if err != nil {
		return "", err
	}
	return c.download(ctx, cr, revision, f)
}

func (cr cacheRepo) notCached(o *Options, rev string, files []string, reason error) *NotCachedError {
	e := &NotCachedError{Repo: cr.repo, RepoType: cr.repoType, Revision: rev, Files: files, CacheDir: o.CacheDir, Reason: reason, Hint: o.PullHint}
	if commit := cr.commitFor(rev); commit != "" {
		e.Where = cr.snapshotDir(commit)
	} else {
		e.Where = cr.dir + "/snapshots/<commit>"
	}
	return e
}

// download asks the Hub about the file and fetches it unless its blob is already in the cache.
func (c *client) download(ctx context.Context, cr cacheRepo, rev, file string) (string, error) {
	meta, err := c.head(ctx, cr.repo, rev, file)
	if err != nil {
		if unreachable(err) {
			if p := cr.cachedFile(rev, file); p != "" {
				if c.o.Logf != nil {
					c.o.Logf("the Hub could not be reached (%v); using the cached %s of %s", err, file, cr.repo)
				}
				return p, nil
			}
			return "", cr.notCached(c.o, rev, []string{file}, err)
		}
		return "", err
	}
	if err := c.fetchBlob(ctx, cr, file, meta); err != nil {
		return "", err
	}
	if err := cr.writeRef(rev, meta.commit); err != nil {
		return "", fmt.Errorf("record revision %s of %s: %w", rev, cr.repo, err)
	}
	return cr.link(meta.commit, file, meta.etag)
}

// fetchBlob makes sure blobs/<etag> exists, downloading it under the lock when it does not.
func (c *client) fetchBlob(ctx context.Context, cr cacheRepo, file string, meta *fileMeta) error {
	blob := cr.blobPath(meta.etag)
	if blobComplete(blob, meta.size) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		return err
	}
	lk, err := lockFile(ctx, cr.lockPath(meta.etag), func() {
		if c.o.Logf != nil {
			c.o.Logf("waiting for another download of %s of %s to finish", file, cr.repo)
		}
	})
	if err != nil {
		return fmt.Errorf("lock the download of %s: %w", file, err)
	}
	defer lk.unlock()
	if blobComplete(blob, meta.size) { // another process finished it while we waited
		return nil
	}
	if c.o.Logf != nil && !isTerminal(c.o.Progress) { // on a terminal the bar says it
		c.o.Logf("downloading %s of %s (%s)", file, cr.repo, HumanSize(meta.size))
	}
	incomplete := blob + ".incomplete"
	var start int64
	if st, err := os.Stat(incomplete); err == nil {
		start = st.Size()
	}
	pb := newBar(c.o.Progress, path.Base(file), meta.size, start) // one bar across retries
	err = c.retry(ctx, func() error { return c.fetch(ctx, cr, file, meta, incomplete, pb) })
	pb.finish(err == nil)
	if err != nil {
		return err
	}
	if err := os.Rename(incomplete, blob); err != nil {
		return fmt.Errorf("store %s: %w", file, err)
	}
	return nil
}

func blobComplete(blob string, size int64) bool {
	st, err := os.Stat(blob)
	return err == nil && st.Mode().IsRegular() && (size < 0 || st.Size() == size)
}

// fetch downloads meta.location into incomplete, resuming from what is already there with a Range request,
// then checks the size and (for LFS files, whose etag is their sha256) the hash.
func (c *client) fetch(ctx context.Context, cr cacheRepo, file string, meta *fileMeta, incomplete string, pb *bar) error {
	f, err := os.OpenFile(incomplete, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	have := st.Size()
	if meta.size >= 0 && have > meta.size {
		have = 0
	}
	pb.reset(have)

	if meta.size < 0 || have < meta.size {
		hdr := http.Header{}
		if have > 0 {
			hdr.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
		}
		// A stalled transfer is cut after IdleTimeout without a byte, then retried from where it stopped.
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		idle := time.AfterFunc(c.o.IdleTimeout, cancel)
		defer idle.Stop()
		resp, err := c.request(rctx, http.MethodGet, meta.location, hdr)
		if err != nil {
			if ctx.Err() == nil && rctx.Err() != nil {
				err = errStalled
			}
			return fmt.Errorf("download %s of %s: %w", file, cr.repo, err)
		}
		defer resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusPartialContent:
			if start, ok := contentRangeStart(resp.Header.Get("Content-Range")); !ok || start != have {
				// Not the part asked for: start over on the next try.
				_ = f.Truncate(0)
				return fmt.Errorf("download %s of %s: the server sent range %q for bytes=%d-: %w", file, cr.repo, resp.Header.Get("Content-Range"), have, errShortBody)
			}
		case resp.StatusCode == http.StatusOK:
			have = 0 // the server ignored Range: take the whole body
			pb.reset(0)
		case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
			_ = f.Truncate(0)
			return fmt.Errorf("download %s of %s: the server refused to resume at byte %d: %w", file, cr.repo, have, errShortBody)
		default:
			return c.statusError(resp, cr.repo, meta.commit, file)
		}
		if err := f.Truncate(have); err != nil {
			return err
		}
		if _, err := f.Seek(have, io.SeekStart); err != nil {
			return err
		}
		n, err := io.Copy(f, &countingReader{r: resp.Body, bar: pb, idle: idle, timeout: c.o.IdleTimeout})
		have += n
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if rctx.Err() != nil {
				err = errStalled
			}
			return fmt.Errorf("download %s of %s (stopped at byte %d; the next try resumes there): %w", file, cr.repo, have, err)
		}
		if err := f.Sync(); err != nil {
			return err
		}
	}
	if meta.size >= 0 && have != meta.size {
		if have > meta.size {
			_ = f.Truncate(0)
		}
		return fmt.Errorf("download %s of %s: got %d of %d bytes: %w", file, cr.repo, have, meta.size, errShortBody)
	}
	if sha256Pattern.MatchString(meta.etag) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return fmt.Errorf("hash %s: %w", incomplete, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != meta.etag {
			f.Close()
			_ = os.Remove(incomplete)
			return &HashError{Repo: cr.repo, File: file, Want: meta.etag, Got: got}
		}
	}
	return nil
}

// contentRangeStart reads N from "bytes N-M/T".
func contentRangeStart(s string) (int64, bool) {
	s, ok := strings.CutPrefix(strings.TrimSpace(s), "bytes ")
	if !ok {
		return 0, false
	}
	a, _, ok := strings.Cut(s, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
	return n, err == nil
}

// countingReader moves the progress bar and pushes back the idle timer on every read.
type countingReader struct {
	r       io.Reader
	bar     *bar
	idle    *time.Timer
	timeout time.Duration
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.bar.add(n)
		c.idle.Reset(c.timeout)
	}
	return n, err
}

// HumanSize formats a byte count with a binary unit (B, KiB, MiB, GiB); a negative count is "size unknown".
func HumanSize(n int64) string {
	switch {
	case n < 0:
		return "size unknown"
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}
