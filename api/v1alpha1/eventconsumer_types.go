package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// QueueSpec names the SQS queue a consumer reads.
// +kubebuilder:validation:XValidation:rule="self.fifo == self.url.endsWith('.fifo')",message="a FIFO queue's URL ends in .fifo, and only a FIFO queue's does: set fifo accordingly"
type QueueSpec struct {
	// URL of the queue.
	// +kubebuilder:validation:Pattern=`^https?://.+/[0-9]{12}/[A-Za-z0-9_-]{1,80}(\.fifo)?$`
	URL string `json:"url"`
	// Region of the queue (default: the operator's region).
	// +optional
	Region string `json:"region,omitempty"`
	// FIFO marks a FIFO queue (its URL ends in .fifo).
	// +optional
	// +kubebuilder:default=false
	FIFO bool `json:"fifo"`
	// DeadLetterURL overrides the DLQ from the queue's redrive policy.
	// +optional
	DeadLetterURL string `json:"deadLetterUrl,omitempty"`
}

// RouteSpec sends the events matching Pattern to Handler.
type RouteSpec struct {
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`
	Name string `json:"name"`
	// Pattern is an EventBridge event pattern; absent matches every event.
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Pattern *apiextensionsv1.JSON `json:"pattern,omitempty"`
	// Handler names the handler the route's events go to: a built-in one
	// (log, store, archive, file, publish, sql, aggregate) or one a Go
	// program built with the SDK registers (consumer.Handle("enrich", ...))
	// and the EventConsumer's image runs. The consumer refuses at start a
	// name its image does not register. A letter, then letters, digits, '_',
	// '-' or '.'; at most 63 characters.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[A-Za-z][A-Za-z0-9_.-]*$`
	Handler string `json:"handler"`
	// Options are the handler's settings.
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Options *apiextensionsv1.JSON `json:"options,omitempty"`
}

// ScalingSpec configures KEDA's aws-sqs-queue scaler.
// +kubebuilder:validation:XValidation:rule="self.maxReplicas >= self.minReplicas",message="maxReplicas must be at least minReplicas"
type ScalingSpec struct {
	// MinReplicas, 0 to scale to zero when the queue is empty.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:default=0
	MinReplicas int32 `json:"minReplicas"`
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=10
	MaxReplicas int32 `json:"maxReplicas"`
	// TargetQueueLength is the queue length each replica is meant to handle.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=5
	TargetQueueLength int32 `json:"targetQueueLength"`
	// ActivationQueueLength is the depth above which scaling from zero starts.
	// +kubebuilder:validation:Minimum=0
	// +optional
	ActivationQueueLength int32 `json:"activationQueueLength,omitempty"`
	// PollingIntervalSeconds is how often KEDA reads the queue depth.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=15
	PollingIntervalSeconds int32 `json:"pollingIntervalSeconds"`
	// CooldownSeconds after the last activity before scaling to zero.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:default=120
	CooldownSeconds int32 `json:"cooldownSeconds"`
	// ScaleOnInFlight counts in-flight (received, not deleted) messages too.
	// +kubebuilder:default=true
	ScaleOnInFlight bool `json:"scaleOnInFlight"`
	// ScaleDownStabilizationSeconds of the HPA's scale-down behaviour.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=3600
	// +kubebuilder:default=300
	ScaleDownStabilizationSeconds int32 `json:"scaleDownStabilizationSeconds"`
}

// IdentitySpec is how the consumer's pods get AWS credentials.
// +kubebuilder:validation:XValidation:rule="!(has(self.roleArn) && size(self.roleArn) > 0 && has(self.podIdentity) && self.podIdentity)",message="use either roleArn (IRSA) or podIdentity, not both"
type IdentitySpec struct {
	// RoleARN for IRSA (annotates the ServiceAccount).
	// +optional
	// +kubebuilder:validation:Pattern=`^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$`
	RoleARN string `json:"roleArn,omitempty"`
	// PodIdentity relies on an EKS Pod Identity association for the
	// ServiceAccount (named after the EventConsumer).
	// +optional
	PodIdentity bool `json:"podIdentity,omitempty"`
}

