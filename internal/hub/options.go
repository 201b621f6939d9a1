// Package hub downloads files and snapshots from the Hugging Face Hub into the standard Hugging Face cache
// (the layout of Python's huggingface_hub, so both share one cache), works offline from that cache, and holds
// the registry of model names colsmol knows.
//
// No Go library fits: the one served by the module proxy (gomlx/go-huggingface) names LFS blobs by the CDN's
// ETag instead of the sha256, writes no refs/, cannot resume or check hashes, and cannot work offline (see
// research/go-stack.md §5). This package follows huggingface_hub's protocol and layout instead.
package hub

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultEndpoint is the Hugging Face Hub used when HF_ENDPOINT is not set.
const DefaultEndpoint = "https://huggingface.co"

// Repository types, as huggingface_hub names them.
const (
	RepoModel   = "model"
	RepoDataset = "dataset"
)

// Options say where and how files are fetched. The zero value works: every empty field takes its default from
// the environment, as huggingface_hub does (see FromEnv).
type Options struct {
	// Endpoint is the Hub's base URL (HF_ENDPOINT; default https://huggingface.co).
	Endpoint string
	// CacheDir is the hub cache folder (HF_HUB_CACHE; default $HF_HOME/hub).
	CacheDir string
	// Home is the Hugging Face home folder (HF_HOME; default $XDG_CACHE_HOME/huggingface or
	// ~/.cache/huggingface). colsmol keeps its converted models under Home/colsmol.
	Home string
	// Token is sent as "Authorization: Bearer" to the Hub host only (HF_TOKEN, else the file $HF_HOME/token).
	Token string
	// Offline makes every call use the cache only (HF_HUB_OFFLINE=1).
	Offline bool
	// RepoType is RepoModel (default) or RepoDataset.
	RepoType string
	// Client is the HTTP client; its redirects are handled by this package. Default: a client with timeouts
	// for connecting and for response headers, and none for bodies (files are large).
	Client *http.Client
	// Retries is how many times a network failure, a 5xx or a 429 is retried (default 5; negative: none).
	Retries int
	// Backoff is the first wait before a retry; it doubles each time up to MaxBackoff (defaults 1 s and 30 s).
	Backoff, MaxBackoff time.Duration
	// IdleTimeout ends a download that receives no byte for this long (it is then retried and resumed;
	// HF_HUB_DOWNLOAD_TIMEOUT seconds, default 60 s).
	IdleTimeout time.Duration
	// HeadTimeout bounds each metadata request (HF_HUB_ETAG_TIMEOUT seconds, default 10 s, as huggingface_hub).
	HeadTimeout time.Duration
	// Progress, when it is a terminal, gets one progress bar per downloaded file. Nil or not a terminal: no bars
	// (nor with HF_HUB_DISABLE_PROGRESS_BARS=1).
	Progress io.Writer
	// Logf, when set, gets one line per file actually downloaded (not for files found in the cache).
	Logf func(format string, args ...any)
	// PullHint is the command that would fetch what is missing, named in offline error messages
	// (for example "colsmol model pull colsmol-256m").
	PullHint string
}

// FromEnv returns Options filled from the environment: HF_ENDPOINT, HF_HOME, HF_HUB_CACHE (or the older
// HUGGINGFACE_HUB_CACHE), HF_TOKEN (or HUGGING_FACE_HUB_TOKEN, or the token file written by
// `huggingface-cli login`) and HF_HUB_OFFLINE.
func FromEnv() Options {
	var o Options
	o.fill()
	return o
}

// fill replaces empty fields with their defaults.
func (o *Options) fill() {
	if o.Endpoint == "" {
		o.Endpoint = os.Getenv("HF_ENDPOINT")
		if o.Endpoint == "" {
			o.Endpoint = DefaultEndpoint
		}
	}
	o.Endpoint = strings.TrimRight(o.Endpoint, "/")
	if o.Home == "" {
		o.Home = homeFromEnv()
	}
	if o.CacheDir == "" {
		o.CacheDir = firstEnv("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE")
		if o.CacheDir == "" {
			o.CacheDir = filepath.Join(o.Home, "hub")
		}
		o.CacheDir = expandHome(o.CacheDir)
	}
	if o.Token == "" {
		o.Token = firstEnv("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
		if o.Token == "" {
			o.Token = readTokenFile(o.Home)
		}
	}
	if !o.Offline {
		o.Offline = envTrue("HF_HUB_OFFLINE") || envTrue("TRANSFORMERS_OFFLINE")
	}
	if o.RepoType == "" {
		o.RepoType = RepoModel
	}
	if envTrue("HF_HUB_DISABLE_PROGRESS_BARS") {
		o.Progress = nil
	}
	if o.Client == nil {
		o.Client = defaultClient
	}
	if o.Retries == 0 {
		o.Retries = 5
	}
	if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = envSeconds("HF_HUB_DOWNLOAD_TIMEOUT", 60*time.Second)
	}
	if o.HeadTimeout <= 0 {
		o.HeadTimeout = envSeconds("HF_HUB_ETAG_TIMEOUT", 10*time.Second)
	}
}

var defaultClient = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	ForceAttemptHTTP2:     true,
	TLSHandshakeTimeout:   20 * time.Second,
	ResponseHeaderTimeout: 60 * time.Second,
	IdleConnTimeout:       90 * time.Second,
	MaxIdleConnsPerHost:   4,
}}

func homeFromEnv() string {
	if h := os.Getenv("HF_HOME"); h != "" {
		return expandHome(h)
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		base = "~/.cache"
	}
	return filepath.Join(expandHome(base), "huggingface")
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, p[1:])
		}
	}
	return p
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(os.Getenv(n)); v != "" {
			return v
		}
	}
	return ""
}

// envTrue reads a boolean the way huggingface_hub does: 1, ON, YES or TRUE, in any case.
func envTrue(name string) bool {
	switch strings.ToUpper(strings.TrimSpace(os.Getenv(name))) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}

// envSeconds reads a duration in seconds (fractions allowed) from the environment.
func envSeconds(name string, def time.Duration) time.Duration {
	v, err := strconv.ParseFloat(strings.TrimSpace(os.Getenv(name)), 64)
	if err != nil || v <= 0 {
		return def
	}
	return time.Duration(v * float64(time.Second))
}

func readTokenFile(home string) string {
	p := os.Getenv("HF_TOKEN_PATH")
	if p == "" {
		p = filepath.Join(home, "token")
	}
	b, err := os.ReadFile(expandHome(p))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
