// Package hubtest runs a fake Hugging Face Hub on loopback for tests. It follows the real protocol: HEAD and
// GET on /{repo}/resolve/{revision}/{file} answer X-Repo-Commit, an ETag (the git blob id for small files)
// and, for LFS files, a 302 to a second "CDN" server with X-Linked-Etag (the sha256) and X-Linked-Size; the
// CDN serves Range requests with 206; /api/{models,datasets}/{repo}/revision/{rev} lists the files. Faults
// can be injected: cut connections, corrupted bytes, 5xx answers, gated repositories.
package hubtest

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// LFSThreshold is the size from which a file is served as an LFS file through the CDN.
const LFSThreshold = 1024

// Repo is one repository of the fake Hub.
type Repo struct {
	Type   string            // "model" (default) or "dataset"
	ID     string            // org/name
	Commit string            // 40 hex digits; also what "main" points at
	Files  map[string][]byte // path -> content
	Gated  bool              // requires the Hub's token
}

// Request is one request a server received.
type Request struct {
	Server        string // "hub" or "cdn"
	Method, Path  string
	Authorization string
	Range         string
}

// Hub is a running fake Hub and its CDN.
type Hub struct {
	Hub, CDN *httptest.Server
	// Token is the token gated repositories accept.
	Token string

	mu       sync.Mutex
	repos    map[string]*Repo // key: type + "/" + id
	blobs    map[string][]byte
	requests []Request
	cuts     map[string][]int // file -> byte counts at which to cut successive GETs
	corrupt  map[string]bool
	fail     map[string]int // path prefix -> number of 503 answers left
	noRange  bool
	aliases  map[string]string // old model id -> new id
	stalls   map[string][]int
}

// New starts a fake Hub with the given repositories. Stop it with Close.
func New(repos ...*Repo) *Hub {
	h := &Hub{repos: map[string]*Repo{}, blobs: map[string][]byte{}, aliases: map[string]string{}, stalls: map[string][]int{}, cuts: map[string][]int{}, corrupt: map[string]bool{}, fail: map[string]int{}}
	h.CDN = httptest.NewServer(http.HandlerFunc(h.serveCDN))
	h.Hub = httptest.NewServer(http.HandlerFunc(h.serveHub))
	for _, r := range repos {
		h.Add(r)
	}
	return h
}

// Close stops both servers.
func (h *Hub) Close() {
	h.Hub.Close()
	h.CDN.Close()
}

// URL is the Hub's endpoint, for HF_ENDPOINT.
func (h *Hub) URL() string { return h.Hub.URL }

// Add adds or replaces a repository.
func (h *Hub) Add(r *Repo) {
	if r.Type == "" {
		r.Type = "model"
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.repos[r.Type+"/"+r.ID] = r
	for _, b := range r.Files {
		if len(b) >= LFSThreshold {
			h.blobs[SHA256(b)] = b
		}
	}
}

// CutAfter makes the next GETs of file (its path in the repository) stop after the given byte counts, one
// count per GET, by dropping the connection.
func (h *Hub) CutAfter(file string, counts ...int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cuts[file] = append(h.cuts[file], counts...)
}

// StallAfter makes the next GETs of file send the given byte counts, one per GET, then send nothing more
// until the client gives up.
func (h *Hub) StallAfter(file string, counts ...int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stalls[file] = append(h.stalls[file], counts...)
}

// Corrupt makes every GET of file serve different bytes than announced.
func (h *Hub) Corrupt(file string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.corrupt[file] = true
}

// Fail makes the next n requests whose path starts with prefix answer 503.
func (h *Hub) Fail(prefix string, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fail[prefix] = n
}

// Rename makes requests for the model repository old answer 307 with a relative Location to new, as the
// Hub does for renamed repositories.
func (h *Hub) Rename(old, new string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.aliases[old] = new
}

// IgnoreRange makes the CDN answer 200 with the whole file to Range requests.
func (h *Hub) IgnoreRange(v bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.noRange = v
}

// Requests returns a copy of the requests received so far.
func (h *Hub) Requests() []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Request(nil), h.requests...)
}

// GitBlobID is the git object id of content, the ETag the Hub gives small files.
func GitBlobID(b []byte) string {
	s := sha1.New()
	fmt.Fprintf(s, "blob %d\x00", len(b))
	s.Write(b)
	return hex.EncodeToString(s.Sum(nil))
}

// SHA256 is the hex sha256 of b, the ETag of LFS files.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// ETag is the etag (and so the blob name in the cache) the Hub gives content.
func ETag(b []byte) string {
	if len(b) >= LFSThreshold {
		return SHA256(b)
	}
	return GitBlobID(b)
}

