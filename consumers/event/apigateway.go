package event

import (
	"encoding/base64"
	"github.com/eventplane/eventplane/consumers/jsonscan"
	"mime"
	"strconv"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/tidwall/gjson"
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
// binary-mode event; any other request becomes one request event.
func apiGateway(dst []ce.Event, env *envelope, doc string, rc gjson.Result) ([]ce.Event, error) {
	const shape = "apigateway"
	req := gjson.Parse(doc)
	headers := map[string]string{}
	if h := req.Get("headers"); h.IsObject() {
		h.ForEach(func(k, v gjson.Result) bool {
			if v.Type == gjson.String {
				headers[strings.ToLower(k.Str)] = v.Str
			}
			return true
		})
	}
	body, err := requestBody(req)
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
		batch := gjson.Parse(body)
		if !jsonscan.Valid(body) || !batch.IsArray() {
			return dst, errorf(shape, "body", "a %s body must be a JSON array of CloudEvents", MediaCloudEventBatch)
		}
		start, i := len(dst), 0
		batch.ForEach(func(_, item gjson.Result) bool {
			if !item.IsObject() {
				err = errorf(shape, "body["+strconv.Itoa(i)+"]", "want a CloudEvent object, got %s", jsonscan.Kind(item.Raw))
				return false
			}
			child := *env
			dst, err = structured(dst, &child, item.Raw)
			err = within("body["+strconv.Itoa(i)+"]", err)
			i++
			return err == nil
		})
		if err != nil {
			return dst[:start], err
		}
		if i == 0 {
			return dst, errorf(shape, "body", "empty CloudEvents batch")
		}
		return dst, nil
	case media == MediaCloudEvent:
		if !jsonscan.Valid(body) {
			return dst, invalidJSON(shape, "body", body)
		}
		out, err := structured(dst, env, body)
		return out, within("body", err)
	case headers["ce-specversion"] != "":
		out, err := binaryMode(dst, env, shape, headers, body)
		return out, within("headers", err)
	}
	a := attrs{typ: TypeAPIRequest, data: []byte(body), contentType: contentType}
	if a.id, err = str(shape, "requestContext.requestId", rc.Get("requestId").Raw); err != nil {
		return dst, err
	}
	apiID := rc.Get("apiId").Str
	if domain := rc.Get("domainName").Str; domain != "" {
		a.source = "https://" + domain
	} else if apiID != "" {
		a.source = "urn:apigateway:" + apiID
	} else {
		return dst, errorf(shape, "requestContext", "neither domainName nor apiId is set")
	}
	a.subject = req.Get("rawPath").Str // HTTP API v2
	if a.subject == "" {
		a.subject = req.Get("path").Str // REST v1
	}
	epoch := rc.Get("timeEpoch") // v2
	if !epoch.Exists() {
		epoch = rc.Get("requestTimeEpoch") // v1
	}
	if epoch.Type == gjson.Number {
		a.time = time.UnixMilli(epoch.Int()).UTC()
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

// requestBody returns the request body, base64-decoded when API Gateway says so.
func requestBody(req gjson.Result) (string, error) {
	b := req.Get("body")
	if !b.Exists() || b.Type == gjson.Null {
		return "", nil
	}
	if b.Type != gjson.String {
		return "", errorf("apigateway", "body", "want a string, got %s", jsonscan.Kind(b.Raw))
	}
	if !req.Get("isBase64Encoded").Bool() {
		return b.Str, nil
	}
	raw, err := base64.StdEncoding.DecodeString(b.Str)
	if err != nil {
		return "", errorf("apigateway", "body", "isBase64Encoded is true but the body is not base64: %v", err)
	}
	return string(raw), nil
}