// EventConsumerSpec describes one consumer.
// +kubebuilder:validation:XValidation:rule="duration(self.handlerTimeout) <= duration(self.maxVisibilityExtension)",message="handlerTimeout must not exceed maxVisibilityExtension"
type EventConsumerSpec struct {
	// Image of the consumer.
	// +kubebuilder:validation:MinLength=1
	Image string    `json:"image"`
	Queue QueueSpec `json:"queue"`
	// Routes of the consumer (at least one).
	// +kubebuilder:validation:MinItems=1
	// +listType=map
	// +listMapKey=name
	Routes []RouteSpec `json:"routes"`
	// MaxInFlight messages per replica.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	// +kubebuilder:default=20
	MaxInFlight int32 `json:"maxInFlight"`
	// ReceiveBatch is the messages asked for per receive.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10
	// +kubebuilder:default=10
	ReceiveBatch int32 `json:"receiveBatch"`
	// VisibilityTimeout of received messages (0s: the queue's own).
	// +kubebuilder:default="0s"
	VisibilityTimeout metav1.Duration `json:"visibilityTimeout"`
	// HandlerTimeout bounds one route's handlers for one event.
	// +kubebuilder:default="5m"
	HandlerTimeout metav1.Duration `json:"handlerTimeout"`
	// MaxVisibilityExtension stops heartbeats after holding a message this long.
	// +kubebuilder:default="1h"
	MaxVisibilityExtension metav1.Duration `json:"maxVisibilityExtension"`
	// IdempotencyTable enables DynamoDB idempotency records.
	// +optional
	IdempotencyTable string `json:"idempotencyTable,omitempty"`
	// +optional
	Scaling ScalingSpec `json:"scaling,omitempty"`
	// +optional
	Identity IdentitySpec `json:"identity,omitempty"`
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
	// +optional
	Env []corev1.EnvVar `json:"env,omitempty"`
	// LogLevel of the consumer: debug, info, warn or error.
	// +kubebuilder:validation:Enum=debug;info;warn;error
	// +kubebuilder:default=info
	// +optional
	LogLevel string `json:"logLevel,omitempty"`
	// Pod places and labels the consumer's pods.
	// +optional
	Pod PodSpec `json:"pod,omitempty"`
	// Paused pauses KEDA and scales the consumer to zero.
	// +optional
	Paused bool `json:"paused,omitempty"`
}

// PodSpec is what may be set on the consumer's pods besides the container.
type PodSpec struct {
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
	// +optional
	TopologySpreadConstraints []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
	// +optional
	PriorityClassName string `json:"priorityClassName,omitempty"`
}

// QueueStatus is what SQS reports about the queue.
type QueueStatus struct {
	// DeadLetterURL is the queue's DLQ.
	// +optional
	DeadLetterURL string `json:"deadLetterUrl,omitempty"`
	// +optional
	Depth int32 `json:"depth"`
	// +optional
	InFlight int32 `json:"inFlight"`
	// +optional
	Delayed int32 `json:"delayed"`
	// +optional
	DeadLetterDepth int32 `json:"deadLetterDepth"`
	// +optional
	OldestMessageAgeSeconds int32 `json:"oldestMessageAgeSeconds"`
}

// EventConsumerStatus is the observed state.
type EventConsumerStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, Scaling, Degraded.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// +optional
	Replicas int32 `json:"replicas"`
	// +optional
	ReadyReplicas int32 `json:"readyReplicas"`
	// +optional
	Queue QueueStatus `json:"queue"`
	// Ready mirrors the Ready condition for the printer column.
	// +optional
	Ready string `json:"ready,omitempty"`
	// LastRedrive is the outcome of the last DLQ redrive request.
	// +optional
	LastRedrive *RedriveStatus `json:"lastRedrive,omitempty"`
}

// RedriveStatus records one redrive of the dead-letter queue, asked for by
// setting the annotation eventplane.io/redrive to a new value.
type RedriveStatus struct {
	// Request is the annotation's value that asked for this redrive.
	Request string `json:"request"`
	// Moved is how many messages went back to the queue.
	Moved int32 `json:"moved"`
	// Error is why the redrive stopped early ("" when it completed).
	// +optional
	Error string      `json:"error,omitempty"`
	Time  metav1.Time `json:"time"`
}

// EventConsumer is a consumer of one SQS queue, scaled by KEDA on its depth.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ec;ecs,categories=eventplane
// +kubebuilder:printcolumn:name="QUEUE",type=string,JSONPath=`.spec.queue.url`
// +kubebuilder:printcolumn:name="DEPTH",type=integer,JSONPath=`.status.queue.depth`
// +kubebuilder:printcolumn:name="IN-FLIGHT",type=integer,JSONPath=`.status.queue.inFlight`
// +kubebuilder:printcolumn:name="DLQ",type=integer,JSONPath=`.status.queue.deadLetterDepth`
// +kubebuilder:printcolumn:name="REPLICAS",type=integer,JSONPath=`.status.replicas`
// +kubebuilder:printcolumn:name="READY",type=string,JSONPath=`.status.ready`
// +kubebuilder:printcolumn:name="AGE",type=date,JSONPath=`.metadata.creationTimestamp`
type EventConsumer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   EventConsumerSpec   `json:"spec,omitempty"`
	Status EventConsumerStatus `json:"status,omitempty"`
}

// EventConsumerList is a list of EventConsumers.
// +kubebuilder:object:root=true
type EventConsumerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []EventConsumer `json:"items"`
}
