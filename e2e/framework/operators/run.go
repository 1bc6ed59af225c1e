package operators

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// Defaults of Options, each the operator's own default.
const (
	// DefaultSpotahomeResync is the redis-operator's resync period
	// (operator/redisfailover/factory.go: 30s).
	DefaultSpotahomeResync = 30 * time.Second
	// DefaultRabbitMQRequeue is how soon the cluster-operator looks again at a
	// cluster whose StatefulSet is not ready
	// (internal/controller/reconcile_cli.go: 15s).
	DefaultRabbitMQRequeue = 15 * time.Second
	// DefaultZalandoCheckInterval is Zalando's resource_check_interval (3s),
	// how often it polls a StatefulSet and its pods while creating a cluster.
	DefaultZalandoCheckInterval = 3 * time.Second
)

// installPollInterval is how often Run looks for an operator to be
// installed.
const installPollInterval = time.Second

// Options tune the emulators. The zero value behaves as each operator with
// its shipped defaults.
type Options struct {
	// Operators to emulate; empty means All(). An operator's emulator starts
	// once the operator is installed (its CRD established and its
	// ClusterRoleBinding present).
	Operators []Operator
	// Namespace limits every emulator to one namespace, as the operators'
	// own scoping does (Zalando WATCHED_NAMESPACE, Spotahome
	// --supported-namespaces-regex, RabbitMQ OPERATOR_SCOPE_NAMESPACE);
	// empty watches all namespaces.
	Namespace string
	// ZalandoKeepVolumes is Zalando's
	// enable_persistent_volume_claim_deletion: false (default true: deleting
	// a postgresql deletes its PVCs).
	ZalandoKeepVolumes bool
	// ZalandoKeepSecrets is Zalando's enable_secrets_deletion: false
	// (default true: deleting a postgresql deletes its credentials Secrets).
	ZalandoKeepSecrets bool
	// ZalandoCheckInterval overrides DefaultZalandoCheckInterval.
	ZalandoCheckInterval time.Duration
	// SpotahomeResync overrides DefaultSpotahomeResync; every resync does a
	// full Update of every child of every RedisFailover.
	SpotahomeResync time.Duration
	// RabbitMQRequeue overrides DefaultRabbitMQRequeue.
	RabbitMQRequeue time.Duration
}

// withDefaults fills the zero durations and operators.
func (o Options) withDefaults() Options {
	if len(o.Operators) == 0 {
		o.Operators = All()
	}
	if o.ZalandoCheckInterval == 0 {
		o.ZalandoCheckInterval = DefaultZalandoCheckInterval
	}
	if o.SpotahomeResync == 0 {
		o.SpotahomeResync = DefaultSpotahomeResync
	}
	if o.RabbitMQRequeue == 0 {
		o.RabbitMQRequeue = DefaultRabbitMQRequeue
	}
	return o
}

// Validate checks the options; each error names the field.
func (o Options) Validate() error {
	var errs []error
	if err := checkOperators(o.Operators); err != nil {
		errs = append(errs, fmt.Errorf("operators: %w", err))
	}
	for name, d := range map[string]time.Duration{
		"zalandoCheckInterval": o.ZalandoCheckInterval, "spotahomeResync": o.SpotahomeResync, "rabbitMQRequeue": o.RabbitMQRequeue,
	} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s: %s must not be negative", name, d))
		}
	}
	return errors.Join(errs...)
}

// Run runs the emulators of opts.Operators against the cluster cfg reaches
// until ctx ends, and returns nil then. Each emulator waits until its
// operator is installed (see Install), then acts as the operator's
// ServiceAccount (cfg must be allowed to impersonate it), so the operator's
// ClusterRole is what it may do. It returns early with an error if an
// emulator fails.
func Run(ctx context.Context, cfg *rest.Config, opts Options) error {
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("invalid emulator options: %w", err)
	}
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	admin, err := client.New(cfg, client.Options{Scheme: adminScheme()})
	if err != nil {
		return fmt.Errorf("creating a client: %w", err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, op := range opts.Operators {
		wg.Go(func() {
			if err := runOne(ctx, admin, cfg, op, opts); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s emulator: %w", op, err))
				mu.Unlock()
				cancel()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Start runs Run in the background and returns a function that stops the
// emulators and returns Run's error.
func Start(ctx context.Context, cfg *rest.Config, opts Options) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, opts) }()
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
}

func adminScheme() *kruntime.Scheme {
	s := kruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := apiextensionsv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

// runOne waits until op is installed and runs its emulator.
func runOne(ctx context.Context, admin client.Client, cfg *rest.Config, op Operator, opts Options) error {
	log := ctrl.LoggerFrom(ctx).WithValues("operator", op)
	in, err := InstallationOf(op)
	if err != nil {
		return err
	}
	if err := waitInstalled(ctx, admin, in); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	mgr, err := newManager(cfg, in, opts, log)
	if err != nil {
		return err
	}
	var setupErr error
	switch op {
	case Zalando:
		setupErr = (&zalandoReconciler{opts: opts}).setup(mgr)
	case Spotahome:
		setupErr = (&spotahomeReconciler{opts: opts}).setup(mgr)
	case RabbitMQ:
		setupErr = (&rabbitmqReconciler{opts: opts}).setup(mgr)
	}
	if setupErr != nil {
		return fmt.Errorf("setting up: %w", setupErr)
	}
	log.Info("Emulating the operator", "as", in.Username())
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running: %w", err)
	}
	return nil
}

// waitInstalled waits until in's CRD is established and its
// ClusterRoleBinding exists.
func waitInstalled(ctx context.Context, c client.Client, in Installation) error {
	crdName := in.Resource + "." + in.GVK.Group
	return wait.PollUntilContextCancel(ctx, installPollInterval, true, func(ctx context.Context) (bool, error) {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := c.Get(ctx, client.ObjectKey{Name: crdName}, crd); err != nil {
			return false, ignoreNotFound(err)
		}
		established := false
		for _, cond := range crd.Status.Conditions {
			if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
				established = true
			}
		}
		if !established {
			return false, nil
		}
		crb := &rbacv1.ClusterRoleBinding{}
		if err := c.Get(ctx, client.ObjectKey{Name: in.ClusterRoleBinding}, crb); err != nil {
			return false, ignoreNotFound(err)
		}
		return true, nil
	})
}

// ignoreNotFound keeps polling on NotFound and on passing errors, and stops
// on errors that will not go away by waiting.
func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) || apierrors.IsServiceUnavailable(err) {
		return nil
	}
	if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
		return err
	}
	// Connection errors while the apiserver restarts: keep trying.
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return nil
	}
	return err
}

// newManager builds a manager acting as in's ServiceAccount, limited to
// opts.Namespace.
func newManager(cfg *rest.Config, in Installation, opts Options, log logr.Logger) (ctrl.Manager, error) {
	ocfg := rest.CopyConfig(cfg)
	ocfg.Impersonate = rest.ImpersonationConfig{
		UserName: in.Username(),
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + in.Namespace, "system:authenticated"},
	}
	scheme := kruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	cacheOpts := cache.Options{}
	if opts.Namespace != "" {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{opts.Namespace: {}}
	}
	if in.Operator == RabbitMQ {
		cacheOpts.ByObject = rabbitmqCacheByObject()
	}
	mgr, err := ctrl.NewManager(ocfg, ctrl.Options{
		Scheme:                 scheme,
		Logger:                 log,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cacheOpts,
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	return mgr, nil
}
