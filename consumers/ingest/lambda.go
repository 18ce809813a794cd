package ingest

import (
	"context"
	"encoding/base64"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
)

// APIGatewayV2 serves an HTTP API (payload format 2.0) request.
func (h *Handler) APIGatewayV2(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	body, err := decodeBody(req.Body, req.IsBase64Encoded)
	var resp Response
	if err != nil {
		resp = problem(http.StatusBadRequest, nil, "body is not valid base64: %v", err)
	} else {
		resp = h.Handle(ctx, req.RequestContext.HTTP.Method, header(req.Headers, nil), body)
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: resp.Status, Body: string(resp.Body), Headers: resp.headers()}, nil
}

// APIGatewayV1 serves a REST API (payload format 1.0) proxy request.
func (h *Handler) APIGatewayV1(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	body, err := decodeBody(req.Body, req.IsBase64Encoded)
	var resp Response
	if err != nil {
		resp = problem(http.StatusBadRequest, nil, "body is not valid base64: %v", err)
	} else {
		resp = h.Handle(ctx, req.HTTPMethod, header(req.Headers, req.MultiValueHeaders), body)
	}
	return events.APIGatewayProxyResponse{StatusCode: resp.Status, Body: string(resp.Body), Headers: resp.headers()}, nil
}

func decodeBody(body string, b64 bool) ([]byte, error) {
	if !b64 {
		return []byte(body), nil
	}
	return base64.StdEncoding.DecodeString(body)
}

func header(single map[string]string, multi map[string][]string) http.Header {
	h := http.Header{}
	for k, vs := range multi {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range single {
		if h.Get(k) == "" {
			h.Set(k, v)
		}
	}
	return h
}

// headers are the response's headers as API Gateway takes them.
func (r Response) headers() map[string]string {
	h := map[string]string{"Content-Type": "application/json"}
	for k := range r.Header {
		h[k] = r.Header.Get(k)
	}
	return h
}
