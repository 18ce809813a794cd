// Package v1alpha1 holds the eventplane.io/v1alpha1 API: the EventConsumer
// resource that the operator turns into a KEDA-scaled consumer Deployment.
// +kubebuilder:object:generate=true
// +groupName=eventplane.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of these types.
	GroupVersion = schema.GroupVersion{Group: "eventplane.io", Version: "v1alpha1"}

	// SchemeBuilder registers the types with a scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types in this group-version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &EventConsumer{}, &EventConsumerList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

// Annotations an EventConsumer reads.
const (
	// RedriveAnnotation asks for a redrive of the consumer's dead-letter
	// queue: set it to a new value (e.g. a timestamp) for each redrive.
	RedriveAnnotation = "eventplane.io/redrive"
)

// Condition types of an EventConsumer's status.
const (
	// ConditionReady: the consumer's Deployment has its desired replicas
	// available (zero counts when the queue is empty or paused).
	ConditionReady = "Ready"
	// ConditionScaling: replicas are changing towards KEDA's target.
	ConditionScaling = "Scaling"
	// ConditionDegraded: the queue cannot be read, messages are in the DLQ
	// or a child could not be applied.
	ConditionDegraded = "Degraded"
)
