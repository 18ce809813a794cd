// Package operator is the controller-runtime reconciler that turns an
// EventConsumer into a running, KEDA-scaled consumer: ServiceAccount,
// ConfigMap, Deployment, Service, PodDisruptionBudget, TriggerAuthentication
// and ScaledObject, kept in sync by server-side apply. It reports the
// queue's depth in the status, redrives the DLQ on request and keeps each
// pod's deletion cost in step with its in-flight work.
package operator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/eventplane/eventplane/api/v1alpha1"
	"github.com/eventplane/eventplane/consumers/sqs"
)

// FieldOwner is the server-side apply field manager of the operator.
const FieldOwner = "eventplane-operator"

// Options configure the reconciler.
type Options struct {
	// SQS returns a client for a region ("" = the operator's default).
	SQS func(ctx context.Context, region string) (sqs.AdminAPI, error)
	// QueuePollInterval is how often the queue's depth is read into the
	// status (default 30s).
	QueuePollInterval time.Duration
	// PeekOldest fills status.queue.oldestMessageAgeSeconds by peeking at
	// the queue head (raises those messages' receive counts).
	PeekOldest bool
	// ConsumerEndpoint is written into consumers' config as the AWS
	// endpoint (emulators only).
	ConsumerEndpoint string
	// KEDA adjusts triggers for emulators.
	KEDA KEDAOptions
	// InFlight reads pods' in-flight work for their deletion cost (nil: the
	// consumer's admin endpoint).
	InFlight InFlightSource
	// DeletionCostInterval is how often deletion costs are refreshed (0:
	// 10s; negative: never).
	DeletionCostInterval time.Duration
}

// Setup registers the reconciler and the deletion-cost updater with mgr.
func Setup(mgr ctrl.Manager, opts Options) error {
	r := &Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(), Recorder: mgr.GetEventRecorder(FieldOwner), Options: opts}
	r.redrives = &Redriver{Client: mgr.GetClient(), Recorder: r.Recorder, SQS: opts.SQS, Workers: 2, Done: r.polls.forget}
	if err := mgr.Add(r.redrives); err != nil {
		return err
	}
	if err := r.SetupWithManager(mgr); err != nil {
		return err
	}
	if opts.DeletionCostInterval < 0 {
		return nil
	}
	src := opts.InFlight
	if src == nil {
		src = AdminInFlight{}
	}
	interval := opts.DeletionCostInterval
	if interval == 0 {
		interval = 10 * time.Second
	}
	return mgr.Add(&DeletionCost{Client: mgr.GetClient(), Source: src, Interval: interval})
}

// NewScheme returns a scheme with every type the operator reads or writes.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1alpha1.AddToScheme, kedav1alpha1.AddToScheme} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Reconciler reconciles EventConsumers.
type Reconciler struct {
	client.Client
	// APIReader reads past the cache (which holds only the operator's own
	// objects) to tell a missing child from someone else's object (nil:
	// the Client).
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	Options   Options

	polls polls
	// redrives runs DLQ redrives outside Reconcile (nil: inline, tests of
	// the reconciler alone).
	redrives *Redriver
}

// +kubebuilder:rbac:groups=eventplane.io,resources=eventconsumers,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=eventplane.io,resources=eventconsumers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=serviceaccounts;configmaps;services,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=keda.sh,resources=scaledobjects;triggerauthentications,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
//
// Leader election uses a Lease in the operator's namespace: a namespaced Role
// in the chart and kustomize/base, not part of this ClusterRole.

