package web

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// API paths, shared by the router, the OpenAPI document and the UI.
const (
	apiPrefix = "/api/v1"
)

func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(gin.Recovery(), s.securityHeaders, s.checkHost, s.sameOrigin, s.auth)
	e.HandleMethodNotAllowed = true
	e.NoRoute(s.noRoute)
	e.NoMethod(func(c *gin.Context) {
		abortError(c, http.StatusMethodNotAllowed, "method not allowed on "+c.Request.URL.Path)
	})

	e.GET("/healthz", s.handleHealth)

	api := e.Group(apiPrefix)
	api.GET("/openapi.json", s.handleOpenAPI)
	api.GET("/search", s.handleSearch)
	api.POST("/search", s.handleSearch)
	api.POST("/ask", s.handleAsk)
	api.GET("/documents", s.handleDocuments)
	api.POST("/documents", s.handleUpload)
	api.DELETE("/documents/:doc_id", s.handleDelete)
	api.GET("/jobs/:job_id", s.handleJob)
	api.GET("/pages/:doc_id/:page/image", s.handlePageImage)
	api.GET("/pages/:doc_id/:page/simmap", s.handleSimMap)

	e.GET("/static/*file", s.handleStatic)
	e.GET("/", s.handleHome)
	e.GET("/view/:doc_id/:page", s.handleView)
	return e
}

func (s *Server) handleHealth(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// handleStatic serves the embedded assets (no folder listings).
func (s *Server) handleStatic(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("file"), "/")
	if name == "" || strings.HasSuffix(name, "/") || !fs.ValidPath(name) {
		s.noRoute(c)
		return
	}
	if _, err := fs.Stat(assets, "static/"+name); err != nil {
		s.noRoute(c)
		return
	}
	c.Header("Cache-Control", "no-cache")
	c.FileFromFS("static/"+name, http.FS(assets))
}

func (s *Server) noRoute(c *gin.Context) {
	abortError(c, http.StatusNotFound, "no route "+c.Request.Method+" "+c.Request.URL.Path+"; see /api/v1/openapi.json")
}
