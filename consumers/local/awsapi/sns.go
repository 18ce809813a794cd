package awsapi

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// SNS over the query protocol: a form-encoded POST with Action and
// Version, an XML response in the 2010-03-31 namespace, errors as
// <ErrorResponse><Error><Type/><Code/><Message/></Error></ErrorResponse>.
const snsNS = "http://sns.amazonaws.com/doc/2010-03-31/"

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		s.snsFail(w, &apiError{Code: "MalformedQueryString", Message: err.Error()})
		return
	}
	f := r.PostForm
	var out any
	var err error
	switch a := f.Get("Action"); a {
	case "Publish":
		out, err = s.publish(r, f)
	case "PublishBatch":
		out, err = s.publishBatch(r, f)
	case "ListTopics":
		out = s.listTopics()
	case "":
		err = &apiError{Code: "MissingAction", Message: "the request has no Action (eventplane dev serves SNS's query protocol, SQS and EventBridge over AWS JSON with X-Amz-Target)"}
	default:
		err = &apiError{Code: "InvalidAction", Message: fmt.Sprintf("eventplane dev does not implement the query action %s (SNS: Publish, PublishBatch, ListTopics; SQS only over the JSON protocol)", a)}
	}
	if err != nil {
		var e *apiError
		if !errors.As(err, &e) {
			e = &apiError{Code: "InternalError", Message: err.Error(), Server: true}
		}
		s.snsFail(w, e)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(out)
}

func (s *Server) snsFail(w http.ResponseWriter, e *apiError) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
		switch {
		case e.Server:
			status = http.StatusInternalServerError
		case e.Code == "NotFound":
			status = http.StatusNotFound
		}
	}
	typ := "Sender"
	if e.Server {
		typ = "Receiver"
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	type er struct {
		Type, Code, Message string
	}
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		NS        string   `xml:"xmlns,attr"`
		Error     er
		RequestID string `xml:"RequestId"`
	}{NS: snsNS, Error: er{typ, e.Code, e.Message}, RequestID: w.Header().Get("x-amzn-RequestId")})
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

// snsAttributes reads <prefix>.entry.N.Name / .Value.DataType /
// .Value.StringValue.
func snsAttributes(f url.Values, prefix string) (map[string]snstypes.MessageAttributeValue, error) {
	out := map[string]snstypes.MessageAttributeValue{}
	for i := 1; ; i++ {
		p := prefix + ".entry." + strconv.Itoa(i) + "."
		name := f.Get(p + "Name")
		if name == "" {
			break
		}
		dt, sv := f.Get(p+"Value.DataType"), f.Get(p+"Value.StringValue")
		base, _, _ := strings.Cut(dt, ".")
		switch {
		case base == "Binary":
			return nil, invalidParameter("message attribute %s: Binary attributes are not supported by eventplane dev", name)
		case base != "String" && base != "Number":
			return nil, invalidParameter("message attribute %s has the invalid DataType %q (String, String.Array or Number)", name, dt)
		case !f.Has(p + "Value.StringValue"):
			return nil, invalidParameter("message attribute %s has no StringValue", name)
		}
		out[name] = snstypes.MessageAttributeValue{DataType: aws.String(dt), StringValue: aws.String(sv)}
	}
	if len(out) > 10 {
		return nil, invalidParameter("a message can have at most 10 message attributes")
	}
	return out, nil
}

func invalidParameter(format string, args ...any) *apiError {
	return &apiError{Code: "InvalidParameter", Message: "Invalid parameter: " + fmt.Sprintf(format, args...)}
}

// publishOne publishes one message to a topic of the topology.
func (s *Server) publishOne(r *http.Request, topicARN, message string, attrs map[string]snstypes.MessageAttributeValue) (string, error) {
	if topicARN == "" {
		return "", invalidParameter("TopicArn or TargetArn is required (eventplane dev has no SMS: no PhoneNumber)")
	}
	if message == "" {
		return "", invalidParameter("Empty message")
	}
	if len(message) > 262144 {
		return "", invalidParameter("Message too long (%d bytes, at most 262144)", len(message))
	}
	out, err := s.p.Publish(r.Context(), &sns.PublishInput{TopicArn: aws.String(topicARN), Message: aws.String(message), MessageAttributes: attrs})
	var nf *snstypes.NotFoundException
	if errors.As(err, &nf) {
		return "", &apiError{Code: "NotFound", Message: fmt.Sprintf("Topic does not exist: %s (topics: %s)", topicARN, strings.Join(s.p.TopicARNs(), ", "))}
	}
	if err != nil {
		return "", err
	}
	return aws.ToString(out.MessageId), nil
}

