package webmail

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// directoryEntry is one completion of a recipient field.
type directoryEntry struct {
	Value string `json:"value"` // what the field takes: "Name <address>"
	Label string `json:"label"`
}

// directory answers address completion: the contacts of every book the
// user reads (own books first) and the mailboxes of the user's own domain
// whose address or name contains q, as JSON for the compose form's script
// (without it, the form's datalist offers the first ones).
func (h handlers) directory(c echo.Context) error {
	id := accountOf(c).id
	list, err := h.Tenants.AddressCompletion(c.Request().Context(), id.Login, c.QueryParam("q"), 20)
	if err != nil {
		return err
	}
	out := make([]directoryEntry, 0, len(list))
	for _, d := range list {
		o := directoryOption(d)
		out = append(out, directoryEntry{Value: o.Value, Label: o.Label})
	}
	return c.JSON(http.StatusOK, out)
}
