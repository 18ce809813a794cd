package event

import (
	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/tidwall/gjson"
)

// eventBridge maps an EventBridge event: id, source, detail-type -> type,
// time, resources[0] -> subject, detail -> data.
func eventBridge(dst []ce.Event, env *envelope, doc string) ([]ce.Event, error) {
	var id, source, detailType, ts, resources, detail gjson.Result
	gjson.Parse(doc).ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "id":
			id = v
		case "source":
			source = v
		case "detail-type":
			detailType = v
		case "time":
			ts = v
		case "resources":
			resources = v
		case "detail":
			detail = v
		}
		return true
	})
	const shape = "eventbridge"
	var a attrs
	var err error
	if a.id, err = str(shape, "id", id); err != nil {
		return dst, err
	}
	if a.source, err = str(shape, "source", source); err != nil {
		return dst, err
	}
	if a.typ, err = str(shape, "detail-type", detailType); err != nil {
		return dst, err
	}
	if a.time, err = timestamp(shape, "time", ts); err != nil {
		return dst, err
	}
	if resources.Exists() && resources.Type != gjson.Null {
		if !resources.IsArray() {
			return dst, errorf(shape, "resources", "want an array of strings, got %s", kind(resources))
		}
		first := resources.Get("0")
		if first.Exists() {
			if first.Type != gjson.String {
				return dst, errorf(shape, "resources[0]", "want a string, got %s", kind(first))
			}
			a.subject = first.Str
		}
	}
	if detail.Exists() && detail.Type != gjson.Null {
		if !detail.IsObject() {
			return dst, errorf(shape, "detail", "want an object, got %s", kind(detail))
		}
		a.data, a.contentType = []byte(detail.Raw), ContentJSON
	}
	return build(dst, env, shape, a)
}
