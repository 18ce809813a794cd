package operator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eventplane/eventplane/api/v1alpha1"
	"github.com/eventplane/eventplane/consumers/config"
)

// Names and paths shared by the children and the consumer image.
const (
	// ConsumerBinary is the consumer's path in the eventplane image.
	ConsumerBinary = "/usr/local/bin/consumer"
	// AdminPort serves /metrics, /healthz, /readyz and /inflight; /debug
	// listens on the pod's loopback (config.DefaultDebugAddr), for
	// `kubectl port-forward`.
	AdminPort = 9090
	// LabelConsumer on every child and pod names its EventConsumer.
	LabelConsumer = "eventplane.io/consumer"
	// DeletionCostAnnotation steers which pods a ReplicaSet removes first.
	DeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"
	// IRSAAnnotation on a ServiceAccount names the IAM role of its pods.
	IRSAAnnotation = "eks.amazonaws.com/role-arn"
	// KEDAPausedReplicas pauses a ScaledObject at a fixed replica count.
	KEDAPausedReplicas = "autoscaling.keda.sh/paused-replicas"

	configFile = "consumer.json"
	configDir  = "/etc/eventplane"
	// pollSlack covers the long poll the consumer lets finish and the final
	// flush of deletes after its in-flight work is done.
	pollSlack = 30 * time.Second
	nonRootID = 65532
)

// KEDAOptions adjust the ScaledObject's trigger for emulators. Leave them
// empty in a real cluster: KEDA then reads the queue with pod identity.
type KEDAOptions struct {
	// AWSEndpoint points KEDA's aws-sqs-queue scaler at another endpoint.
	AWSEndpoint string
	// CredentialsSecret names a Secret (keys AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY) in the consumer's namespace that the
	// TriggerAuthentication uses instead of pod identity.
	CredentialsSecret string
}

// Children returns the objects an EventConsumer owns, in apply order (what
// the reconciler applies; hack/children renders them for offline checks).
func Children(ec *v1alpha1.EventConsumer, consumerEndpoint string, keda KEDAOptions) ([]client.Object, error) {
	cfg, err := consumerConfig(ec, consumerEndpoint)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(cfg)
	labels := selectorLabels(ec)
	objs := []client.Object{
		serviceAccount(ec),
		&corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: objectMeta(ec, ec.Name+"-config"),
			Data:       map[string]string{configFile: string(cfg)},
		},
		deployment(ec, hex.EncodeToString(sum[:8])),
		&corev1.Service{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: objectMeta(ec, ec.Name),
			Spec: corev1.ServiceSpec{
				Selector: labels,
				Ports: []corev1.ServicePort{{Name: "admin", Port: AdminPort, TargetPort: intstr.FromString("admin"),
					Protocol: corev1.ProtocolTCP}},
			},
		},
		&policyv1.PodDisruptionBudget{
			TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
			ObjectMeta: objectMeta(ec, ec.Name),
			Spec: policyv1.PodDisruptionBudgetSpec{
				MaxUnavailable: ptr(intstr.FromInt32(1)),
				Selector:       &metav1.LabelSelector{MatchLabels: labels},
			},
		},
		triggerAuthentication(ec, keda),
		scaledObject(ec, keda),
	}
	return objs, nil
}

func objectMeta(ec *v1alpha1.EventConsumer, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ec.Namespace, Labels: map[string]string{
		"app.kubernetes.io/name":       "eventplane-consumer",
		"app.kubernetes.io/instance":   ec.Name,
		"app.kubernetes.io/managed-by": "eventplane-operator",
		LabelConsumer:                  ec.Name,
	}}
}

// selectorLabels select an EventConsumer's pods.
func selectorLabels(ec *v1alpha1.EventConsumer) map[string]string {
	return map[string]string{LabelConsumer: ec.Name}
}

func serviceAccount(ec *v1alpha1.EventConsumer) *corev1.ServiceAccount {
	sa := &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: objectMeta(ec, ec.Name),
		// The consumer never calls the Kubernetes API; IRSA and Pod Identity
		// project their own tokens.
		AutomountServiceAccountToken: ptr(false),
	}
	if ec.Spec.Identity.RoleARN != "" {
		sa.Annotations = map[string]string{IRSAAnnotation: ec.Spec.Identity.RoleARN}
	}
	return sa
}

