package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// Errors that callers can test for with errors.Is.
var (
	// ErrNotFound: the repository, revision or file does not exist (HTTP 404).
	ErrNotFound = errors.New("not found on the Hub")
	// ErrUnauthorized: the Hub refused access (HTTP 401 or 403): a gated or private repository, or a bad token.
	ErrUnauthorized = errors.New("access refused by the Hub")
	// ErrNotCached: offline (or the Hub unreachable) and the file is not in the cache.
	ErrNotCached = errors.New("not in the cache")
	// ErrHashMismatch: a downloaded file's sha256 differs from the one the Hub announced.
	ErrHashMismatch = errors.New("sha256 mismatch")
)

// StatusError is an HTTP answer that ended a request.
type StatusError struct {
	Repo, RepoType, Revision, File string // File is "" for the listing API
	URL                            string
	Status                         int
	Code, Message                  string // the Hub's X-Error-Code and X-Error-Message, when given
	HaveToken                      bool
	retryAfter                     time.Duration
}

func (e *StatusError) what() string {
	kind := "repository"
	if e.RepoType == RepoDataset {
		kind = "dataset"
	}
	if e.File == "" {
		return fmt.Sprintf("%s %s at revision %s", kind, e.Repo, e.Revision)
	}
	return fmt.Sprintf("file %s of %s %s at revision %s", e.File, kind, e.Repo, e.Revision)
}

func (e *StatusError) Error() string {
	detail := ""
	if e.Message != "" {
		detail = ": " + e.Message
	}
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		next := "if it is gated, accept its conditions on its Hub page, then set HF_TOKEN to an access token (https://huggingface.co/settings/tokens) of that account"
		if e.HaveToken {
			next = "the token in HF_TOKEN was sent but does not give access: if the repository is gated, accept its conditions on its Hub page with the token's account, or use a token with read access"
		}
		return fmt.Sprintf("the Hub refused access to %s (HTTP %d%s): the repository is gated or private, or does not exist; %s", e.what(), e.Status, detail, next)
	case e.Status == http.StatusNotFound:
		switch e.Code {
		case "RevisionNotFound":
			return fmt.Sprintf("revision %s of %s was not found on the Hub (HTTP 404%s): check the branch, tag or commit", e.Revision, e.Repo, detail)
		case "EntryNotFound":
			return fmt.Sprintf("%s was not found on the Hub (HTTP 404%s): check the file name", e.what(), detail)
		}
		return fmt.Sprintf("%s was not found on the Hub (HTTP 404%s): check the repository id, the file name and the revision (private repositories also answer 404 without HF_TOKEN)", e.what(), detail)
	case e.Status == http.StatusTooManyRequests:
		return fmt.Sprintf("the Hub is rate-limiting requests for %s (HTTP 429%s): wait a few minutes, or set HF_TOKEN for higher limits", e.what(), detail)
	case e.Status >= 500:
		return fmt.Sprintf("the Hub failed to serve %s (HTTP %d%s): try again later", e.what(), e.Status, detail)
	}
	return fmt.Sprintf("unexpected answer HTTP %d for %s from %s%s", e.Status, e.what(), e.URL, detail)
}

// Is makes errors.Is(err, ErrNotFound) and errors.Is(err, ErrUnauthorized) work.
func (e *StatusError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	}
	return false
}

// NotCachedError says which files are missing from the cache when the Hub cannot be asked.
type NotCachedError struct {
	Repo, RepoType, Revision string
	Files                    []string // the missing files; empty when the whole revision is unknown
	Where                    string   // the snapshot folder the files belong in
	CacheDir                 string
	Reason                   error // nil when offline mode was asked for; else why the Hub could not be reached
	Hint                     string
}

