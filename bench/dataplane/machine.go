package dataplane

import (
	"context"
	"os/exec"
	"strings"

	"github.com/berth-io/berth/bench/results"
)

// clientVersions lists the Go client libraries compiled in.
func clientVersions() map[string]string {
	return results.ModuleVersions("github.com/redis/go-redis/v9", "github.com/jackc/pgx/v5", "github.com/rabbitmq/amqp091-go", "github.com/HdrHistogram/hdrhistogram-go")
}

// commandVersion returns the first line a version command prints.
func commandVersion(ctx context.Context, name string, args ...string) string {
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}
