package render

import (
	"crypto/rand"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// service is the resolved context of one render: the inputs plus every
// derived name and size, shared by the drivers and the guard rails.
type service struct {
	in   *Inputs
	work *fleetv1alpha1.ServiceWork
	ref  fleetv1alpha1.ServiceReference
	// name is the ManagedService's name; engine objects are named after it.
	name string
	// namespace is the platform namespace.
	namespace     string
	provider      bool
	consumer      bool
	colocated     bool
	clusterDomain string

	// Provider only.
	tmpl      *fleetv1alpha1.ServiceTemplate
	flavour   Flavour
	driver    driver
	exposure  Exposure
	resources corev1.ResourceRequirements
}

// hasRole reports whether the work carries role r.
func hasRole(w *fleetv1alpha1.ServiceWork, r fleetv1alpha1.WorkRole) bool {
	return slices.Contains(w.Spec.Roles, r)
}

// newService validates the inputs and resolves the render context. Every
// error names the offending field.
func newService(in *Inputs) (*service, error) {
	if in.Work == nil {
		return nil, fmt.Errorf("inputs.work is required")
	}
	if in.Member == "" {
		return nil, fmt.Errorf("inputs.member is required")
	}
	w := in.Work
	s := &service{
		in: in, work: w, ref: w.Spec.ServiceRef, name: w.Spec.ServiceRef.Name,
		provider: hasRole(w, fleetv1alpha1.RoleProvider), consumer: hasRole(w, fleetv1alpha1.RoleConsumer),
		colocated: w.Spec.Consumer.Cluster == in.Member, clusterDomain: in.ClusterDomain,
	}
	if s.clusterDomain == "" {
		s.clusterDomain = "cluster.local"
	}
	if w.Name == "" || w.Namespace == "" {
		return nil, fmt.Errorf("metadata.name and metadata.namespace of the ServiceWork are required")
	}
	for i, r := range w.Spec.Roles {
		if r != fleetv1alpha1.RoleProvider && r != fleetv1alpha1.RoleConsumer {
			return nil, fmt.Errorf("spec.roles[%d]: unknown role %q", i, r)
		}
	}
	if !s.provider && !s.consumer {
		return nil, fmt.Errorf("spec.roles must hold Provider, Consumer or both")
	}
	if err := validateRef(s.ref); err != nil {
		return nil, err
	}
	s.namespace = PlatformNamespace(s.ref)
	if in.PlatformNamespace != "" && in.PlatformNamespace != s.namespace {
		if legacy := LegacyPlatformNamespace(s.ref); in.PlatformNamespace != legacy {
			return nil, fmt.Errorf("inputs.platformNamespace %q: must be empty, %q or the legacy %q", in.PlatformNamespace, s.namespace, legacy)
		}
		s.namespace = in.PlatformNamespace
	}
	if err := validateConsumer(w.Spec.Consumer); err != nil {
		return nil, err
	}
	if s.provider && s.consumer && !s.colocated {
		return nil, fmt.Errorf("spec.consumer.cluster is %q but this member is %q: only a co-located work carries both roles",
			w.Spec.Consumer.Cluster, in.Member)
	}
	if s.consumer && !s.provider {
		if w.Spec.Provider == nil {
			return nil, fmt.Errorf("spec.provider is required for role Consumer")
		}
		if w.Spec.Provider.Cluster == in.Member {
			return nil, fmt.Errorf("spec.provider.cluster names this member %q: a co-located service needs one ServiceWork with both roles", in.Member)
		}
	}
	if s.provider {
		if err := s.resolveProvider(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// validateRef checks the ManagedService reference, whose name names
// Services and Secrets.
func validateRef(ref fleetv1alpha1.ServiceReference) error {
	if errs := validation.IsDNS1123Label(ref.Namespace); len(errs) > 0 {
		return fmt.Errorf("spec.serviceRef.namespace %q: %s", ref.Namespace, errs[0])
	}
	if errs := validation.IsDNS1035Label(ref.Name); len(errs) > 0 {
		return fmt.Errorf("spec.serviceRef.name %q: %s", ref.Name, errs[0])
	}
	if len(ref.Name) > 40 {
		return fmt.Errorf("spec.serviceRef.name %q: must be at most 40 characters", ref.Name)
	}
	return nil
}

// validateConsumer checks the consumer cluster and namespaces.
func validateConsumer(c fleetv1alpha1.ConsumerSpec) error {
	if c.Cluster == "" {
		return fmt.Errorf("spec.consumer.cluster is required")
	}
	if len(c.Namespaces) == 0 {
		return fmt.Errorf("spec.consumer.namespaces must name at least one namespace")
	}
	for i, ns := range c.Namespaces {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return fmt.Errorf("spec.consumer.namespaces[%d] %q: %s", i, ns, errs[0])
		}
	}
	return nil
}

// resolveProvider validates the ServiceTemplate and picks the flavour, the
// driver, the exposure and the effective resources.
func (s *service) resolveProvider() error {
	t := s.work.Spec.Service
	if t == nil {
		return fmt.Errorf("spec.service is required for role Provider")
	}
	s.tmpl = t
	versions, ok := fleetv1alpha1.SupportedVersions[t.Engine]
	if !ok {
		return fmt.Errorf("spec.service.engine: unknown engine %q", t.Engine)
	}
	if !slices.Contains(versions, t.Version) {
		return fmt.Errorf("spec.service.version %q is not supported for engine %s (supported: %v)", t.Version, t.Engine, versions)
	}
	if t.Replicas < 1 {
		return fmt.Errorf("spec.service.replicas must be at least 1, got %d", t.Replicas)
	}
	if t.Storage.Size.Sign() <= 0 {
		return fmt.Errorf("spec.service.storage.size must be positive, got %q", t.Storage.Size.String())
	}
	res, err := effectiveResources(t.Resources)
	if err != nil {
		return err
	}
	s.resources = res

	flavour := s.in.Flavour
	if flavour == "" {
		flavour = SelectFlavour(t.Engine, s.in.Capabilities)
	}
	d, err := driverFor(t.Engine, flavour)
	if err != nil {
		return err
	}
	if op := d.operator(); op != "" && !slices.Contains(s.in.Capabilities.Operators, op) {
		return fmt.Errorf("inputs.flavour %s needs operator %s, which capabilities.operators does not report", flavour, op)
	}
	s.flavour, s.driver = flavour, d
	if !s.colocated {
		s.exposure = SelectExposure(s.in.Capabilities)
	}
	return nil
}

// SelectFlavour chooses how to run an engine from the member's capabilities:
// the engine's operator when it is installed, else the built-in StatefulSet.
func SelectFlavour(engine fleetv1alpha1.Engine, caps fleetv1alpha1.Capabilities) Flavour {
	for _, c := range []struct {
		engine   fleetv1alpha1.Engine
		operator fleetv1alpha1.Operator
		flavour  Flavour
	}{
		{fleetv1alpha1.EnginePostgreSQL, fleetv1alpha1.OperatorZalandoPostgres, FlavourZalando},
		{fleetv1alpha1.EngineRedis, fleetv1alpha1.OperatorSpotahomeRedis, FlavourSpotahome},
		{fleetv1alpha1.EngineRabbitMQ, fleetv1alpha1.OperatorRabbitMQ, FlavourRabbitMQOperator},
	} {
		if engine == c.engine && slices.Contains(caps.Operators, c.operator) {
			return c.flavour
		}
	}
	return FlavourBuiltIn
}

// SelectExposure chooses how a provider is reached from another cluster: a
// Cilium global service when ClusterMesh is configured, else a LoadBalancer
// when the member has one, else a NodePort (many providers lack
// LoadBalancers, as the decision record notes).
func SelectExposure(caps fleetv1alpha1.Capabilities) Exposure {
	switch {
	case caps.ClusterMesh && caps.Cilium:
		return ExposureClusterMesh
	case caps.LoadBalancer:
		return ExposureLoadBalancer
	default:
		return ExposureNodePort
	}
}

// Render turns a ServiceWork into the objects the spoke applies with
// server-side apply. It is pure: the same inputs give the same objects,
// except that a credentials Secret that does not exist yet gets a fresh
// password (see Inputs.GeneratedCredentials).
func Render(in Inputs) (*Result, error) {
	if in.Rand == nil {
		in.Rand = rand.Reader
	}
	s, err := newService(&in)
	if err != nil {
		return nil, err
	}
	res := &Result{Namespace: s.namespace}
	var objs []*unstructured.Unstructured
	add := func(us ...*unstructured.Unstructured) { objs = append(objs, us...) }

	if s.provider {
		res.Flavour, res.Exposure = s.flavour, s.exposure
		guards, err := s.guardRails()
		if err != nil {
			return nil, err
		}
		add(guards...)
		if s.driver.generatesCredentials() {
			sec, err := s.generatedSecret()
			if err != nil {
				return nil, err
			}
			add(sec)
		}
		engineObjs, err := s.driver.objects(s)
		if err != nil {
			return nil, err
		}
		add(engineObjs...)
		if s.exposure != ExposureNone {
			exp, err := s.exposureService()
			if err != nil {
				return nil, err
			}
			add(exp)
		}
		pdb, err := s.podDisruptionBudget()
		if err != nil {
			return nil, err
		}
		if pdb != nil {
			add(pdb)
		}
	}
	if s.consumer {
		binding, pending, err := s.binding()
		if err != nil {
			return nil, err
		}
		add(binding...)
		res.Pending = append(res.Pending, pending...)
	}
	for _, o := range objs {
		s.stamp(o)
	}
	res.Objects = objs
	return res, nil
}

// stamp sets the ownership labels on a rendered object, and the owner
// annotation on the platform Namespace.
func (s *service) stamp(o *unstructured.Unstructured) {
	labels := o.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelManagedBy] = ManagedByBerth
	if labels[LabelShared] != "true" {
		labels[fleetv1alpha1.LabelServiceWork] = WorkLabelValue(s.work)
	}
	if s.provider && (o.GetNamespace() == s.namespace || o.GetKind() == "Namespace" && o.GetName() == s.namespace) {
		labels[LabelPlatformOwned] = "true"
	}
	o.SetLabels(labels)
	if o.GetKind() == "Namespace" && o.GetName() == s.namespace {
		// The platform namespace names its ManagedService, so that a
		// spoke never applies a service into another one's namespace.
		annotations := o.GetAnnotations()
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations[AnnotationServiceOwner] = ServiceOwnerValue(s.ref)
		o.SetAnnotations(annotations)
	}
}

// KeepOnRetain reports whether an object must be kept when its service is
// deleted with deletionPolicy Retain.
func KeepOnRetain(o *unstructured.Unstructured) bool {
	return o.GetAnnotations()[AnnotationKeepOnRetain] == "true"
}

// CreateOnly reports whether the apply layer must only create an object,
// never update it.
func CreateOnly(o *unstructured.Unstructured) bool {
	return o.GetAnnotations()[AnnotationCreateOnly] == "true"
}

// Shared reports whether an object is shared by every service and must never
// be deleted with one.
func Shared(o *unstructured.Unstructured) bool {
	return o.GetLabels()[LabelShared] == "true"
}

// serviceHost is the in-cluster DNS name of a Service in this cluster.
func (s *service) serviceHost(name, namespace string) string {
	return name + "." + namespace + ".svc." + s.clusterDomain
}

// replicas is the requested replica count.
func (s *service) replicas() int64 { return int64(s.tmpl.Replicas) }

// tolerations are the node-pool tolerations.
func (s *service) tolerations() []corev1.Toleration {
	if s.tmpl.NodePool == nil {
		return nil
	}
	return s.tmpl.NodePool.Tolerations
}

// nodeSelector is the node-pool selector.
func (s *service) nodeSelector() map[string]string {
	if s.tmpl.NodePool == nil {
		return nil
	}
	return s.tmpl.NodePool.NodeSelector
}
