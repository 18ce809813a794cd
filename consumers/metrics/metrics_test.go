package metrics_test

import (
	"reflect"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventplane/eventplane/consumers/metrics"
)

// Every collector of Metrics is on its Registry under the eventplane_
// namespace, so /metrics, the dashboards and the EMF lines all see it.
func TestEveryFieldIsRegistered(t *testing.T) {
	m := metrics.New()
	v := reflect.ValueOf(m).Elem()
	want := 0
	for i := range v.NumField() {
		c, ok := v.Field(i).Interface().(prometheus.Collector)
		if !ok || v.Type().Field(i).Name == "Registry" {
			continue
		}
		want++
		if get := reflect.ValueOf(c).MethodByName("GetMetricWithLabelValues"); get.IsValid() {
			for n := range 4 {
				if out := get.CallSlice([]reflect.Value{reflect.ValueOf(make([]string, n))}); out[1].IsNil() {
					break
				}
			}
		}
		// Registering it again must fail as a duplicate: it is already there.
		err := m.Registry.Register(c)
		if _, dup := err.(prometheus.AlreadyRegisteredError); !dup {
			t.Errorf("%s is not registered on Registry (Register: %v)", v.Type().Field(i).Name, err)
		}
	}
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, mf := range mfs {
		if len(mf.GetName()) > len("eventplane_") && mf.GetName()[:len("eventplane_")] == "eventplane_" {
			got++
		}
	}
	if got != want {
		t.Errorf("%d eventplane_ families gathered, want one per field (%d)", got, want)
	}
}
