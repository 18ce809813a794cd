package event

import (
	"encoding/json"
	"fmt"
)

// sqsMessageJSON is one message as the SQS API (and `aws sqs receive-message`)
// prints it, minus the body.
type sqsMessageJSON struct {
	MessageID         string            `json:"MessageId"`
	Attributes        map[string]string `json:"Attributes"`
	MessageAttributes map[string]struct {
		DataType    string  `json:"DataType"`
		StringValue *string `json:"StringValue"`
	} `json:"MessageAttributes"`
}

// ParseSQSAttributes reads the MessageId, Attributes and MessageAttributes of
// an SQS message in the JSON shape the SQS API returns, and sets them on m.
// Binary message attributes are ignored.
func ParseSQSAttributes(doc []byte, m *Message) error {
	var j sqsMessageJSON
	if err := json.Unmarshal(doc, &j); err != nil {
		return fmt.Errorf("SQS message attributes: %w", err)
	}
	if j.MessageID != "" {
		m.MessageID = j.MessageID
	}
	m.Attributes = j.Attributes
	for name, v := range j.MessageAttributes {
		if v.StringValue == nil {
			continue
		}
		if m.MessageAttributes == nil {
			m.MessageAttributes = make(map[string]string, len(j.MessageAttributes))
		}
		m.MessageAttributes[name] = *v.StringValue
	}
	return nil
}
