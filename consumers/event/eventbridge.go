package event

import (
	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/eventplane/eventplane/consumers/jsonscan"
)

// eventBridge maps an EventBridge event: id, source, detail-type -> type,
// time, resources[0] -> subject, detail -> data.
func eventBridge(dst []ce.Event, env *envelope, f *fields) ([]ce.Event, error) {
	const shape = "eventbridge"
	var a attrs
	var err error
	if a.id, err = str(shape, "id", f.id); err != nil {
		return dst, err
	}
	if a.source, err = str(shape, "source", f.source); err != nil {
		return dst, err
	}
	if a.typ, err = str(shape, "detail-type", f.detailType); err != nil {
		return dst, err
	}
	if a.time, err = timestamp(shape, "time", f.time); err != nil {
		return dst, err
	}
	if !jsonscan.IsNull(f.resources) {
		if f.resources[0] != '[' {
			return dst, errorf(shape, "resources", "want an array of strings, got %s", jsonscan.Kind(f.resources))
		}
		if it := jsonscan.ArrayElements(f.resources); it.Next() {
			if a.subject, err = str(shape, "resources[0]", it.Value); err != nil {
				return dst, err
			}
		}
	}
	if !jsonscan.IsNull(f.detail) {
		if f.detail[0] != '{' {
			return dst, errorf(shape, "detail", "want an object, got %s", jsonscan.Kind(f.detail))
		}
		a.data, a.contentType = []byte(f.detail), ContentJSON
	}
	return build(dst, env, shape, a)
}
