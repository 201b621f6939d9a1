package web

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPI is the OpenAPI 3 description of the REST routes; TestOpenAPIMatchesRoutes keeps it in step with
// the router.
//
//go:embed openapi.json
var openAPI []byte

func (s *Server) handleOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPI)
}
