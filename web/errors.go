package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// errorBody is the JSON of every error answer: {"error": "message"}.
type errorBody struct {
	Error string `json:"error"`
}

// abortError answers status with {"error": msg} and stops the handler chain.
func abortError(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, errorBody{Error: msg})
}

// fail answers err with the status errorStatus gives it; a 500 hides the cause from the client and logs it.
func (s *Server) fail(c *gin.Context, what string, err error) {
	status, msg := errorStatus(what, err)
	if status == http.StatusInternalServerError {
		s.log.Error(what, "err", err, "path", c.Request.URL.Path)
	}
	abortError(c, status, msg)
}

// publicError is the message a client sees for err.
func publicError(what string, err error) string {
	_, msg := errorStatus(what, err)
	return msg
}

// errorStatus maps err to a status in one place: not found → 404, bad input → 400, no pages yet → 409, a page
// without a tile layout → 422, cancelled → 503, anything else → 500 with a generic message.
func errorStatus(what string, err error) (int, string) {
	switch {
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, ErrBadInput):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, errNoLayout):
		return http.StatusUnprocessableEntity, err.Error()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, what + ": the request was cancelled or timed out"
	case errors.Is(err, ErrNoPages):
		return http.StatusConflict, err.Error()
	default:
		return http.StatusInternalServerError, what + " failed; see the server log for details"
	}
}

// inputError is a message about input the caller must fix; it matches ErrBadInput without repeating its text.
type inputError struct{ msg string }

func (e *inputError) Error() string        { return e.msg }
func (e *inputError) Is(target error) bool { return target == ErrBadInput }

// badInput formats an inputError.
func badInput(format string, args ...any) error {
	return &inputError{msg: fmt.Sprintf(format, args...)}
}
