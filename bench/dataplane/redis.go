package dataplane

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/berth-io/berth/bench/netlab"
)

// redisChattyGets is the number of GETs in one chatty Redis transaction.
const redisChattyGets = 20

type redisEngine struct{}

func (redisEngine) Name() string   { return "Redis" }
func (redisEngine) Port() int      { return 6379 }
func (redisEngine) ChattyOps() int { return redisChattyGets }

func (redisEngine) Check() error {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return errors.New("redis-server not found (install it with hack/bench/setup.sh or apt-get install redis-server)")
	}
	return nil
}

func (e redisEngine) Start(ctx context.Context, lab *netlab.Lab, ns *netlab.NetNS, instance string) (*netlab.Process, error) {
	dir := filepath.Join(lab.WorkDir, "redis-"+instance)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating redis data directory: %w", err)
	}
	return startServer(ctx, lab, ns, e, netlab.ProcessSpec{
		Name: "redis-" + instance,
		Argv: []string{"redis-server", "--bind", "0.0.0.0", "--port", strconv.Itoa(e.Port()),
			"--protected-mode", "no", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no"},
	}, 30*time.Second)
}

func (redisEngine) Connect(ctx context.Context, dial DialFunc, addr string) (client, error) {
	rc := redis.NewClient(&redis.Options{
		Addr:                     addr,
		Dialer:                   dial,
		Protocol:                 2,
		PoolSize:                 1,
		MinIdleConns:             0,
		MaxRetries:               -1, // a retried request would hide a failure in the latency
		DialerRetries:            1,  // one dial per connect: the blast-radius apps reconnect themselves
		ReadTimeout:              30 * time.Second,
		WriteTimeout:             30 * time.Second,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	// Open the one connection now, so dialing is not part of any measurement.
	if err := rc.Ping(ctx).Err(); err != nil {
		_ = rc.Close()
		return nil, fmt.Errorf("redis at %s: %w", addr, err)
	}
	return &redisClient{c: rc}, nil
}

type redisClient struct{ c *redis.Client }

func redisKey(i int) string { return "berth-bench:" + strconv.Itoa(i) }

// Prepare stores 64-byte values under the keys the probes read.
func (r *redisClient) Prepare(ctx context.Context) error {
	value := strings.Repeat("v", 64)
	pipe := r.c.Pipeline()
	for i := range redisChattyGets {
		pipe.Set(ctx, redisKey(i), value, 0)
	}
	_, err := pipe.Exec(ctx)
	return err
}

func (r *redisClient) Single(ctx context.Context) error {
	return r.c.Get(ctx, redisKey(0)).Err()
}

func (r *redisClient) Chatty(ctx context.Context) error {
	for i := range redisChattyGets {
		if err := r.c.Get(ctx, redisKey(i)).Err(); err != nil {
			return err
		}
	}
	return nil
}

func (r *redisClient) Version(ctx context.Context) (string, error) {
	info, err := r.c.Info(ctx, "server").Result()
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return v, nil
		}
	}
	return "", errors.New("no redis_version in INFO server")
}

func (r *redisClient) Close() error { return r.c.Close() }
