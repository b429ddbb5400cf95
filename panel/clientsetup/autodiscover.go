package clientsetup

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/tenants/address"
)

// Outlook's POX autodiscover ([MS-OXDSCLI] 2.2.4): the request names an
// address and the response schema it takes; only the Outlook schema
// (2006a) describes IMAP, POP3 and SMTP servers.
const (
	requestSchema   = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
	responseSchema  = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
	outlookSchema   = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
	maxRequestBytes = 16 << 10
)

type adRequest struct {
	XMLName xml.Name `xml:"Autodiscover"`
	Request struct {
		EMailAddress             string `xml:"EMailAddress"`
		AcceptableResponseSchema string `xml:"AcceptableResponseSchema"`
	} `xml:"Request"`
}

type adResponse struct {
	XMLName  xml.Name `xml:"Autodiscover"`
	XMLNS    string   `xml:"xmlns,attr"`
	Response any      `xml:"Response"`
}

type adAccount struct {
	XMLNS   string `xml:"xmlns,attr"`
	Account struct {
		AccountType string       `xml:"AccountType"`
		Action      string       `xml:"Action"`
		Protocol    []adProtocol `xml:"Protocol"`
	} `xml:"Account"`
}

type adProtocol struct {
	Type           string `xml:"Type"`
	Server         string `xml:"Server"`
	Port           int    `xml:"Port"`
	DomainRequired string `xml:"DomainRequired"`
	LoginName      string `xml:"LoginName"`
	SPA            string `xml:"SPA"`
	SSL            string `xml:"SSL"`
	Encryption     string `xml:"Encryption,omitempty"`
	AuthRequired   string `xml:"AuthRequired"`
}

type adError struct {
	Error struct {
		ErrorCode string `xml:"ErrorCode"`
		Message   string `xml:"Message"`
	} `xml:"Error"`
}

// autodiscover answers an Outlook POX request: 200 with the account's
// servers, or 200 with an Error element (as Exchange does) for a request
// we can't answer; 413 past a small body.
func (h handlers) autodiscover(c echo.Context) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxRequestBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	}
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	var req adRequest
	if err := xml.Unmarshal(body, &req); err != nil || req.XMLName.Space != requestSchema {
		return h.adFail(c, "600", "Invalid Request")
	}
	if s := strings.TrimSpace(req.Request.AcceptableResponseSchema); s != "" && s != outlookSchema {
		return h.adFail(c, "601", "Provider is not available for the requested schema")
	}
	a, ok, err := h.served(c.Request().Context(), strings.TrimSpace(req.Request.EMailAddress))
	if err != nil {
		return err
	}
	if !ok {
		return h.adFail(c, "600", "Invalid Request")
	}
	acct := adAccount{XMLNS: outlookSchema}
	acct.Account.AccountType, acct.Account.Action = "email", "settings"
	for _, s := range h.servers.Offered() {
		p := adProtocol{Type: strings.ToUpper(s.Kind), Server: h.servers.Host, Port: s.Port, DomainRequired: "off",
			LoginName: a.String(), SPA: "off", SSL: "on", AuthRequired: "on", Encryption: "TLS"}
		if s.TLS {
			p.Encryption = "SSL"
		}
		acct.Account.Protocol = append(acct.Account.Protocol, p)
	}
	return writeXML(c, "text/xml", adResponse{XMLNS: responseSchema, Response: acct})
}

func (h handlers) adFail(c echo.Context, code, msg string) error {
	var e adError
	e.Error.ErrorCode, e.Error.Message = code, msg
	return writeXML(c, "text/xml", adResponse{XMLNS: responseSchema, Response: e})
}

// autodiscoverJSON answers Outlook's JSON form
// (/autodiscover/autodiscover.json/v1.0/ADDRESS?Protocol=AutodiscoverV1,
// or ?Email=ADDRESS): it only says where the POX form is, on the host the
// client asked. Other protocols (EWS, ActiveSync) are not ours.
func (h handlers) autodiscoverJSON(c echo.Context) error {
	addr := c.Param("address")
	if addr == "" {
		addr = c.QueryParam("Email")
	}
	if !strings.EqualFold(c.QueryParam("Protocol"), "AutodiscoverV1") {
		return c.JSON(http.StatusBadRequest, map[string]string{"ErrorCode": "ProtocolNotSupported",
			"ErrorMessage": "only AutodiscoverV1 is offered"})
	}
	_, ok, err := h.served(c.Request().Context(), addr)
	if err != nil {
		return err
	}
	if !ok {
		return c.JSON(http.StatusNotFound, map[string]string{"ErrorCode": "UserNotFound", "ErrorMessage": "not a served address"})
	}
	// The POX form is on the host the client reached (autodiscover.DOMAIN
	// usually); a Host that is not a host name gets the public host.
	host := h.servers.Host
	if d, err := address.ParseDomain(c.Request().Host); err == nil {
		host = d.String()
	}
	return c.JSON(http.StatusOK, map[string]string{"Protocol": "AutodiscoverV1",
		"Url": "https://" + host + "/autodiscover/autodiscover.xml"})
}
