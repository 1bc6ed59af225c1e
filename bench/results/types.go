package results

import (
	"time"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// Schema is the value of Document.Schema this package writes and reads.
const Schema = "bench.berth.io/v1"

// Document is one results file.
type Document struct {
	// Schema is always Schema.
	Schema string `json:"schema"`
	// Started and Finished bound the measurement.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Machine is where it was measured.
	Machine Machine `json:"machine"`
	// Versions of the servers, proxies and client libraries involved, by name.
	Versions map[string]string `json:"versions,omitempty"`

	// DataPlane holds one run per link profile.
	DataPlane []DataPlaneRun `json:"dataPlane,omitempty"`
	// ControlPlane holds control-path results.
	ControlPlane *ControlPlane `json:"controlPlane,omitempty"`
	// BlastRadius holds outage experiments.
	BlastRadius []Outage `json:"blastRadius,omitempty"`
}

// Machine describes the host a document was measured on.
type Machine struct {
	Hostname string `json:"hostname,omitempty"`
	OS       string `json:"os,omitempty"`
	Kernel   string `json:"kernel,omitempty"`
	CPU      string `json:"cpu,omitempty"`
	Cores    int    `json:"cores,omitempty"`
	// MemoryBytes is MemTotal.
	MemoryBytes uint64 `json:"memoryBytes,omitempty"`
	GoVersion   string `json:"goVersion,omitempty"`
	// Revision is the berth commit the bench was built from, when known.
	Revision string `json:"revision,omitempty"`
}

// Placement is where the service runs relative to the client.
type Placement string

const (
	// PlacementBaseline is client and server in the same network namespace:
	// the floor every other placement is compared with.
	PlacementBaseline Placement = "Baseline"
	// PlacementWorkload is the co-located service, one bridge hop away.
	PlacementWorkload = Placement(fleetv1alpha1.StrategyWorkload)
	// PlacementManagement is the management cluster, behind its gateway.
	PlacementManagement = Placement(fleetv1alpha1.StrategyManagement)
	// PlacementDedicated is a services cluster, behind its gateway.
	PlacementDedicated = Placement(fleetv1alpha1.StrategyDedicated)
)

// Placements lists every placement in report order.
var Placements = []Placement{PlacementBaseline, PlacementWorkload, PlacementManagement, PlacementDedicated}

// Scenario is one kind of probe.
type Scenario string

const (
	// ScenarioRTT is one request at a time on one connection (GET, SELECT 1,
	// publish with confirm).
	ScenarioRTT Scenario = "rtt"
	// ScenarioChatty is one transaction made of sequential round trips (20
	// GETs, a 10-statement transaction, 10 confirmed publishes); its latency
	// is the whole transaction's.
	ScenarioChatty Scenario = "chatty"
	// ScenarioThroughput is single requests from a fixed number of
	// concurrent connections; ops/s is the figure of merit.
	ScenarioThroughput Scenario = "throughput"
)

// Scenarios lists every scenario in report order.
var Scenarios = []Scenario{ScenarioRTT, ScenarioChatty, ScenarioThroughput}

// LinkProfile is the emulated inter-cluster link a data-path run used.
type LinkProfile struct {
	// Name as given on the command line ("0", "0.5ms").
	Name string `json:"name"`
	// OneWay latency added per direction, and its jitter (uniform ±).
	OneWay time.Duration `json:"oneWay"`
	Jitter time.Duration `json:"jitter"`
	// Emulation is how the delay was applied: "none", "netem" or
	// "userspace-relay".
	Emulation string `json:"emulation"`
}

// DataPlaneSettings are the knobs of a data-path run.
type DataPlaneSettings struct {
	// Warmup operations before each measurement.
	Warmup int `json:"warmup"`
	// MaxOps and Duration bound each measurement; whichever comes first ends it.
	MaxOps   int           `json:"maxOps"`
	Duration time.Duration `json:"duration"`
	// Repeats of each measurement; the noise is their coefficient of variation.
	Repeats int `json:"repeats"`
	// Concurrency of the throughput scenario (connections).
	Concurrency int `json:"concurrency"`
	// ChattyOps is the number of round trips in one chatty transaction, by engine.
	ChattyOps map[string]int `json:"chattyOps,omitempty"`
}

// DataPlaneRun is one data-path run at one link profile.
type DataPlaneRun struct {
	Profile  LinkProfile       `json:"profile"`
	Settings DataPlaneSettings `json:"settings"`
	// Paths describes, per placement, what a request crosses.
	Paths map[Placement]string `json:"paths,omitempty"`
	// Engines holds one entry per engine, measured or skipped.
	Engines []EngineResult `json:"engines"`
}

// EngineResult is one engine's measurements, or why it was skipped.
type EngineResult struct {
	// Engine is "Redis", "PostgreSQL" or "RabbitMQ".
	Engine string `json:"engine"`
	// Version of the server.
	Version string `json:"version,omitempty"`
	// Skipped is set, with the reason, when the engine could not be measured.
	Skipped string `json:"skipped,omitempty"`
	// Measurements per placement and scenario.
	Measurements []Measurement `json:"measurements,omitempty"`
}

// Measurement is one placement × scenario, over all repeats.
type Measurement struct {
	Placement Placement `json:"placement"`
	Scenario  Scenario  `json:"scenario"`
	// Summary merges all repeats.
	Summary Summary `json:"summary"`
	// Repeats are the summaries of the individual repeats.
	Repeats []Summary `json:"repeats"`
	// NoiseP50CV is the coefficient of variation (stddev/mean) of the
	// repeats' p50; NoiseOpsCV the same for ops/s. They tell how far the
	// harness itself moves the numbers.
	NoiseP50CV float64 `json:"noiseP50CV"`
	NoiseOpsCV float64 `json:"noiseOpsCV"`
	// VsBaseline is this placement's p50 (and ops/s) over the baseline's,
	// for the same engine and scenario; 0 when there is no baseline.
	VsBaseline Ratio `json:"vsBaseline"`
	// Histogram is the merged HDR histogram (microseconds), compressed and
	// base64-encoded.
	Histogram string `json:"histogram,omitempty"`
	// Error is set when the measurement failed part-way.
	Error string `json:"error,omitempty"`
}

// Ratio compares a measurement with the baseline.
type Ratio struct {
	P50       float64 `json:"p50,omitempty"`
	P99       float64 `json:"p99,omitempty"`
	OpsPerSec float64 `json:"opsPerSec,omitempty"`
}

// Summary is a latency distribution in microseconds, plus rate.
type Summary struct {
	Count  int64   `json:"count"`
	MeanUS float64 `json:"meanUs"`
	P50US  float64 `json:"p50Us"`
	P90US  float64 `json:"p90Us"`
	P99US  float64 `json:"p99Us"`
	P999US float64 `json:"p999Us"`
	MaxUS  float64 `json:"maxUs"`
	// OpsPerSec is operations (transactions for chatty) per wall-clock second.
	OpsPerSec float64 `json:"opsPerSec"`
	// Elapsed is the wall-clock time measured.
	Elapsed time.Duration `json:"elapsed"`
	// Errors counts failed operations (not in the histogram).
	Errors int64 `json:"errors,omitempty"`
}

// ControlPlane holds the control-path results. Each series is measured
// against a real hub apiserver with in-process spokes.
type ControlPlane struct {
	// Placement holds placement-decision micro-benchmarks.
	Placement []PlacementBench `json:"placement,omitempty"`
	// Propagated is ManagedService created -> Propagated=True (every
	// ServiceWork applied by its spoke), against the number of members.
	Propagated []MemberSeries `json:"propagated,omitempty"`
	// Propagation is ManagedService created -> spoke Applied -> Ready,
	// against the number of members.
	Propagation []MemberSeries `json:"propagation,omitempty"`
	// Registration is MemberCluster created -> Available (credentials
	// issued, the spoke's Lease renewed), against the number of members.
	Registration []MemberSeries `json:"registration,omitempty"`
	// HubMemory is the hub's resident memory against the number of members.
	HubMemory []HubMemory `json:"hubMemory,omitempty"`
}

// PlacementBench is one placement micro-benchmark.
type PlacementBench struct {
	// Name of the benchmark, e.g. "BenchmarkSchedule".
	Name string `json:"name"`
	// Members is the number of candidate clusters.
	Members int `json:"members"`
	// NsPerOp, BytesPerOp and AllocsPerOp as `go test -bench -benchmem` reports them.
	NsPerOp     float64 `json:"nsPerOp"`
	BytesPerOp  float64 `json:"bytesPerOp,omitempty"`
	AllocsPerOp float64 `json:"allocsPerOp,omitempty"`
}

// MemberSeries is one latency distribution at a fleet size.
type MemberSeries struct {
	Members int     `json:"members"`
	Latency Summary `json:"latency"`
}

// HubMemory is the hub's resident set size and CPU time at a fleet size.
type HubMemory struct {
	Members int `json:"members"`
	// Services is how many ManagedServices the hub was managing.
	Services int `json:"services,omitempty"`
	// IdleRSSBytes is the RSS after start, before any member.
	IdleRSSBytes uint64 `json:"idleRssBytes,omitempty"`
	// RegisteredRSSBytes is the RSS once every member was Available.
	RegisteredRSSBytes uint64 `json:"registeredRssBytes,omitempty"`
	// RSSBytes is the RSS once every service was Ready.
	RSSBytes uint64 `json:"rssBytes"`
	// PeakRSSBytes is the high-water mark (VmHWM).
	PeakRSSBytes uint64 `json:"peakRssBytes,omitempty"`
	// CPUSeconds is the hub's user and system time over the whole run.
	CPUSeconds float64 `json:"cpuSeconds,omitempty"`
	// Reconciles counts the hub's reconciliations per controller over the
	// whole run.
	Reconciles map[string]int64 `json:"reconciles,omitempty"`
}

// Outage is one blast-radius experiment: one component stopped while apps
// at every placement keep sending requests.
type Outage struct {
	// What was stopped, e.g. "management control plane", "management gateway".
	Stopped string `json:"stopped"`
	// Method says how it was stopped and brought back, e.g. "SIGKILL,
	// restarted after the outage".
	Method string `json:"method,omitempty"`
	// Outage is how long the component was kept down: from the stop to the
	// start of its restart.
	Outage time.Duration `json:"outage,omitempty"`
	// Interval is the pause between an app's requests; RequestTimeout bounds
	// each request (and each reconnect).
	Interval       time.Duration `json:"interval,omitempty"`
	RequestTimeout time.Duration `json:"requestTimeout,omitempty"`
	// Component is the stopped component's own health as a probe of it saw
	// it. It shows the outage happened, whatever the apps saw.
	Component *AppImpact `json:"component,omitempty"`
	// Apps lists each app's experience during the outage.
	Apps []AppImpact `json:"apps"`
}

// AppImpact is one app's experience during an outage. Counts and times
// start at the stop.
type AppImpact struct {
	App       string    `json:"app"`
	Engine    string    `json:"engine"`
	Placement Placement `json:"placement"`
	// LostService reports whether requests failed.
	LostService bool `json:"lostService"`
	// Downtime is how long requests failed: from the first failed request
	// to the first successful one after the last failure.
	Downtime time.Duration `json:"downtime,omitempty"`
	// Requests and Failed count the requests from the stop to the end of
	// the experiment.
	Requests int64 `json:"requests,omitempty"`
	Failed   int64 `json:"failed,omitempty"`
	// FirstFailure is the time from the stop to the first failed request.
	FirstFailure time.Duration `json:"firstFailure,omitempty"`
	// Recovery is the time from the restart of the stopped component to
	// the first successful request after the last failure.
	Recovery time.Duration `json:"recovery,omitempty"`
	// StillFailing is set when requests still failed when the experiment
	// gave up waiting; Downtime then runs to the end.
	StillFailing bool `json:"stillFailing,omitempty"`
	// Error is the first failed request's error.
	Error string `json:"error,omitempty"`
}