// consumerConfig renders the spec as the consumer's configuration file.
func consumerConfig(ec *v1alpha1.EventConsumer, endpoint string) ([]byte, error) {
	s := ec.Spec
	c := config.Config{
		Queue: config.Queue{URL: s.Queue.URL, DeadLetterURL: s.Queue.DeadLetterURL,
			VisibilityTimeout: config.Duration(s.VisibilityTimeout.Duration)},
		AWS: config.AWS{Region: s.Queue.Region, Endpoint: endpoint},
		Consumer: config.Consumer{
			MaxInFlight: int(s.MaxInFlight), ReceiveBatch: int(s.ReceiveBatch),
			HandlerTimeout: config.Duration(s.HandlerTimeout.Duration), MaxExtension: config.Duration(s.MaxVisibilityExtension.Duration),
			// On SIGTERM the consumer waits this long for in-flight work:
			// as long as a handler may take.
			ShutdownGrace:    config.Duration(s.HandlerTimeout.Duration),
			IdempotencyTable: s.IdempotencyTable,
		},
		Admin: config.Admin{Addr: ":" + strconv.Itoa(AdminPort), DebugAddr: config.DefaultDebugAddr},
		Log:   config.Log{Level: s.LogLevel},
	}
	for _, r := range s.Routes {
		cr := config.Route{Name: r.Name, Handler: r.Handler}
		if r.Pattern != nil {
			cr.Pattern = r.Pattern.Raw
		}
		if r.Options != nil {
			cr.Options = r.Options.Raw
		}
		c.Routes = append(c.Routes, cr)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render consumer config of %s/%s: %w", ec.Namespace, ec.Name, err)
	}
	return b, nil
}

// TerminationGrace is how long a pod may take to stop: the consumer stops
// receiving, lets its last long poll return, finishes what is in flight
// (bounded by the handler timeout) and flushes its deletes. A scale-in
// therefore never cuts a handler short.
func TerminationGrace(ec *v1alpha1.EventConsumer) int64 {
	return int64((ec.Spec.HandlerTimeout.Duration + pollSlack).Seconds())
}

func deployment(ec *v1alpha1.EventConsumer, configHash string) *appsv1.Deployment {
	s := ec.Spec
	labels := selectorLabels(ec)
	podMeta := objectMeta(ec, "")
	podMeta.Name, podMeta.Namespace = "", ""
	for k, v := range s.Pod.Labels {
		if _, ours := podMeta.Labels[k]; !ours {
			podMeta.Labels[k] = v
		}
	}
	podMeta.Annotations = map[string]string{"eventplane.io/config-hash": configHash}
	for k, v := range s.Pod.Annotations {
		if k != "eventplane.io/config-hash" {
			podMeta.Annotations[k] = v
		}
	}
	resources := s.Resources
	if len(resources.Requests) == 0 && len(resources.Limits) == 0 {
		resources = corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
		}
	}
	env := []corev1.EnvVar{{Name: "GOMEMLIMIT", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{
		ContainerName: "consumer", Resource: "limits.memory"}}}}
	if s.Queue.Region != "" {
		env = append(env, corev1.EnvVar{Name: "AWS_REGION", Value: s.Queue.Region})
	}
	env = append(env, s.Env...)
	probe := func(path string, period int32) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("admin")}},
			PeriodSeconds: period, TimeoutSeconds: 2, FailureThreshold: 3}
	}
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: objectMeta(ec, ec.Name),
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: ptr(intstr.FromInt32(0)), MaxSurge: ptr(intstr.FromString("25%"))}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: podMeta,
				Spec: corev1.PodSpec{
					ServiceAccountName:            ec.Name,
					AutomountServiceAccountToken:  ptr(false),
					TerminationGracePeriodSeconds: ptr(TerminationGrace(ec)),
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot: ptr(true), RunAsUser: ptr(int64(nonRootID)), RunAsGroup: ptr(int64(nonRootID)), FSGroup: ptr(int64(nonRootID)),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					NodeSelector:              s.Pod.NodeSelector,
					Tolerations:               s.Pod.Tolerations,
					Affinity:                  s.Pod.Affinity,
					TopologySpreadConstraints: s.Pod.TopologySpreadConstraints,
					PriorityClassName:         s.Pod.PriorityClassName,
					Containers: []corev1.Container{{
						Name:    "consumer",
						Image:   s.Image,
						Command: []string{ConsumerBinary},
						Args:    []string{"--config=" + configDir + "/" + configFile},
						Ports:   []corev1.ContainerPort{{Name: "admin", ContainerPort: AdminPort, Protocol: corev1.ProtocolTCP}},
						Env:     env,
						// Readiness: the consumer has reached the queue;
						// liveness: the process answers.
						ReadinessProbe: probe("/readyz", 5),
						LivenessProbe:  probe("/healthz", 10),
						Resources:      resources,
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: ptr(false), ReadOnlyRootFilesystem: ptr(true), RunAsNonRoot: ptr(true),
							Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
							SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
						},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "config", MountPath: configDir, ReadOnly: true},
							{Name: "tmp", MountPath: "/tmp"},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: ec.Name + "-config"}}}},
						{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptr(resource.MustParse("256Mi"))}}},
					},
				},
			},
		},
	}
	if s.Paused {
		// KEDA holds paused-replicas too; setting it here also stops the
		// consumer when KEDA is not running.
		d.Spec.Replicas = ptr(int32(0))
	}
	return d
}

