package clientsetup

import (
	"encoding/xml"
	"net/http"

	"github.com/labstack/echo/v4"
)

// clientConfig is Thunderbird's autoconfig document, version 1.1.
type clientConfig struct {
	XMLName  xml.Name      `xml:"clientConfig"`
	Version  string        `xml:"version,attr"`
	Provider emailProvider `xml:"emailProvider"`
}

type emailProvider struct {
	ID        string         `xml:"id,attr"`
	Domain    string         `xml:"domain"`
	Name      string         `xml:"displayName"`
	ShortName string         `xml:"displayShortName"`
	Incoming  []configServer `xml:"incomingServer"`
	Outgoing  []configServer `xml:"outgoingServer"`
}

type configServer struct {
	Type           string `xml:"type,attr"`
	Hostname       string `xml:"hostname"`
	Port           int    `xml:"port"`
	SocketType     string `xml:"socketType"`
	Authentication string `xml:"authentication"`
	Username       string `xml:"username"`
}

// autoconfig answers Thunderbird with the servers for the address it
// names (emailaddress), 404 for a domain we do not serve.
func (h handlers) autoconfig(c echo.Context) error {
	a, ok, err := h.served(c.Request().Context(), c.QueryParam("emailaddress"))
	if err != nil {
		return err
	}
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	d := a.Domain.String()
	cfg := clientConfig{Version: "1.1", Provider: emailProvider{ID: d, Domain: d, Name: d, ShortName: d}}
	for _, s := range h.servers.Offered() {
		cs := configServer{Type: s.Kind, Hostname: h.servers.Host, Port: s.Port, SocketType: "STARTTLS",
			// Plain passwords, only ever over TLS; the address is the
			// login name (user/domain works too).
			Authentication: "password-cleartext", Username: "%EMAILADDRESS%"}
		if s.TLS {
			cs.SocketType = "SSL"
		}
		if s.Kind == "smtp" {
			cfg.Provider.Outgoing = append(cfg.Provider.Outgoing, cs)
		} else {
			cfg.Provider.Incoming = append(cfg.Provider.Incoming, cs)
		}
	}
	return writeXML(c, "application/xml", cfg)
}

func writeXML(c echo.Context, ctype string, v any) error {
	b, err := xml.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, ctype+"; charset=utf-8", append([]byte(xml.Header), append(b, '\n')...))
}