func (s *Server) publish(r *http.Request, f url.Values) (any, error) {
	attrs, err := snsAttributes(f, "MessageAttributes")
	if err != nil {
		return nil, err
	}
	if f.Get("MessageStructure") == "json" {
		return nil, invalidParameter("MessageStructure json is not supported by eventplane dev")
	}
	arn := f.Get("TopicArn")
	if arn == "" {
		arn = f.Get("TargetArn")
	}
	id, err := s.publishOne(r, arn, f.Get("Message"), attrs)
	if err != nil {
		return nil, err
	}
	type result struct {
		MessageID string `xml:"MessageId"`
	}
	return struct {
		XMLName          xml.Name `xml:"PublishResponse"`
		NS               string   `xml:"xmlns,attr"`
		PublishResult    result
		ResponseMetadata responseMetadata
	}{NS: snsNS, PublishResult: result{id}, ResponseMetadata: responseMetadata{requestID()}}, nil
}

func (s *Server) publishBatch(r *http.Request, f url.Values) (any, error) {
	arn := f.Get("TopicArn")
	if arn == "" {
		return nil, invalidParameter("TopicArn is required")
	}
	if !slices.Contains(s.p.TopicARNs(), arn) {
		return nil, &apiError{Code: "NotFound", Message: fmt.Sprintf("Topic does not exist: %s (topics: %s)", arn, strings.Join(s.p.TopicARNs(), ", "))}
	}
	type ok struct {
		ID        string `xml:"Id"`
		MessageID string `xml:"MessageId"`
	}
	type failed struct {
		ID          string `xml:"Id"`
		Code        string
		Message     string
		SenderFault bool
	}
	var oks []ok
	var fails []failed
	var ids []string
	for i := 1; ; i++ {
		p := "PublishBatchRequestEntries.member." + strconv.Itoa(i) + "."
		if !f.Has(p + "Id") {
			break
		}
		ids = append(ids, f.Get(p+"Id"))
	}
	switch {
	case len(ids) == 0:
		return nil, &apiError{Code: "EmptyBatchRequest", Message: "The batch request doesn't contain any entries"}
	case len(ids) > 10:
		return nil, &apiError{Code: "TooManyEntriesInBatchRequest", Message: fmt.Sprintf("The batch request contains %d entries; at most 10", len(ids))}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			return nil, &apiError{Code: "BatchEntryIdsNotDistinct", Message: fmt.Sprintf("Two or more batch entries have the Id %s", id)}
		}
		seen[id] = true
	}
	for i, id := range ids {
		p := "PublishBatchRequestEntries.member." + strconv.Itoa(i+1) + "."
		attrs, err := snsAttributes(f, p+"MessageAttributes")
		if err == nil {
			var mid string
			if mid, err = s.publishOne(r, arn, f.Get(p+"Message"), attrs); err == nil {
				oks = append(oks, ok{id, mid})
				continue
			}
		}
		var e *apiError
		if !errors.As(err, &e) {
			e = &apiError{Code: "InternalError", Message: err.Error(), Server: true}
		}
		fails = append(fails, failed{id, e.Code, e.Message, !e.Server})
	}
	type result struct {
		Successful struct {
			Member []ok `xml:"member"`
		}
		Failed struct {
			Member []failed `xml:"member"`
		}
	}
	var res result
	res.Successful.Member, res.Failed.Member = oks, fails
	return struct {
		XMLName            xml.Name `xml:"PublishBatchResponse"`
		NS                 string   `xml:"xmlns,attr"`
		PublishBatchResult result
		ResponseMetadata   responseMetadata
	}{NS: snsNS, PublishBatchResult: res, ResponseMetadata: responseMetadata{requestID()}}, nil
}

func (s *Server) listTopics() any {
	type member struct {
		TopicArn string //nolint:revive // the API's member name
	}
	var topics []member
	arns := s.p.TopicARNs()
	slices.Sort(arns)
	for _, a := range arns {
		topics = append(topics, member{a})
	}
	type result struct {
		Topics struct {
			Member []member `xml:"member"`
		}
	}
	var res result
	res.Topics.Member = topics
	return struct {
		XMLName          xml.Name `xml:"ListTopicsResponse"`
		NS               string   `xml:"xmlns,attr"`
		ListTopicsResult result
		ResponseMetadata responseMetadata
	}{NS: snsNS, ListTopicsResult: res, ResponseMetadata: responseMetadata{requestID()}}
}
