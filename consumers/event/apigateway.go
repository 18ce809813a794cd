package event

import (
	"encoding/base64"
	"github.com/eventplane/eventplane/consumers/jsonscan"
	"mime"
	"strconv"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

// CloudEvents HTTP media types.
const (
	MediaCloudEvent      = "application/cloudevents+json"
	MediaCloudEventBatch = "application/cloudevents-batch+json"
)

// TypeAPIRequest is the type of events made from API Gateway requests that
// carry no CloudEvent.
const TypeAPIRequest = "com.amazonaws.apigateway.request"

// apiGateway decodes an API Gateway proxy request (REST v1 or HTTP API v2)
// following the CloudEvents HTTP binding: a batch, a structured event or a
// binary-mode event; any other request becomes one request event. doc is
// the validated request and rc its requestContext object.
func apiGateway(dst []ce.Event, env *envelope, doc, rc string) ([]ce.Event, error) {
	const shape = "apigateway"
	var rawHeaders, rawBody, base64Flag, rawPath, path string
	members := jsonscan.ObjectMembers(doc)
	for members.Next() { // the first of each counts
		switch members.Key {
		case "headers":
			first(&rawHeaders, members.Value)
		case "body":
			first(&rawBody, members.Value)
		case "isBase64Encoded":
			first(&base64Flag, members.Value)
		case "rawPath":
			first(&rawPath, members.Value)
		case "path":
			first(&path, members.Value)
		}
	}
	headers := map[string]string{}
	if rawHeaders != "" && rawHeaders[0] == '{' {
		h := jsonscan.ObjectMembers(rawHeaders)
		for h.Next() {
			if v, ok := jsonscan.String(h.Value); ok {
				headers[strings.ToLower(h.Key)] = v
			}
		}
	}
	body, err := requestBody(rawBody, base64Flag)
	if err != nil {
		return dst, err
	}
	contentType := strings.TrimSpace(headers["content-type"])
	var media string
	if contentType != "" {
		if media, _, err = mime.ParseMediaType(contentType); err != nil {
			return dst, errorf(shape, "headers.content-type", "%q is not a media type: %v", contentType, err)
		}
	}
	switch {
	case media == MediaCloudEventBatch:
		if !jsonscan.Valid(body) || body[jsonscan.SkipSpace(body, 0)] != '[' {
			return dst, errorf(shape, "body", "a %s body must be a JSON array of CloudEvents", MediaCloudEventBatch)
		}
		start, i := len(dst), 0
		items := jsonscan.ArrayElements(body)
		for items.Next() {
			item := items.Value
			if item[0] != '{' {
				return dst[:start], errorf(shape, "body["+strconv.Itoa(i)+"]", "want a CloudEvent object, got %s", jsonscan.Kind(item))
			}
			child := *env
			dst, err = structured(dst, &child, item)
			if err != nil {
				return dst[:start], within("body["+strconv.Itoa(i)+"]", err)
			}
			i++
		}
		if i == 0 {
			return dst, errorf(shape, "body", "empty CloudEvents batch")
		}
		return dst, nil
	case media == MediaCloudEvent:
		if !jsonscan.Valid(body) {
			return dst, invalidJSON(shape, body)
		}
		out, err := structured(dst, env, body)
		return out, within("body", err)
	case headers["ce-specversion"] != "":
		out, err := binaryMode(dst, env, shape, headers, body)
		return out, within("headers", err)
	}
	a := attrs{typ: TypeAPIRequest, data: []byte(body), contentType: contentType}
	var requestID, apiID, domain, timeEpoch, requestTimeEpoch string
	ctx := jsonscan.ObjectMembers(rc)
	for ctx.Next() {
		switch ctx.Key {
		case "requestId":
			first(&requestID, ctx.Value)
		case "apiId":
			first(&apiID, ctx.Value)
		case "domainName":
			first(&domain, ctx.Value)
		case "timeEpoch": // HTTP API v2
			first(&timeEpoch, ctx.Value)
		case "requestTimeEpoch": // REST v1
			first(&requestTimeEpoch, ctx.Value)
		}
	}
	if a.id, err = str(shape, "requestContext.requestId", requestID); err != nil {
		return dst, err
	}
	if domain := stringOf(domain); domain != "" {
		a.source = "https://" + domain
	} else if apiID := stringOf(apiID); apiID != "" {
		a.source = "urn:apigateway:" + apiID
	} else {
		return dst, errorf(shape, "requestContext", "neither domainName nor apiId is set")
	}
	a.subject = stringOf(rawPath) // HTTP API v2
	if a.subject == "" {
		a.subject = stringOf(path) // REST v1
	}
	epoch := timeEpoch
	if epoch == "" {
		epoch = requestTimeEpoch
	}
	if isNumber(epoch) {
		a.time = time.UnixMilli(integer(epoch)).UTC()
	}
	if body == "" {
		a.data, a.contentType = nil, ""
	} else if a.contentType == "" {
		if jsonscan.Valid(body) {
			a.contentType = ContentJSON
		} else {
			a.contentType = ContentBinary
			a.base64 = true
		}
	}
	return build(dst, env, shape, a)
}

// requestBody returns the request body (raw, the member's JSON text),
// base64-decoded when API Gateway says so (base64Flag).
func requestBody(raw, base64Flag string) (string, error) {
	if jsonscan.IsNull(raw) {
		return "", nil
	}
	b, ok := jsonscan.String(raw)
	if !ok {
		return "", errorf("apigateway", "body", "want a string, got %s", jsonscan.Kind(raw))
	}
	if !truthy(base64Flag) {
		return b, nil
	}
	dec, err := base64.StdEncoding.DecodeString(b)
	if err != nil {
		return "", errorf("apigateway", "body", "isBase64Encoded is true but the body is not base64: %v", err)
	}
	return string(dec), nil
}
