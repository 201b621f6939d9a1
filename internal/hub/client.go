package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// userAgent identifies colsmol to the Hub.
var userAgent = "colsmol/0 (go " + runtime.Version() + "; hub client)"

// client talks to one Hub endpoint with the options' token, retries and redirect rules.
type client struct {
	o        *Options
	http     *http.Client
	hubHost  string // host:port of the endpoint; the token goes there only
	endpoint *url.URL
}

func newClient(o *Options) (*client, error) {
	u, err := url.Parse(o.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("HF_ENDPOINT %q is not an http(s) URL", o.Endpoint)
	}
	hc := *o.Client
	// Redirects are followed by request() so that the token never travels to another host.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{o: o, http: &hc, hubHost: hostPort(u), endpoint: u}, nil
}

func hostPort(u *url.URL) string {
	h := strings.ToLower(u.Hostname())
	p := u.Port()
	if p == "" {
		if u.Scheme == "https" {
			p = "443"
		} else {
			p = "80"
		}
	}
	return h + ":" + p
}

// repoPrefix is the path of a repository on the Hub: "org/name" or "datasets/org/name".
func (c *client) repoPrefix(repo string) string {
	if c.o.RepoType == RepoDataset {
		return "datasets/" + repo
	}
	if c.o.RepoType != RepoModel && c.o.RepoType != "" {
		return c.o.RepoType + "s/" + repo
	}
	return repo
}

