package dataplane

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/berth-io/berth/bench/netlab"
)

// pgChattyStatements is the number of statements in one chatty transaction,
// BEGIN and COMMIT included.
const pgChattyStatements = 10

type postgresEngine struct{}

func (postgresEngine) Name() string   { return "PostgreSQL" }
func (postgresEngine) Port() int      { return 5432 }
func (postgresEngine) ChattyOps() int { return pgChattyStatements }

// pgBinDir finds the newest /usr/lib/postgresql/<version>/bin, or the
// directory of postgres on PATH.
func pgBinDir() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	sort.Slice(matches, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[j]))))
		return vi < vj
	})
	if len(matches) > 0 {
		return filepath.Dir(matches[len(matches)-1]), nil
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("postgres not found in /usr/lib/postgresql/*/bin or on PATH (install it with hack/bench/setup.sh or apt-get install postgresql)")
}

// pgUser is the unprivileged account PostgreSQL runs as: it refuses root.
func pgUser() (uid, gid int, err error) {
	for _, n := range []string{"postgres", "nobody"} {
		u, lerr := user.Lookup(n)
		if lerr != nil {
			continue
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		return uid, gid, nil
	}
	return 0, 0, errors.New("no unprivileged user (postgres or nobody) to run PostgreSQL as")
}

func (postgresEngine) Check() error {
	if _, err := pgBinDir(); err != nil {
		return err
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		return errors.New("setpriv (util-linux) not found; it drops root for PostgreSQL")
	}
	_, _, err := pgUser()
	return err
}

func (e postgresEngine) Start(ctx context.Context, lab *netlab.Lab, ns *netlab.NetNS, instance string) (*netlab.Process, error) {
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	uid, gid, err := pgUser()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(lab.WorkDir, "postgres-"+instance)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating postgres data directory: %w", err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, fmt.Errorf("handing the postgres data directory to uid %d: %w", uid, err)
	}
	asUser := []string{"setpriv", "--reuid=" + strconv.Itoa(uid), "--regid=" + strconv.Itoa(gid), "--clear-groups"}
	initdb := exec.CommandContext(ctx, asUser[0], append(asUser[1:], filepath.Join(bin, "initdb"),
		"-D", dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")...)
	initdb.Dir = lab.WorkDir
	initdb.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "HOME=" + lab.WorkDir}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w: %s", err, lastLines(string(out), 3))
	}
	hba, err := os.OpenFile(filepath.Join(dir, "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("opening pg_hba.conf: %w", err)
	}
	_, err = hba.WriteString("host all all 0.0.0.0/0 trust\n")
	if cerr := hba.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("writing pg_hba.conf: %w", err)
	}
	argv := append(asUser, filepath.Join(bin, "postgres"), "-D", dir,
		"-c", "listen_addresses=*",
		"-c", "port="+strconv.Itoa(e.Port()),
		"-c", "unix_socket_directories="+dir,
		// The bench measures the network path, not the disk: commits do not
		// wait for the WAL flush.
		"-c", "synchronous_commit=off",
		"-c", "max_connections=200",
		"-c", "shared_buffers=64MB")
	return startServer(ctx, lab, ns, e, netlab.ProcessSpec{Name: "postgres-" + instance, Argv: argv}, 60*time.Second)
}

func (postgresEngine) Connect(ctx context.Context, dial DialFunc, addr string) (client, error) {
	host, port, _ := strings.Cut(addr, ":")
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%s user=postgres dbname=postgres sslmode=disable connect_timeout=10", host, port))
	if err != nil {
		return nil, fmt.Errorf("postgres config: %w", err)
	}
	cfg.DialFunc = pgconn.DialFunc(dial)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres at %s: %w", addr, err)
	}
	return &pgClient{c: conn}, nil
}

type pgClient struct{ c *pgx.Conn }

// Prepare creates a small table the chatty transaction reads and updates.
func (p *pgClient) Prepare(ctx context.Context) error {
	_, err := p.c.Exec(ctx, `CREATE TABLE IF NOT EXISTS berth_bench (k int PRIMARY KEY, v bigint NOT NULL);
INSERT INTO berth_bench SELECT g, 0 FROM generate_series(0, 99) g ON CONFLICT DO NOTHING`)
	return err
}

func (p *pgClient) Single(ctx context.Context) error {
	var one int
	return p.c.QueryRow(ctx, "SELECT 1").Scan(&one)
}

// Chatty runs BEGIN, four SELECT/UPDATE pairs on random rows, COMMIT: ten
// statements, ten round trips.
func (p *pgClient) Chatty(ctx context.Context) error {
	tx, err := p.c.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	for range (pgChattyStatements - 2) / 2 {
		k := rand.IntN(100)
		var v int64
		if err := tx.QueryRow(ctx, "SELECT v FROM berth_bench WHERE k = $1", k).Scan(&v); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE berth_bench SET v = $2 WHERE k = $1", k, v+1); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

func (p *pgClient) Version(ctx context.Context) (string, error) {
	var v string
	err := p.c.QueryRow(ctx, "SHOW server_version").Scan(&v)
	return v, err
}

func (p *pgClient) Close() error { return p.c.Close(context.Background()) }

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
