package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/postdesk/postdesk/panel/request"
	"github.com/postdesk/postdesk/tenants"
	"github.com/postdesk/postdesk/tenants/address"
)

// Limits of a request body.
const (
	maxBodyBytes = 256 << 10
	maxDepth     = 8
)

// decode reads a JSON request body into v: at most maxBodyBytes (else
// 413), nested at most maxDepth deep, no object with a key twice, one
// value, no fields v does not have (else 400). It writes the error answer
// itself and returns it as handled: the caller returns what decode
// returned when ok is false.
func decode(c echo.Context, v any) (bool, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxBodyBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return false, fail(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", maxBodyBytes), "")
	}
	if err != nil {
		return false, fail(c, http.StatusBadRequest, "could not read the body", "")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return false, fail(c, http.StatusBadRequest, "a JSON body is required", "")
	}
	if err := checkShape(body); err != nil {
		var dk *duplicateKeyError
		if errors.As(err, &dk) {
			return false, fail(c, http.StatusBadRequest, err.Error(), dk.path)
		}
		return false, fail(c, http.StatusBadRequest, err.Error(), "")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg, field := describe(err)
		return false, fail(c, http.StatusBadRequest, msg, field)
	}
	if dec.More() {
		return false, fail(c, http.StatusBadRequest, "one JSON value only", "")
	}
	return true, nil
}

// duplicateKeyError is an object with a key twice; path names it, with
// the keys of the objects around it ("a.b").
type duplicateKeyError struct{ path string }

func (e *duplicateKeyError) Error() string { return fmt.Sprintf("key %q given more than once", e.path) }

// checkShape refuses, before the body is decoded, JSON nested deeper than
// maxDepth and an object, at any depth, with a key twice: encoding/json
// would keep the last value silently, while a proxy or log that reads the
// first sees another request (RFC 8259 4: names SHOULD be unique).
// Keys are compared as encoding/json matches them to fields, without
// regard to case, so "Name" repeats "name".
func checkShape(body []byte) error {
	// frame is an open object or array; in an object, key is the last
	// key read and wantKey says whether the next token is a key.
	type frame struct {
		object  bool
		keys    map[string]bool
		key     string
		wantKey bool
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		t, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("malformed JSON: %v", err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantKey {
			// Token reads a key as a string, and a '}' here closes the
			// object (handled below).
			if k, ok := t.(string); ok {
				fk := foldKey(k)
				if top.keys[fk] {
					var path []string
					for _, f := range stack[:len(stack)-1] {
						if f.object {
							path = append(path, f.key)
						}
					}
					return &duplicateKeyError{path: strings.Join(append(path, k), ".")}
				}
				top.keys[fk] = true
				top.key, top.wantKey = k, false
				continue
			}
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			if len(stack) >= maxDepth {
				return fmt.Errorf("JSON nested deeper than %d levels", maxDepth)
			}
			f := &frame{object: t == json.Delim('{'), wantKey: true}
			if f.object {
				f.keys = map[string]bool{}
			}
			stack = append(stack, f)
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: the object around it wants a key next.
		if len(stack) > 0 {
			stack[len(stack)-1].wantKey = true
		}
	}
}

// foldKey folds a key as encoding/json does to match it to a field
// (bytes.EqualFold: each rune to the smallest of its simple case folds).
func foldKey(k string) string {
	return strings.Map(func(r rune) rune {
		for {
			f := unicode.SimpleFold(r)
			if f <= r {
				return f
			}
			r = f
		}
	}, k)
}

func describe(err error) (string, string) {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("%s must be a %s", te.Field, jsonType(te.Type.Kind().String())), te.Field
	case errors.As(err, &se):
		return "malformed JSON", ""
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fmt.Sprintf("unknown field %q", f), f
	}
	return "malformed JSON", ""
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "list"
	case "struct", "map", "ptr":
		return "object"
	}
	return "number"
}

// optString is a field that may be absent (Set false), null (Set, Value
// nil) or a string: PATCH tells "leave as is" from "clear".
type optString struct {
	Set   bool
	Value *string
}

func (o *optString) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Value = nil
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// parseTime reads an RFC 3339 time (or date) of field; nil for none.
func parseTime(field string, v *string) (*time.Time, error) {
	return parseWith(tenants.ParseDate, field, v)
}

// parseEnd reads the end of a period: a date alone means through that day.
func parseEnd(field string, v *string) (*time.Time, error) {
	return parseWith(tenants.ParseEnd, field, v)
}

func parseWith(parse func(string) (*time.Time, error), field string, v *string) (*time.Time, error) {
	if v == nil || *v == "" {
		return nil, nil
	}
	t, err := parse(*v)
	if err != nil {
		return nil, &tenants.ValidationError{Field: field, Message: "use an RFC 3339 date or time, e.g. 2026-12-24 or 2026-12-24T08:00:00Z"}
	}
	return t, nil
}

// domainParam and addressParam parse path parameters; malformed ones are
// "not found", the same answer as a domain out of the key's reach.
func domainParam(c echo.Context) (address.Domain, bool) {
	d, err := request.DomainParam(c)
	return d, err == nil
}

func addressParam(c echo.Context) (address.Address, bool) {
	d, ok := domainParam(c)
	if !ok {
		return address.Address{}, false
	}
	a, err := request.LocalParam(c, "local", d)
	return a, err == nil
}