func escapeFile(file string) string {
	parts := strings.Split(file, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// resolveURL is {endpoint}/{repo}/resolve/{revision}/{file}.
func (c *client) resolveURL(repo, rev, file string) string {
	return c.o.Endpoint + "/" + c.repoPrefix(repo) + "/resolve/" + url.PathEscape(rev) + "/" + escapeFile(file)
}

// request sends one request. HEAD follows only relative redirects (a renamed repository) and returns the
// others to the caller; GET follows every redirect. The token goes only to the Hub host.
func (c *client) request(ctx context.Context, method, rawURL string, hdr http.Header) (*http.Response, error) {
	cur := rawURL
	// The Hub's own headers seen on redirects, for a final answer that lacks them (a mirror that serves its
	// LFS storage under a relative path).
	carried := http.Header{}
	for hop := 0; hop < 10; hop++ {
		req, err := http.NewRequestWithContext(ctx, method, cur, nil)
		if err != nil {
			return nil, err
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		req.Header.Set("User-Agent", userAgent)
		req.Header.Set("Accept-Encoding", "identity")
		if c.o.Token != "" && hostPort(req.URL) == c.hubHost {
			req.Header.Set("Authorization", "Bearer "+c.o.Token)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, err
		}
		for k, v := range carried {
			if resp.Header.Get(k) == "" {
				resp.Header[k] = v
			}
		}
		if resp.StatusCode < 300 || resp.StatusCode >= 400 || resp.StatusCode == http.StatusNotModified {
			return resp, nil
		}
		for _, k := range []string{"X-Repo-Commit", "X-Linked-Etag", "X-Linked-Size"} {
			if v := resp.Header.Get(k); v != "" {
				carried.Set(k, v)
			}
		}
		loc := resp.Header.Get("Location")
		if loc == "" {
			return resp, nil
		}
		next, err := req.URL.Parse(loc)
		if err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("bad redirect %q from %s: %w", loc, cur, err)
		}
		if method == http.MethodHead {
			// As huggingface_hub: follow relative redirects (a renamed repository) and hand back the others
			// (LFS and Xet storage), whose headers carry the file's metadata.
			if rel, err := url.Parse(loc); err != nil || rel.IsAbs() || rel.Host != "" {
				return resp, nil
			}
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		cur = next.String()
	}
	return nil, fmt.Errorf("too many redirects from %s", rawURL)
}

// retry runs fn until it succeeds, fails for good, or the retries are spent, waiting with exponential backoff
// (or the server's Retry-After, when shorter than the cap) between tries.
func (c *client) retry(ctx context.Context, fn func() error) error {
	wait := c.o.Backoff
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || !retryable(err) || attempt >= c.o.Retries {
			return err
		}
		d := wait
		var se *StatusError
		if errors.As(err, &se) && se.Status == http.StatusTooManyRequests && se.retryAfter > 0 && se.retryAfter < c.o.MaxBackoff {
			d = se.retryAfter
		}
		if c.o.Logf != nil {
			c.o.Logf("retrying in %s after: %v", d.Round(time.Millisecond), err)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait *= 2
		if wait > c.o.MaxBackoff {
			wait = c.o.MaxBackoff
		}
	}
}

func (c *client) statusError(resp *http.Response, repo, rev, file string) *StatusError {
	se := &StatusError{
		Repo: repo, RepoType: c.o.RepoType, Revision: rev, File: file, URL: resp.Request.URL.Redacted(),
		Status: resp.StatusCode, Code: resp.Header.Get("X-Error-Code"), Message: resp.Header.Get("X-Error-Message"),
		HaveToken: c.o.Token != "",
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		se.retryAfter = time.Duration(s) * time.Second
	}
	return se
}

// fileMeta is what a HEAD on a resolve URL tells about a file.
type fileMeta struct {
	commit   string
	etag     string // sha256 for LFS files, git blob id for the others
	size     int64  // -1 when unknown
	location string // where to GET the bytes: the CDN redirect, or the resolve URL
}

// normalizeETag strips the weak marker and the quotes: W/"abc" -> abc.
func normalizeETag(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	return strings.Trim(s, `"`)
}

// head asks the Hub for a file's commit, etag, size and download location, with retries.
func (c *client) head(ctx context.Context, repo, rev, file string) (*fileMeta, error) {
	var m *fileMeta
	u := c.resolveURL(repo, rev, file)
	err := c.retry(ctx, func() error {
		hctx, cancel := context.WithTimeout(ctx, c.o.HeadTimeout)
		defer cancel()
		resp, err := c.request(hctx, http.MethodHead, u, nil)
		if err != nil {
			return fmt.Errorf("ask %s for %s of %s: %w", c.o.Endpoint, file, repo, timedOut(ctx, hctx, err))
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 400 {
			return c.statusError(resp, repo, rev, file)
		}
		mm := &fileMeta{
			commit:   resp.Header.Get("X-Repo-Commit"),
			etag:     normalizeETag(firstHeader(resp.Header, "X-Linked-Etag", "ETag")),
			size:     -1,
			location: resp.Request.URL.String(),
		}
		if s := firstHeader(resp.Header, "X-Linked-Size", "Content-Length"); s != "" {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
				mm.size = n
			}
		}
		if resp.StatusCode >= 300 {
			if loc := resp.Header.Get("Location"); loc != "" {
				next, err := resp.Request.URL.Parse(loc)
				if err != nil {
					return fmt.Errorf("bad redirect %q for %s: %w", loc, file, err)
				}
				mm.location = next.String()
			}
		}
		if mm.commit == "" {
			return fmt.Errorf("%s did not send X-Repo-Commit for %s of %s: is HF_ENDPOINT a Hugging Face Hub (or a mirror that forwards its headers)?", c.o.Endpoint, file, repo)
		}
		if mm.etag == "" {
			return fmt.Errorf("%s did not send an ETag for %s of %s, so the file cannot be stored in the cache", c.o.Endpoint, file, repo)
		}
		if strings.ContainsAny(mm.etag, `/\`) || mm.etag == "." || mm.etag == ".." {
			return fmt.Errorf("%s sent an unusable ETag %q for %s", c.o.Endpoint, mm.etag, file)
		}
		m = mm
		return nil
	})
	return m, err
}

func firstHeader(h http.Header, names ...string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
}

// repoInfo is the part of the Hub's /api/{models,datasets}/{repo}/revision/{rev} answer used here.
type repoInfo struct {
	SHA      string `json:"sha"`
	Siblings []struct {
		RFilename string `json:"rfilename"`
	} `json:"siblings"`
}

// listFiles asks the Hub for the commit of a revision and the files it holds.
func (c *client) listFiles(ctx context.Context, repo, rev string) (*repoInfo, error) {
	kind := "models"
	if c.o.RepoType == RepoDataset {
		kind = "datasets"
	} else if c.o.RepoType != RepoModel && c.o.RepoType != "" {
		kind = c.o.RepoType + "s"
	}
	u := c.o.Endpoint + "/api/" + kind + "/" + repo + "/revision/" + url.PathEscape(rev)
	var info *repoInfo
	err := c.retry(ctx, func() error {
		lctx, cancel := context.WithTimeout(ctx, 3*c.o.HeadTimeout)
		defer cancel()
		resp, err := c.request(lctx, http.MethodGet, u, nil)
		if err != nil {
			return fmt.Errorf("list the files of %s at %s: %w", repo, c.o.Endpoint, timedOut(ctx, lctx, err))
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return c.statusError(resp, repo, rev, "")
		}
		var ri repoInfo
		if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&ri); err != nil {
			return fmt.Errorf("read the file list of %s from %s: %w", repo, c.o.Endpoint, err)
		}
		if !IsCommit(ri.SHA) {
			return fmt.Errorf("the file list of %s from %s has no commit hash (\"sha\")", repo, c.o.Endpoint)
		}
		info = &ri
		return nil
	})
	return info, err
}

// timedOut turns the expiry of a request's own deadline (not the caller's) into errTimeout, which is retried.
func timedOut(parent, req context.Context, err error) error {
	if parent.Err() == nil && req.Err() != nil {
		return fmt.Errorf("%w (%v)", errTimeout, err)
	}
	return err
}