func triggerAuthentication(ec *v1alpha1.EventConsumer, keda KEDAOptions) *kedav1alpha1.TriggerAuthentication {
	ta := &kedav1alpha1.TriggerAuthentication{
		TypeMeta:   metav1.TypeMeta{APIVersion: "keda.sh/v1alpha1", Kind: "TriggerAuthentication"},
		ObjectMeta: objectMeta(ec, ec.Name),
	}
	switch {
	case keda.CredentialsSecret != "":
		ta.Spec.SecretTargetRef = []kedav1alpha1.AuthSecretTargetRef{
			{Parameter: "awsAccessKeyID", Name: keda.CredentialsSecret, Key: "AWS_ACCESS_KEY_ID"},
			{Parameter: "awsSecretAccessKey", Name: keda.CredentialsSecret, Key: "AWS_SECRET_ACCESS_KEY"},
		}
	case ec.Spec.Identity.RoleARN != "":
		// KEDA assumes the consumer's own IRSA role to read the queue.
		ta.Spec.PodIdentity = &kedav1alpha1.AuthPodIdentity{Provider: kedav1alpha1.PodIdentityProviderAws,
			RoleArn: ptr(ec.Spec.Identity.RoleARN)}
	default:
		// Pod Identity: KEDA reads the queue with its own identity.
		ta.Spec.PodIdentity = &kedav1alpha1.AuthPodIdentity{Provider: kedav1alpha1.PodIdentityProviderAws,
			IdentityOwner: ptr("keda")}
	}
	return ta
}

func scaledObject(ec *v1alpha1.EventConsumer, keda KEDAOptions) *kedav1alpha1.ScaledObject {
	sc := ec.Spec.Scaling
	md := map[string]string{
		"queueURL":              ec.Spec.Queue.URL,
		"queueLength":           strconv.Itoa(int(sc.TargetQueueLength)),
		"activationQueueLength": strconv.Itoa(int(sc.ActivationQueueLength)),
		"scaleOnInFlight":       strconv.FormatBool(sc.ScaleOnInFlight),
		"scaleOnDelayed":        "false",
	}
	if ec.Spec.Queue.Region != "" {
		md["awsRegion"] = ec.Spec.Queue.Region
	}
	if keda.AWSEndpoint != "" {
		md["awsEndpoint"] = keda.AWSEndpoint
	}
	so := &kedav1alpha1.ScaledObject{
		TypeMeta:   metav1.TypeMeta{APIVersion: "keda.sh/v1alpha1", Kind: "ScaledObject"},
		ObjectMeta: objectMeta(ec, ec.Name),
		Spec: kedav1alpha1.ScaledObjectSpec{
			ScaleTargetRef:  &kedav1alpha1.ScaleTarget{APIVersion: "apps/v1", Kind: "Deployment", Name: ec.Name},
			PollingInterval: ptr(sc.PollingIntervalSeconds),
			CooldownPeriod:  ptr(sc.CooldownSeconds),
			MinReplicaCount: ptr(sc.MinReplicas),
			MaxReplicaCount: ptr(sc.MaxReplicas),
			Advanced: &kedav1alpha1.AdvancedConfig{HorizontalPodAutoscalerConfig: &kedav1alpha1.HorizontalPodAutoscalerConfig{
				Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
					ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr(sc.ScaleDownStabilizationSeconds)},
				},
			}},
			Triggers: []kedav1alpha1.ScaleTriggers{{
				Type: "aws-sqs-queue", Name: "queue", Metadata: md,
				AuthenticationRef: &kedav1alpha1.AuthenticationRef{Name: ec.Name, Kind: "TriggerAuthentication"},
			}},
		},
	}
	if ec.Spec.Paused {
		so.Annotations = map[string]string{KEDAPausedReplicas: "0"}
	}
	return so
}

func ptr[T any](v T) *T { return &v }