// Reconcile applies the children of one EventConsumer and refreshes its
// status; it runs again after the queue poll interval.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	logger := log.FromContext(ctx)
	ec := &v1alpha1.EventConsumer{}
	if err := r.Get(ctx, req.NamespacedName, ec); err != nil {
		if apierrors.IsNotFound(err) {
			forget(req.Namespace, req.Name)
			r.polls.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !ec.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // children go with it (owner references)
	}
	orig := ec.DeepCopy()
	applyErr := r.applyChildren(ctx, ec)
	var conflict *ConflictError
	var stale *staleError
	switch {
	case errors.As(applyErr, &stale):
		// A child changed between the check and the apply: check again
		// soon, without reporting a failure.
		logger.V(1).Info("children changed since the ownership check: checking again", "error", applyErr.Error())
		return ctrl.Result{}, applyErr
	case errors.As(applyErr, &conflict):
		logger.Info("children not applied: conflicting objects", "objects", conflict.Objects)
		r.Recorder.Eventf(ec, nil, corev1.EventTypeWarning, ReasonConflictingObject, "Apply", "%v", conflict)
	case applyErr != nil:
		logger.Error(applyErr, "apply children")
		r.Recorder.Eventf(ec, nil, corev1.EventTypeWarning, "ApplyFailed", "Apply", "%v", applyErr)
	}

	stats, queueErr := r.queueStats(ctx, ec)
	if queueErr == nil {
		r.redrive(ctx, ec, stats)
	}

	dep := &appsv1.Deployment{}
	if conflict == nil { // else a Deployment of that name is not ours to report
		if err := r.Get(ctx, client.ObjectKey{Namespace: ec.Namespace, Name: ec.Name}, dep); err != nil && !apierrors.IsNotFound(err) {
			return ctrl.Result{}, err
		}
	}
	setStatus(ec, dep, stats, queueErr, applyErr)
	// A full update, so that zero counts are written as 0 (a merge patch
	// would leave them out); a conflict is retried.
	if !equality.Semantic.DeepEqual(orig.Status, ec.Status) {
		if err := r.Status().Update(ctx, ec); err != nil {
			return ctrl.Result{}, fmt.Errorf("update status: %w", err)
		}
	}
	if applyErr != nil && conflict == nil {
		return ctrl.Result{}, applyErr // retried with backoff
	}
	// A conflict is looked at again each poll (the foreign object's
	// deletion triggers no watch event of ours): no error backoff loop.
	return ctrl.Result{RequeueAfter: r.pollInterval()}, nil
}

// ReasonConflictingObject is the Ready condition's reason (and the Event's)
// when a child's name is taken by an object this EventConsumer does not
// control.
const ReasonConflictingObject = "ConflictingObject"

// ConflictError names the objects that stand where an EventConsumer's
// children would go and are controlled by something else.
type ConflictError struct{ Objects []string }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s already exist(s) and is not controlled by this EventConsumer: nothing was applied; rename the EventConsumer, or delete or rename the object",
		strings.Join(e.Objects, ", "))
}

// ownership returns, for each child, the object of its name that ec
// controls (nil: none exists yet), or the children whose name is taken by
// an object ec does not control. The cache answers for the operator's own
// objects; a miss is confirmed with a live read, since the cache holds
// only objects labelled as the operator's.
func (r *Reconciler) ownership(ctx context.Context, ec *v1alpha1.EventConsumer, objs []client.Object) ([]client.Object, *ConflictError, error) {
	live := r.APIReader
	if live == nil {
		live = r.Client
	}
	seen := make([]client.Object, len(objs))
	var names []string
	for i, obj := range objs {
		existing, ok := obj.DeepCopyObject().(client.Object)
		if !ok {
			return nil, nil, fmt.Errorf("%T is not a client.Object", obj)
		}
		key := client.ObjectKeyFromObject(obj)
		err := r.Get(ctx, key, existing)
		if err == nil && metav1.IsControlledBy(existing, ec) {
			seen[i] = existing
			continue
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, nil, err
		}
		err = live.Get(ctx, key, existing)
		switch {
		case apierrors.IsNotFound(err):
			continue // free: created (create-only) below
		case err != nil:
			return nil, nil, err
		case metav1.IsControlledBy(existing, ec):
			seen[i] = existing
			continue
		}
		names = append(names, childName(obj))
	}
	if len(names) == 0 {
		return seen, nil, nil
	}
	return nil, &ConflictError{Objects: names}, nil
}

func childName(obj client.Object) string {
	return fmt.Sprintf("%s %s/%s", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetNamespace(), obj.GetName())
}

func (r *Reconciler) pollInterval() time.Duration {
	if r.Options.QueuePollInterval > 0 {
		return r.Options.QueuePollInterval
	}
	return 30 * time.Second
}

