package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants"
)

// Error is every error answer of the API.
type Error struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func fail(c echo.Context, status int, msg, field string) error {
	return c.JSON(status, Error{Error: msg, Field: field})
}

// failErr answers a tenants error with a fitting status; errors that are
// not the client's are returned to the error handler (500, logged, no
// detail to the client).
func failErr(c echo.Context, err error) error {
	var ve *tenants.ValidationError
	var ce *tenants.ConflictError
	var le *tenants.LimitError
	switch {
	case errors.As(err, &ve):
		return fail(c, http.StatusUnprocessableEntity, ve.Message, ve.Field)
	case errors.As(err, &ce):
		return fail(c, http.StatusConflict, ce.Error(), "local_part")
	case errors.As(err, &le):
		return fail(c, http.StatusConflict, le.Error(), "")
	case errors.Is(err, tenants.ErrNotFound):
		return fail(c, http.StatusNotFound, "not found", "")
	case errors.Is(err, tenants.ErrForbidden):
		return fail(c, http.StatusForbidden, "this key may not do that", "")
	case errors.Is(err, tenants.ErrExists):
		return fail(c, http.StatusConflict, "already exists", "")
	case errors.Is(err, tenants.ErrNotEmpty):
		return fail(c, http.StatusConflict, err.Error()+": remove them first, or pass force=true", "")
	}
	return err
}
