package e2e

import (
	"context"
	"fmt"
	"os"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Member is one cluster of a running environment.
type Member struct {
	// Name is the MemberCluster name.
	Name string
	// Client reaches the member cluster as an admin.
	Client client.Client
	// KubeconfigPath is an admin kubeconfig of the member.
	KubeconfigPath string
}

// Env is a running fleet with berth installed.
type Env struct {
	// Hub reaches the management cluster as an admin.
	Hub client.Client
	// Members by name; the management cluster is one of them.
	Members map[string]*Member
	// Controls stops and starts berth's components for failure tests.
	Controls Controls
}

// Controls stops and starts berth's components.
type Controls interface {
	// KillHub stops the hub abruptly (SIGKILL, or deleting its pod).
	KillHub(ctx context.Context) error
	// StartHub starts the hub again.
	StartHub(ctx context.Context) error
	// StopSpoke stops one member's spoke.
	StopSpoke(ctx context.Context, member string) error
	// StartSpoke starts one member's spoke again.
	StartSpoke(ctx context.Context, member string) error
	// InstallOperators installs the Zalando, Spotahome and RabbitMQ
	// operators into one member and runs them until Down. Members start
	// without operators, so the spoke uses the built-in flavour there until
	// this is called. Only the kwok provider emulates operators
	// (e2e/framework/operators); the kind provider cannot.
	InstallOperators(ctx context.Context, member string) error
}

// Provider creates and removes an environment.
type Provider interface {
	// Name of the provider, e.g. kwok.
	Name() string
	// Up brings the fleet up and installs berth.
	Up(ctx context.Context) (*Env, error)
	// Down removes everything Up created.
	Down(ctx context.Context) error
}

// ProviderFromEnv returns the provider named by $BERTH_E2E_PROVIDER (kwok by
// default).
func ProviderFromEnv(logf func(string, ...any)) (Provider, error) {
	switch name := os.Getenv("BERTH_E2E_PROVIDER"); name {
	case "", "kwok":
		return &KwokProvider{Logf: logf}, nil
	case "kind":
		return &KindProvider{Logf: logf}, nil
	default:
		return nil, fmt.Errorf("BERTH_E2E_PROVIDER: unknown provider %q (want kwok or kind)", name)
	}
}