// applyChildren server-side applies every child with the EventConsumer as
// controlling owner. Fields the operator does not set (the replica count
// KEDA's HPA manages, defaults) are left to their owners; a change someone
// else makes to a field the operator sets is reverted.
//
// The ownership check and the writes are not one step, so neither write
// may take over an object that appeared or changed in between: a missing
// child is created with a create-only POST (the API server refuses it with
// AlreadyExists when the name was taken meanwhile: a ConflictError), and an
// existing one is applied with the resourceVersion the check saw as a
// precondition (the API server refuses it with 409 Conflict when the object
// was replaced or changed since: retried, and checked again).
func (r *Reconciler) applyChildren(ctx context.Context, ec *v1alpha1.EventConsumer) error {
	objs, err := Children(ec, r.Options.ConsumerEndpoint, r.Options.KEDA)
	if err != nil {
		return err
	}
	// All or nothing: a ScaledObject applied next to someone else's
	// Deployment of the same name would have KEDA scale it.
	seen, conflict, err := r.ownership(ctx, ec, objs)
	if err != nil {
		return fmt.Errorf("check ownership of children: %w", err)
	} else if conflict != nil {
		return conflict
	}
	var errs []error
	for i, obj := range objs {
		if err := controllerutil.SetControllerReference(ec, obj, r.Scheme); err != nil {
			return err
		}
		if seen[i] == nil {
			if err := r.create(ctx, ec, obj); err != nil {
				if errors.As(err, &conflict) {
					return err // stop: nothing after it (the ScaledObject) is written
				}
				errs = append(errs, err)
			}
			continue
		}
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return err
		}
		delete(u, "status")
		unstructured.RemoveNestedField(u, "metadata", "creationTimestamp")
		unstructured.RemoveNestedField(u, "spec", "template", "metadata", "creationTimestamp")
		// The precondition: the API server applies only onto the object
		// the ownership check saw.
		if err := unstructured.SetNestedField(u, seen[i].GetResourceVersion(), "metadata", "resourceVersion"); err != nil {
			return err
		}
		ac := client.ApplyConfigurationFromUnstructured(&unstructured.Unstructured{Object: u})
		if err := r.Apply(ctx, ac, client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
			if apierrors.IsConflict(err) {
				err = &staleError{child: childName(obj), err: err}
			}
			errs = append(errs, fmt.Errorf("apply %s %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err))
		}
	}
	return errors.Join(errs...)
}

// staleError is an apply the API server refused because the child changed
// after the ownership check read it (ForceOwnership takes every field, so
// a 409 is the resourceVersion precondition): the reconcile runs again.
type staleError struct {
	child string
	err   error
}

func (e *staleError) Error() string {
	return fmt.Sprintf("%s changed since the ownership check, not applied (checked again): %v", e.child, e.err)
}

func (e *staleError) Unwrap() error { return e.err }

// create writes a missing child with a create-only POST. A Deployment is
// created with minReplicas (0 when paused) instead of the API's default of
// 1, so a consumer that scales to zero does not start a pod before KEDA
// first looks at its queue.
//
// A POST records its fields under an Update entry of the field manager, and
// a field that an Update entry still owns is not removed when a later apply
// drops it; so the created fields are handed to the operator's Apply entry
// (as kubectl's client-side-to-server-side upgrade does), except a
// Deployment's replica count, which stays with a separate Update entry that
// later applies leave to KEDA's HPA.
func (r *Reconciler) create(ctx context.Context, ec *v1alpha1.EventConsumer, obj client.Object) error {
	first, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return fmt.Errorf("%T is not a client.Object", obj)
	}
	d, isDeployment := first.(*appsv1.Deployment)
	if isDeployment {
		d.Spec.Replicas = ptr(ec.Spec.Scaling.MinReplicas)
		if ec.Spec.Paused {
			d.Spec.Replicas = ptr(int32(0))
		}
	}
	kind := obj.GetObjectKind().GroupVersionKind().Kind
	if err := r.Create(ctx, first, client.FieldOwner(FieldOwner)); err != nil {
		if apierrors.IsAlreadyExists(err) {
			// Taken since the check: by someone else, or by an earlier
			// reconcile whose object the cache has not seen yet; the next
			// check tells which.
			return &ConflictError{Objects: []string{childName(obj)}}
		}
		return fmt.Errorf("create %s %s: %w", kind, obj.GetName(), err)
	}
	var keep *fieldpath.Set
	if isDeployment {
		keep = fieldpath.NewSet(fieldpath.MakePathOrDie("spec", "replicas"))
	}
	live := r.APIReader
	if live == nil {
		live = r.Client
	}
	// The update carries the resourceVersion it read: a controller that
	// wrote meanwhile (the Deployment controller's first status) makes it
	// 409, and it is redone on the object as it is now, provided that is
	// still the one created here.
	cur, uid := first, first.GetUID()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		mf, err := handOver(cur.GetManagedFields(), keep)
		if err != nil {
			return err
		}
		cur.SetManagedFields(mf)
		err = r.Update(ctx, cur, client.FieldOwner(FieldOwner))
		if !apierrors.IsConflict(err) {
			return err
		}
		fresh, _ := obj.DeepCopyObject().(client.Object)
		if gerr := live.Get(ctx, client.ObjectKeyFromObject(obj), fresh); gerr != nil {
			return gerr
		}
		if fresh.GetUID() != uid {
			return fmt.Errorf("replaced since it was created: %w", err)
		}
		cur = fresh
		return err
	})
	if err != nil {
		return fmt.Errorf("created %s %s: hand its fields to the apply: %w", kind, obj.GetName(), err)
	}
	return nil
}

