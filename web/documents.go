package web

import (
	"net/http"
	"os"
	"sort"
	"time"

	"github.com/gin-gonic/gin"
)

// DocumentInfo is one document as `colsmol docs ls --json` prints it.
type DocumentInfo struct {
	DocID     string    `json:"doc_id"`
	Path      string    `json:"path"`
	Name      string    `json:"name"`
	SHA256    string    `json:"sha256"`
	Pages     int       `json:"pages"`
	Size      int64     `json:"size"`
	IndexedAt time.Time `json:"indexed_at"`
}

// DocumentsResponse is the answer of GET /api/v1/documents.
type DocumentsResponse struct {
	Documents []DocumentInfo `json:"documents"`
}

func documentInfo(d Document) DocumentInfo {
	return DocumentInfo{DocID: d.ID, Path: d.Path, Name: displayName(d.Path), SHA256: d.SHA256, Pages: d.Pages, Size: d.Size, IndexedAt: d.IndexedAt}
}

// documents lists the indexed documents, newest first.
func (s *Server) documents() ([]DocumentInfo, error) {
	docs, err := s.opt.Store.Documents()
	if err != nil {
		return nil, err
	}
	out := make([]DocumentInfo, len(docs))
	for i, d := range docs {
		out[i] = documentInfo(d)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].IndexedAt.After(out[j].IndexedAt) })
	return out, nil
}

func (s *Server) handleDocuments(c *gin.Context) {
	docs, err := s.documents()
	if err != nil {
		s.fail(c, "list documents", err)
		return
	}
	c.JSON(http.StatusOK, DocumentsResponse{Documents: docs})
}

func (s *Server) handleDelete(c *gin.Context) {
	id := c.Param("doc_id")
	path := ""
	if docs, err := s.opt.Store.Documents(); err == nil {
		for _, d := range docs {
			if d.ID == id {
				path = d.Path
			}
		}
	}
	if err := s.opt.Store.Delete(id); err != nil {
		s.fail(c, "delete document", err)
		return
	}
	// A file that came in through an upload goes with its document, so the upload folder does not grow.
	if path != "" && s.inUploadDir(path) {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			s.log.Warn("remove uploaded file", "path", path, "err", err)
		}
	}
	c.Status(http.StatusNoContent)
}
