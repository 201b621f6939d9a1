package web

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// pageParam reads the 1-based page number of a /pages/{doc_id}/{page}/... route.
func pageParam(c *gin.Context) (string, int, bool) {
	p, err := strconv.Atoi(c.Param("page"))
	if err != nil || p < 1 {
		abortError(c, http.StatusBadRequest, fmt.Sprintf("page must be a page number from 1, got %q", c.Param("page")))
		return "", 0, false
	}
	return c.Param("doc_id"), p, true
}

func (s *Server) handlePageImage(c *gin.Context) {
	id, page, ok := pageParam(c)
	if !ok {
		return
	}
	thumb := false
	switch size := c.Query("size"); size {
	case "", "full", "large":
	case "thumb":
		thumb = true
	default:
		abortError(c, http.StatusBadRequest, fmt.Sprintf("size must be thumb or full, got %q", size))
		return
	}
	b, err := s.opt.Store.PageImage(id, page, thumb)
	if err != nil {
		s.fail(c, "page image", err)
		return
	}
	c.Header("Cache-Control", "private, max-age=3600")
	c.Data(http.StatusOK, http.DetectContentType(b), b)
}

func (s *Server) handleSimMap(c *gin.Context) {
	id, page, ok := pageParam(c)
	if !ok {
		return
	}
	format := c.DefaultQuery("format", "json")
	if format != "json" && format != "png" {
		abortError(c, http.StatusBadRequest, fmt.Sprintf("format must be json or png, got %q", format))
		return
	}
	m, err := s.simMap(c.Request.Context(), id, page, c.Query("q"))
	if err != nil {
		s.fail(c, "similarity map", err)
		return
	}
	if format == "json" {
		c.JSON(http.StatusOK, m)
		return
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m.heatImage()); err != nil {
		s.fail(c, "similarity map", err)
		return
	}
	c.Data(http.StatusOK, "image/png", buf.Bytes())
}