// handOver turns the operator's Update entry of a created object's managed
// fields into its Apply entry, leaving the fields of keep (if any) to an
// Update entry of FieldOwner+"-create".
func handOver(entries []metav1.ManagedFieldsEntry, keep *fieldpath.Set) ([]metav1.ManagedFieldsEntry, error) {
	var out []metav1.ManagedFieldsEntry
	for _, e := range entries {
		if e.Manager != FieldOwner || e.Operation != metav1.ManagedFieldsOperationUpdate || e.Subresource != "" || e.FieldsV1 == nil {
			out = append(out, e)
			continue
		}
		set := &fieldpath.Set{}
		if err := set.FromJSON(bytes.NewReader(e.FieldsV1.GetRawBytes())); err != nil {
			return nil, fmt.Errorf("read managed fields: %w", err)
		}
		if keep != nil && !keep.Intersection(set).Empty() {
			kept, err := keep.Intersection(set).ToJSON()
			if err != nil {
				return nil, err
			}
			create := e
			create.Manager, create.FieldsV1 = FieldOwner+"-create", metav1.NewFieldsV1(string(kept))
			out = append(out, create)
			set = set.Difference(keep)
		}
		raw, err := set.ToJSON()
		if err != nil {
			return nil, err
		}
		e.Operation, e.FieldsV1 = metav1.ManagedFieldsOperationApply, metav1.NewFieldsV1(string(raw))
		out = append(out, e)
	}
	return out, nil
}

// queueStats reads the queue's figures, at most once per poll interval per
// EventConsumer: reconciles between polls (a Deployment's status changing
// during a rollout or a scale, a spec edit) reuse the last figures instead
// of costing two SQS requests each. A new queue URL, or a finished
// redrive, polls at once.
func (r *Reconciler) queueStats(ctx context.Context, ec *v1alpha1.EventConsumer) (sqs.Stats, error) {
	key := client.ObjectKeyFromObject(ec)
	// 0.9: the poll requeue comes back after the full interval, and must poll.
	if st, ok := r.polls.fresh(key, ec.Spec.Queue.URL, r.pollInterval()*9/10); ok {
		return st, nil
	}
	var stats sqs.Stats
	api, err := r.Options.SQS(ctx, ec.Spec.Queue.Region)
	if err == nil {
		// The DLQ URL resolved from the redrive policy on an earlier poll
		// saves a GetQueueUrl per poll: 2 requests (queue, DLQ) per poll.
		dlq := ec.Spec.Queue.DeadLetterURL
		if dlq == "" {
			dlq = ec.Status.Queue.DeadLetterURL
		}
		stats, err = sqs.QueueStats(ctx, api, ec.Spec.Queue.URL, dlq, r.Options.PeekOldest)
	}
	recordStats(ec.Namespace, ec.Name, stats, r.Options.PeekOldest, err)
	if err == nil {
		r.polls.put(key, ec.Spec.Queue.URL, stats)
	} else {
		r.polls.forget(key)
	}
	return stats, err
}

// redrive hands a redrive request not yet handled to the Redriver, which
// moves the DLQ back to the queue outside the reconcile and records the
// outcome in status.lastRedrive.
func (r *Reconciler) redrive(ctx context.Context, ec *v1alpha1.EventConsumer, stats sqs.Stats) {
	req := ec.Annotations[v1alpha1.RedriveAnnotation]
	if req == "" || (ec.Status.LastRedrive != nil && ec.Status.LastRedrive.Request == req) {
		return
	}
	job := redriveJob{key: client.ObjectKeyFromObject(ec), request: req, region: ec.Spec.Queue.Region,
		queue: ec.Spec.Queue.URL, deadLetter: stats.DeadLetterURL}
	if r.redrives == nil {
		ec.Status.LastRedrive = runRedrive(ctx, r.Options.SQS, r.Recorder, ec, job)
		return
	}
	r.redrives.Submit(job)
}

