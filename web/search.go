package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// SearchRequest is the body of POST /api/v1/search.
type SearchRequest struct {
	Query string `json:"query"`
	K     *int   `json:"k,omitempty"`
}

// SearchResult is one ranked page, as `colsmol search --json` prints it plus the URLs of its images.
type SearchResult struct {
	Rank     int     `json:"rank"`
	Score    float32 `json:"score"`
	DocID    string  `json:"doc_id"`
	Path     string  `json:"path"`
	Page     int     `json:"page"`
	ImageURL string  `json:"image_url"`
	ThumbURL string  `json:"thumb_url"`
}

// SearchResponse is the answer of /api/v1/search.
type SearchResponse struct {
	Query   string         `json:"query"`
	K       int            `json:"k"`
	Results []SearchResult `json:"results"`
}

const maxJSONBody = 64 << 10

func (s *Server) handleSearch(c *gin.Context) {
	var req SearchRequest
	if c.Request.Method == http.MethodPost {
		if err := bindJSON(c, &req); err != nil {
			abortError(c, http.StatusBadRequest, err.Error())
			return
		}
	} else {
		req.Query = c.Query("q")
		if ks, ok := c.GetQuery("k"); ok {
			k, err := strconv.Atoi(ks)
			if err != nil {
				abortError(c, http.StatusBadRequest, fmt.Sprintf("k must be a whole number from 1 to %d, got %q", MaxK, ks))
				return
			}
			req.K = &k
		}
	}
	res, err := s.search(c.Request.Context(), req)
	if err != nil {
		s.fail(c, "search", err)
		return
	}
	c.JSON(http.StatusOK, res)
}

// search validates a request, embeds the query and ranks the pages.
func (s *Server) search(ctx context.Context, req SearchRequest) (*SearchResponse, error) {
	q, err := checkText("query", req.Query)
	if err != nil {
		return nil, err
	}
	k := DefaultK
	if req.K != nil {
		k = *req.K
	}
	if k < 1 || k > MaxK {
		return nil, badInput("k must be from 1 to %d, got %d", MaxK, k)
	}
	vecs, err := s.opt.Embedder.EmbedQuery(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("embed the query: %w", err)
	}
	hits, err := s.opt.Store.Search(ctx, vecs, k)
	if err != nil {
		return nil, fmt.Errorf("search the index: %w", err)
	}
	out := &SearchResponse{Query: q, K: k, Results: make([]SearchResult, len(hits))}
	for i, h := range hits {
		out.Results[i] = SearchResult{Rank: i + 1, Score: h.Score, DocID: h.DocID, Path: h.Path, Page: h.Page,
			ImageURL: pageURL(h.DocID, h.Page, "image"), ThumbURL: pageURL(h.DocID, h.Page, "image") + "?size=thumb"}
	}
	return out, nil
}

// checkText trims a query or question and rejects empty, oversized or non-UTF-8 text.
func checkText(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", badInput("the %s is empty; send it as %q", field, field)
	case len(s) > MaxQueryBytes:
		return "", badInput("the %s is %d bytes; the limit is %d", field, len(s), MaxQueryBytes)
	case !utf8.ValidString(s):
		return "", badInput("the %s is not valid UTF-8", field)
	}
	return s, nil
}

// bindJSON decodes a small JSON body into v with errors a client can act on.
func bindJSON(c *gin.Context, v any) error {
	if ct := c.ContentType(); ct != "" && ct != "application/json" {
		return fmt.Errorf("send the body as application/json, not %s", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, maxJSONBody))
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			return errors.New("the request body is empty; send a JSON object")
		case errors.As(err, &mbe):
			return fmt.Errorf("the request body is over %d bytes", maxJSONBody)
		default:
			return fmt.Errorf("the request body is not valid JSON: %v", err)
		}
	}
	if dec.More() {
		return errors.New("the request body holds more than one JSON value")
	}
	return nil
}

// pageURL is the API address of a page resource ("image" or "simmap").
func pageURL(docID string, page int, what string) string {
	return fmt.Sprintf("%s/pages/%s/%d/%s", apiPrefix, url.PathEscape(docID), page, what)
}

// displayName is the name the UI shows for a document path.
func displayName(path string) string {
	return filepath.Base(path)
}
