package dataplane

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/berth-io/berth/bench"
	"github.com/berth-io/berth/bench/netlab"
)

// DialFunc dials from somewhere in the topology.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// engine is one data service: how to start its server and how to probe it.
type engine interface {
	// Name is the engine as reports show it: Redis, PostgreSQL, RabbitMQ.
	Name() string
	// Port the server listens on in its namespace.
	Port() int
	// Check fails with a clear message when the server's binaries are missing.
	Check() error
	// Start runs a server inside ns and returns once it serves.
	Start(ctx context.Context, lab *netlab.Lab, ns *netlab.NetNS, instance string) (*netlab.Process, error)
	// Connect opens one client connection to addr, dialed with dial.
	Connect(ctx context.Context, dial DialFunc, addr string) (client, error)
	// ChattyOps is the number of round trips in one chatty transaction.
	ChattyOps() int
}

// client is one connection of an engine's real client library.
type client interface {
	// Prepare creates what the probes read and write (keys, a table, a
	// queue). It is idempotent.
	Prepare(ctx context.Context) error
	// Single is one request: GET, SELECT 1, publish with confirm.
	Single(ctx context.Context) error
	// Chatty is one chatty transaction of ChattyOps sequential round trips.
	Chatty(ctx context.Context) error
	// Version asks the server for its version.
	Version(ctx context.Context) (string, error)
	// Close closes the connection.
	Close() error
}

// Engine names accepted by Options.Engines.
const (
	EngineRedis    = "redis"
	EnginePostgres = "postgres"
	EngineRabbitMQ = "rabbitmq"
)

// allEngines lists the engines by their option name, in report order.
func allEngines() map[string]engine {
	return map[string]engine{
		EngineRedis:    redisEngine{},
		EnginePostgres: postgresEngine{},
		EngineRabbitMQ: rabbitEngine{},
	}
}

// EngineOrder is the default engine list.
var EngineOrder = []string{EngineRedis, EnginePostgres, EngineRabbitMQ}

// lookupEngines validates names.
func lookupEngines(names []string) ([]engine, error) {
	all := allEngines()
	var out []engine
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		e, ok := all[n]
		if !ok {
			known := make([]string, 0, len(all))
			for k := range all {
				known = append(known, k)
			}
			sort.Strings(known)
			return nil, bench.Errorf("engines", "unknown engine %q (known: %s)", n, strings.Join(known, ", "))
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, bench.Errorf("engines", "at least one engine is needed")
	}
	return out, nil
}

// startServer starts an engine's server in ns and waits until a client on
// ns's loopback can connect and prepare, up to timeout.
func startServer(ctx context.Context, lab *netlab.Lab, ns *netlab.NetNS, e engine, spec netlab.ProcessSpec, timeout time.Duration) (*netlab.Process, error) {
	p, err := lab.Start(ns, spec)
	if err != nil {
		return nil, err
	}
	err = p.WaitReady(ctx, timeout, func(ctx context.Context) error {
		c, err := e.Connect(ctx, ns.DialContext, fmt.Sprintf("127.0.0.1:%d", e.Port()))
		if err != nil {
			return err
		}
		defer c.Close()
		return c.Prepare(ctx)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}