// setStatus fills the observed state and the Ready, Scaling and Degraded
// conditions.
func setStatus(ec *v1alpha1.EventConsumer, dep *appsv1.Deployment, stats sqs.Stats, queueErr, applyErr error) {
	st := &ec.Status
	st.ObservedGeneration = ec.Generation
	if queueErr == nil {
		st.Queue = v1alpha1.QueueStatus{
			DeadLetterURL: stats.DeadLetterURL, Depth: int32(stats.Depth), InFlight: int32(stats.InFlight), Delayed: int32(stats.Delayed), // #nosec G115 -- SQS approximate message counts, below 2^31 (the CRD status is int32)
			DeadLetterDepth: int32(stats.DeadLetterDepth), OldestMessageAgeSeconds: int32(stats.OldestAge.Seconds()), // #nosec G115 -- an SQS count and a message age in seconds (at most 14 days)
		}
	}
	desired := int32(0)
	if dep.Spec.Replicas != nil {
		desired = *dep.Spec.Replicas
	}
	st.Replicas, st.ReadyReplicas = dep.Status.Replicas, dep.Status.ReadyReplicas
	cond := func(t string, ok bool, reason, msg string) {
		s := metav1.ConditionFalse
		if ok {
			s = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: t, Status: s, Reason: reason, Message: msg, ObservedGeneration: ec.Generation})
	}
	var conflict *ConflictError
	switch {
	case errors.As(applyErr, &conflict):
		cond(v1alpha1.ConditionReady, false, ReasonConflictingObject, conflict.Error())
	case dep.Name == "":
		cond(v1alpha1.ConditionReady, false, "DeploymentMissing", "the consumer's Deployment does not exist yet")
	case ec.Spec.Paused:
		cond(v1alpha1.ConditionReady, desired == 0 && dep.Status.Replicas == 0, "Paused", "paused: KEDA holds the consumer at zero replicas")
	case desired == 0:
		cond(v1alpha1.ConditionReady, true, "ScaledToZero", "no replicas wanted: the queue is below the activation length")
	case dep.Status.AvailableReplicas >= desired && dep.Status.UpdatedReplicas >= desired:
		cond(v1alpha1.ConditionReady, true, "Available", fmt.Sprintf("%d of %d replicas available", dep.Status.AvailableReplicas, desired))
	default:
		cond(v1alpha1.ConditionReady, false, "Unavailable", fmt.Sprintf("%d of %d replicas available", dep.Status.AvailableReplicas, desired))
	}
	switch {
	case dep.Status.Replicas < desired:
		cond(v1alpha1.ConditionScaling, true, "ScalingUp", fmt.Sprintf("%d -> %d replicas", dep.Status.Replicas, desired))
	case dep.Status.Replicas > desired:
		cond(v1alpha1.ConditionScaling, true, "ScalingDown", fmt.Sprintf("%d -> %d replicas", dep.Status.Replicas, desired))
	default:
		cond(v1alpha1.ConditionScaling, false, "Stable", fmt.Sprintf("%d replicas", desired))
	}
	switch {
	case applyErr != nil:
		cond(v1alpha1.ConditionDegraded, true, "ApplyFailed", applyErr.Error())
	case queueErr != nil:
		cond(v1alpha1.ConditionDegraded, true, "QueueUnreadable", queueErr.Error())
	case stats.DeadLetterDepth > 0:
		cond(v1alpha1.ConditionDegraded, true, "DeadLetters",
			fmt.Sprintf("%d messages in the dead-letter queue %s: inspect them, fix the cause, then set the %s annotation to redrive", stats.DeadLetterDepth, stats.DeadLetterURL, v1alpha1.RedriveAnnotation))
	default:
		cond(v1alpha1.ConditionDegraded, false, "Healthy", "queue readable, dead-letter queue empty")
	}
	st.Ready = string(meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady).Status)
}

// SetupWithManager registers the reconciler; changes to any child trigger a
// reconcile of its owner, which reverts drift.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		// Status writes do not re-trigger; spec and annotation changes do.
		For(&v1alpha1.EventConsumer{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(&corev1.ServiceAccount{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.Service{}).
		Owns(&appsv1.Deployment{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&kedav1alpha1.ScaledObject{}).
		Owns(&kedav1alpha1.TriggerAuthentication{}).
		Complete(r)
}