func (h *Hub) record(server string, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests = append(h.requests, Request{Server: server, Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization"), Range: r.Header.Get("Range")})
}

func (h *Hub) takeFailure(path string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for p, n := range h.fail {
		if n > 0 && strings.HasPrefix(path, p) {
			h.fail[p] = n - 1
			return true
		}
	}
	return false
}

func (h *Hub) takeCut(file string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.cuts[file]
	if len(c) == 0 {
		return -1
	}
	h.cuts[file] = c[1:]
	return c[0]
}

func hubError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Error-Code", code)
	w.Header().Set("X-Error-Message", msg)
	http.Error(w, msg, status)
}

func (h *Hub) lookup(typ, id string) *Repo {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.repos[typ+"/"+id]
}

func (h *Hub) authorized(r *http.Request, repo *Repo) bool {
	return !repo.Gated || r.Header.Get("Authorization") == "Bearer "+h.Token
}

func (h *Hub) serveHub(w http.ResponseWriter, r *http.Request) {
	h.record("hub", r)
	if h.takeFailure(r.URL.Path) {
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	p := r.URL.EscapedPath()
	if rest, ok := strings.CutPrefix(p, "/api/"); ok {
		h.serveList(w, r, rest)
		return
	}
	typ := "model"
	if rest, ok := strings.CutPrefix(p, "/datasets/"); ok {
		typ, p = "dataset", "/"+rest
	}
	repoPart, rest, ok := strings.Cut(strings.TrimPrefix(p, "/"), "/resolve/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	escRev, escFile, ok := strings.Cut(rest, "/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	id, _ := url.PathUnescape(repoPart)
	rev, _ := url.PathUnescape(escRev)
	file, _ := url.PathUnescape(escFile)
	h.mu.Lock()
	alias := h.aliases[id]
	h.mu.Unlock()
	if alias != "" && typ == "model" {
		w.Header().Set("Location", "/"+alias+"/resolve/"+rest)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	repo := h.repoAt(w, r, typ, id, rev)
	if repo == nil {
		return
	}
	content, ok := repo.Files[file]
	if !ok {
		hubError(w, http.StatusNotFound, "EntryNotFound", "Entry not found")
		return
	}
	w.Header().Set("X-Repo-Commit", repo.Commit)
	if len(content) >= LFSThreshold {
		sum := SHA256(content)
		w.Header().Set("X-Linked-Etag", `"`+sum+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(content)))
		w.Header().Set("ETag", `W/"hub-side-etag"`)
		w.Header().Set("Location", h.CDN.URL+"/blobs/"+sum+"?file="+url.QueryEscape(file)+"&signature=x")
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("ETag", `"`+GitBlobID(content)+`"`)
	h.serveBytes(w, r, file, content)
}

// repoAt finds repository id of type typ at revision rev ("main" or its commit) as the Hub answers it: 404
// RepoNotFound, 401 GatedRepo without the right token, 404 RevisionNotFound. It writes that error and returns nil
// when the repository cannot be served.
func (h *Hub) repoAt(w http.ResponseWriter, r *http.Request, typ, id, rev string) *Repo {
	repo := h.lookup(typ, id)
	if repo == nil {
		hubError(w, http.StatusNotFound, "RepoNotFound", "Repository not found")
		return nil
	}
	if !h.authorized(r, repo) {
		hubError(w, http.StatusUnauthorized, "GatedRepo", "Access to this repository is restricted")
		return nil
	}
	if rev != "main" && rev != repo.Commit {
		hubError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return nil
	}
	return repo
}

func (h *Hub) serveList(w http.ResponseWriter, r *http.Request, rest string) {
	kind, rest, _ := strings.Cut(rest, "/")
	typ := map[string]string{"models": "model", "datasets": "dataset"}[kind]
	repoPart, escRev, ok := strings.Cut(rest, "/revision/")
	if typ == "" || !ok {
		http.NotFound(w, r)
		return
	}
	id, _ := url.PathUnescape(repoPart)
	rev, _ := url.PathUnescape(escRev)
	repo := h.repoAt(w, r, typ, id, rev)
	if repo == nil {
		return
	}
	type sib struct {
		RFilename string `json:"rfilename"`
	}
	out := struct {
		ID       string `json:"id"`
		SHA      string `json:"sha"`
		Siblings []sib  `json:"siblings"`
	}{ID: repo.ID, SHA: repo.Commit}
	for f := range repo.Files {
		out.Siblings = append(out.Siblings, sib{f})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func (h *Hub) serveCDN(w http.ResponseWriter, r *http.Request) {
	h.record("cdn", r)
	if h.takeFailure("cdn:" + r.URL.Path) {
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	sum := strings.TrimPrefix(r.URL.Path, "/blobs/")
	h.mu.Lock()
	content, ok := h.blobs[sum]
	h.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", `"cdn-`+sum[:8]+`"`)
	h.serveBytes(w, r, r.URL.Query().Get("file"), content)
}

// serveBytes answers HEAD and GET (with a single "bytes=N-" or "bytes=N-M" range), applying the faults.
func (h *Hub) serveBytes(w http.ResponseWriter, r *http.Request, file string, content []byte) {
	h.mu.Lock()
	if h.corrupt[file] {
		c := append([]byte(nil), content...)
		c[len(c)/2] ^= 0xff
		content = c
	}
	noRange := h.noRange
	h.mu.Unlock()
	start, end := 0, len(content)
	status := http.StatusOK
	if rg := r.Header.Get("Range"); rg != "" && !noRange {
		spec, ok := strings.CutPrefix(rg, "bytes=")
		a, b, ok2 := strings.Cut(spec, "-")
		s, err := strconv.Atoi(a)
		if !ok || !ok2 || err != nil || s >= len(content) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(content)))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		if b != "" {
			if e, err := strconv.Atoi(b); err == nil && e+1 < end {
				end = e + 1
			}
		}
		start = s
		status = http.StatusPartialContent
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, len(content)))
	}
	w.Header().Set("Accept-Ranges", "bytes")
	w.Header().Set("Content-Length", strconv.Itoa(end-start))
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	body := content[start:end]
	h.mu.Lock()
	stall := -1
	if st := h.stalls[file]; len(st) > 0 {
		stall, h.stalls[file] = st[0], st[1:]
	}
	h.mu.Unlock()
	if stall >= 0 && stall < len(body) {
		w.Write(body[:stall])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		<-r.Context().Done()
		panic(http.ErrAbortHandler)
	}
	if cut := h.takeCut(file); cut >= 0 && cut < len(body) {
		w.Write(body[:cut])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		panic(http.ErrAbortHandler) // drops the connection mid-body
	}
	w.Write(body)
}
