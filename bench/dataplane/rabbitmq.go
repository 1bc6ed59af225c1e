package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/berth-io/berth/bench/netlab"
)

// rabbitChattyPublishes is the number of confirmed publishes in one chatty
// RabbitMQ "transaction".
const rabbitChattyPublishes = 10

// rabbitQueue is the queue the probes publish to. x-max-length bounds the
// memory it can take, dropping the oldest messages.
const rabbitQueue = "berth-bench"

type rabbitEngine struct{}

func (rabbitEngine) Name() string   { return "RabbitMQ" }
func (rabbitEngine) Port() int      { return 5672 }
func (rabbitEngine) ChattyOps() int { return rabbitChattyPublishes }

// rabbitServer finds the rabbitmq-server start script. Debian's
// /usr/sbin/rabbitmq-server wrapper switches to the rabbitmq user and logs
// to /var/log; the script behind it runs in the foreground as it is.
func rabbitServer() (string, error) {
	for _, p := range []string{"/usr/lib/rabbitmq/bin/rabbitmq-server"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("rabbitmq-server"); err == nil {
		return p, nil
	}
	return "", errors.New("rabbitmq-server not found (install it with hack/bench/setup.sh or apt-get install rabbitmq-server)")
}

func (rabbitEngine) Check() error {
	_, err := rabbitServer()
	return err
}

func (e rabbitEngine) Start(ctx context.Context, lab *netlab.Lab, ns *netlab.NetNS, instance string) (*netlab.Process, error) {
	script, err := rabbitServer()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(lab.WorkDir, "rabbitmq-"+instance)
	for _, d := range []string{"mnesia", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("creating rabbitmq directories: %w", err)
		}
	}
	conf := filepath.Join(dir, "rabbitmq.conf")
	// guest may log in from other hosts: the clients are in other namespaces.
	confText := fmt.Sprintf("loopback_users = none\nlisteners.tcp.default = %d\n", e.Port())
	if err := os.WriteFile(conf, []byte(confText), 0o644); err != nil {
		return nil, fmt.Errorf("writing rabbitmq.conf: %w", err)
	}
	return startServer(ctx, lab, ns, e, netlab.ProcessSpec{
		Name: "rabbitmq-" + instance,
		Argv: []string{script},
		Dir:  dir,
		Env: []string{
			"HOME=" + dir, // the Erlang cookie goes here
			"RABBITMQ_NODENAME=rabbit@localhost",
			"RABBITMQ_MNESIA_BASE=" + filepath.Join(dir, "mnesia"),
			"RABBITMQ_LOG_BASE=" + filepath.Join(dir, "log"),
			"RABBITMQ_CONFIG_FILE=" + conf,
			"RABBITMQ_ENABLED_PLUGINS_FILE=" + filepath.Join(dir, "enabled_plugins"),
			"RABBITMQ_PID_FILE=" + filepath.Join(dir, "rabbitmq.pid"),
		},
	}, 120*time.Second)
}

func (rabbitEngine) Connect(ctx context.Context, dial DialFunc, addr string) (client, error) {
	conn, err := amqp.DialConfig("amqp://guest:guest@"+addr+"/", amqp.Config{
		Heartbeat: 30 * time.Second,
		Locale:    "en_US",
		Dial: func(network, a string) (net.Conn, error) {
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			c, err := dial(dctx, network, a)
			if err != nil {
				return nil, err
			}
			// amqp091 sets a handshake deadline itself and clears it after.
			return c, nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("rabbitmq at %s: %w", addr, err)
	}
	ch, err := conn.Channel()
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("rabbitmq channel: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("rabbitmq confirm mode: %w", err)
	}
	return &rabbitClient{conn: conn, ch: ch, body: []byte(strings.Repeat("m", 64))}, nil
}

type rabbitClient struct {
	conn *amqp.Connection
	ch   *amqp.Channel
	body []byte
}

func (r *rabbitClient) Prepare(context.Context) error {
	_, err := r.ch.QueueDeclare(rabbitQueue, false, false, false, false, amqp.Table{"x-max-length": int32(10000)})
	return err
}

// Single publishes one transient 64-byte message and waits for its confirm.
func (r *rabbitClient) Single(ctx context.Context) error {
	dc, err := r.ch.PublishWithDeferredConfirmWithContext(ctx, "", rabbitQueue, false, false, amqp.Publishing{Body: r.body})
	if err != nil {
		return err
	}
	ok, err := dc.WaitContext(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("publish nacked")
	}
	return nil
}

func (r *rabbitClient) Chatty(ctx context.Context) error {
	for range rabbitChattyPublishes {
		if err := r.Single(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (r *rabbitClient) Version(context.Context) (string, error) {
	if v, ok := r.conn.Properties["version"].(string); ok {
		return v, nil
	}
	return "", errors.New("the server did not announce its version")
}

func (r *rabbitClient) Close() error { return r.conn.Close() }
