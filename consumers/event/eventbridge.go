package event

import (
	"strconv"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/eventplane/eventplane/consumers/jsonscan"
)

// eventBridge maps an EventBridge event: id, source, detail-type -> type,
// time, resources[0] -> subject, detail -> data; a detail that carries a
// CloudEvent's attributes (DetailKey) gives them back instead.
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
	if f.time != "" && f.time[0] != '"' && f.time[0] != 'n' {
		// Some emulators write the time as epoch seconds; AWS writes RFC 3339.
		secs, perr := strconv.ParseFloat(f.time, 64)
		if perr != nil || secs < 0 || secs > 1e11 {
			return dst, errorf(shape, "time", "want an RFC 3339 time string or epoch seconds, got %s", jsonscan.Kind(f.time))
		}
		a.time = time.Unix(0, int64(secs*1e9)).UTC()
	} else if a.time, err = timestamp(shape, "time", f.time); err != nil {
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
		// A CloudEvent put on the bus by eventplane carries its own
		// attributes: EventBridge's id and time are the bus's, not the
		// producer's (see DetailKey); the detail is the data otherwise.
		rest, carried, ok := splitDetail(f.detail)
		if !ok {
			a.data, a.contentType = []byte(f.detail), ContentJSON
		} else {
			a.contentType = ContentJSON
			c, err := readCarriage(carried)
			if err != nil {
				return dst, err
			}
			if err := applyCarriage(&a, c, rest); err != nil {
				return dst, err
			}
		}
	}
	return build(dst, env, shape, a)
}