func (e *NotCachedError) Error() string {
	var b strings.Builder
	if e.Reason == nil {
		b.WriteString("offline mode (HF_HUB_OFFLINE is set) and ")
	} else {
		fmt.Fprintf(&b, "the Hub could not be reached (%v) and ", e.Reason)
	}
	switch len(e.Files) {
	case 0:
		fmt.Fprintf(&b, "revision %s of %s is not in the cache %s", e.Revision, e.Repo, e.CacheDir)
	case 1:
		fmt.Fprintf(&b, "%s of %s (revision %s) is not in the cache %s", e.Files[0], e.Repo, e.Revision, e.CacheDir)
	default:
		fmt.Fprintf(&b, "%d files of %s (revision %s) are not in the cache %s: %s", len(e.Files), e.Repo, e.Revision, e.CacheDir, strings.Join(e.Files, ", "))
	}
	hint := e.Hint
	if hint == "" {
		hint = "colsmol model pull " + e.Repo
		if e.Revision != "" && e.Revision != "main" {
			hint += "@" + e.Revision
		}
	}
	fmt.Fprintf(&b, "; run %q where the Hub can be reached (HF_HUB_OFFLINE unset)", hint)
	if e.Where != "" {
		fmt.Fprintf(&b, ", or place the files by hand under %s", e.Where)
		if !IsCommit(e.Revision) {
			fmt.Fprintf(&b, " and write that commit hash into refs/%s", e.Revision)
		}
	} else {
		fmt.Fprintf(&b, ", or download the files by hand into a folder and pass that folder instead of the name")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotCached) work.
func (e *NotCachedError) Is(target error) bool { return target == ErrNotCached }

// Unwrap returns why the Hub could not be reached, if it was tried.
func (e *NotCachedError) Unwrap() error { return e.Reason }

// HashError is a downloaded file whose content does not match the sha256 the Hub announced.
type HashError struct {
	Repo, File, Want, Got string
}

func (e *HashError) Error() string {
	return fmt.Sprintf("downloaded %s of %s has sha256 %s but the Hub announced %s: the partial file was removed; run the command again, and if it fails again the mirror or proxy in between is corrupting data", e.File, e.Repo, e.Got, e.Want)
}

// Is makes errors.Is(err, ErrHashMismatch) work.
func (e *HashError) Is(target error) bool { return target == ErrHashMismatch }

// retryable reports whether a failed request is worth trying again: network failures, cut bodies, 5xx, 429.
func retryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, errStalled) || errors.Is(err, errTimeout) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status >= 500 || se.Status == http.StatusTooManyRequests || se.Status == http.StatusRequestTimeout
	}
	var he *HashError
	if errors.As(err, &he) {
		return false
	}
	if cannotConnect(err) {
		return false // no network or no Hub: fall back to the cache at once, as huggingface_hub does
	}
	return networkError(err) || errors.Is(err, errShortBody) || errors.Is(err, errStalled)
}

// networkError reports whether err means the Hub could not be talked to (as opposed to an answer from it).
func networkError(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	var oe *net.OpError
	var de *net.DNSError
	return errors.As(err, &ne) || errors.As(err, &oe) || errors.As(err, &de) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH)
}

// cannotConnect reports whether err happened before any connection was made: a failed name lookup or a
// refused, unreachable or failed dial.
func cannotConnect(err error) bool {
	var de *net.DNSError
	if errors.As(err, &de) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return !oe.Timeout()
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH)
}

// unreachable reports whether err means the Hub is not available now, so the cache may be used instead.
func unreachable(err error) bool {
	if errors.Is(err, errTimeout) {
		return true
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status >= 500 || se.Status == http.StatusTooManyRequests
	}
	return networkError(err)
}

var (
	errShortBody = errors.New("the connection ended before the whole file arrived")
	errStalled   = errors.New("no data arrived for too long")
	errTimeout   = errors.New("the Hub did not answer in time")
)

// MissingError is several NotCachedErrors of one model (its base and its adapter, say), told in one message.
type MissingError struct {
	Parts []*NotCachedError
}

func (e *MissingError) Error() string {
	var b strings.Builder
	first := e.Parts[0]
	if first.Reason == nil {
		b.WriteString("offline mode (HF_HUB_OFFLINE is set) and files are not in the cache " + first.CacheDir + ": ")
	} else {
		fmt.Fprintf(&b, "the Hub could not be reached (%v) and files are not in the cache %s: ", first.Reason, first.CacheDir)
	}
	var where []string
	for i, p := range e.Parts {
		if i > 0 {
			b.WriteString("; ")
		}
		if len(p.Files) == 0 {
			fmt.Fprintf(&b, "revision %s of %s", p.Revision, p.Repo)
		} else {
			fmt.Fprintf(&b, "%s of %s (revision %s)", strings.Join(p.Files, ", "), p.Repo, p.Revision)
		}
		where = append(where, p.Where)
	}
	hint := first.Hint
	if hint == "" {
		hint = "colsmol model pull " + first.Repo
	}
	fmt.Fprintf(&b, "; run %q where the Hub can be reached (HF_HUB_OFFLINE unset), or place the files by hand under %s (with the commit hash in refs/<revision>)", hint, strings.Join(where, " and "))
	return b.String()
}

// Is makes errors.Is(err, ErrNotCached) work.
func (e *MissingError) Is(target error) bool { return target == ErrNotCached }
