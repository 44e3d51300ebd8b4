package ops

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/songbot-dev/songbot/bot"
)

// Label values known in advance besides the bot's, which come from its
// typed constants (bot.JobOutcomes and the like). Their series are created
// at zero, so a rate() or an alert works before the first event of each
// kind.
var (
	whisulEndpoints = []string{"generate", "job"}
	whisulClasses   = []string{"2xx", "4xx", "5xx", "network"}
	ackBuckets      = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2, 3, 5}
	jobBuckets      = []float64{10, 20, 30, 45, 60, 90, 120, 180, 240, 300, 450, 600, 900, 1200, 1800, 2700, 3600}
)

// labelNotes explain the label values whose word alone says too little,
// in the Help texts that list them.
var labelNotes = map[string]string{
	string(bot.InteractionDuplicate): "delivered twice; no second song",
	string(bot.JobRejected):          "Whisul refused the submission",
	string(bot.FallbackLost):         "neither worked",
}

// wordList lists words for a Help text, "a, b or c", each followed by its
// note in parentheses when notes has one. The Help texts list the bot's
// own lists this way, so they cannot leave a word out.
func wordList[T ~string](words []T, notes map[string]string) string {
	var b strings.Builder
	for i, w := range words {
		switch {
		case i == 0:
		case i == len(words)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(string(w))
		if n, ok := notes[string(w)]; ok {
			b.WriteString(" (" + n + ")")
		}
	}
	return b.String()
}

// storeCollectWait bounds each read of the store during a scrape.
const storeCollectWait = 2 * time.Second

// Metrics counts what the bot does, for Prometheus. It implements
// bot.Metrics; WhisulResponse plugs into whisul.Options.OnResponse and
// CollectStore adds the store's gauges. Every label is a fixed word: never
// a user, guild, job id or prompt.
type Metrics struct {
	reg prometheus.Registerer

	interactions *prometheus.CounterVec
	refusals     *prometheus.CounterVec
	ackLatency   prometheus.Histogram
	whisulReqs   *prometheus.CounterVec
	whisul429s   *prometheus.CounterVec
	jobsFinished *prometheus.CounterVec
	jobDuration  *prometheus.HistogramVec
	editFailures prometheus.Counter
	fallbacks    *prometheus.CounterVec
}

var _ bot.Metrics = (*Metrics)(nil)

// NewMetrics creates the metrics and registers them with reg. It panics if
// they are registered already, as prometheus.MustRegister does.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		reg: reg,
		interactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "songbot_song_interactions_total",
			Help: "/song interactions by outcome: " + wordList(bot.InteractionOutcomes(), labelNotes) + ".",
		}, []string{"outcome"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "songbot_song_refusals_total",
			Help: "/song interactions refused, by the limit or rule that refused them: " + wordList(bot.RefusalReasons(), labelNotes) + ".",
		}, []string{"reason"}),
		ackLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "songbot_ack_latency_seconds",
			Help:    "Time from receiving a /song to acknowledging it; Discord allows 3s.",
			Buckets: ackBuckets,
		}),
		whisulReqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "songbot_whisul_requests_total",
			Help: "HTTP requests to Whisul (each retry counts) by endpoint and status class (" + strings.Join(whisulClasses, ", ") + ").",
		}, []string{"endpoint", "class"}),
		whisul429s: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "songbot_whisul_rate_limited_total",
			Help: "Whisul answers 429 Too Many Requests, by endpoint.",
		}, []string{"endpoint"}),
		jobsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "songbot_jobs_finished_total",
			Help: "Songs that ended, by outcome: " + wordList(bot.JobOutcomes(), labelNotes) + ".",
		}, []string{"outcome"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "songbot_job_duration_seconds",
			Help:    "Time from submission to Whisul to delivery of the outcome, by outcome.",
			Buckets: jobBuckets,
		}, []string{"outcome"}),
		editFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "songbot_discord_edit_failures_total",
			Help: "Failed edits of a /song reply on Discord (each attempt counts).",
		}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "songbot_fallbacks_total",
			Help: "Results sent outside their reply because it could no longer be edited, by where they went: " + wordList(bot.FallbackPlaces(), labelNotes) + ".",
		}, []string{"where"}),
	}
	for _, o := range bot.InteractionOutcomes() {
		m.interactions.WithLabelValues(string(o))
	}
	for _, r := range bot.RefusalReasons() {
		m.refusals.WithLabelValues(string(r))
	}
	for _, e := range whisulEndpoints {
		m.whisul429s.WithLabelValues(e)
		for _, c := range whisulClasses {
			m.whisulReqs.WithLabelValues(e, c)
		}
	}
	for _, o := range bot.JobOutcomes() {
		m.jobsFinished.WithLabelValues(string(o))
	}
	for _, w := range bot.FallbackPlaces() {
		m.fallbacks.WithLabelValues(string(w))
	}
	reg.MustRegister(m.interactions, m.refusals, m.ackLatency, m.whisulReqs, m.whisul429s,
		m.jobsFinished, m.jobDuration, m.editFailures, m.fallbacks)
	return m
}

// Interaction implements bot.Metrics.
func (m *Metrics) Interaction(outcome bot.InteractionOutcome) {
	m.interactions.WithLabelValues(string(outcome)).Inc()
}

// Refused implements bot.Metrics.
func (m *Metrics) Refused(reason bot.RefusalReason) { m.refusals.WithLabelValues(string(reason)).Inc() }

// Acknowledged implements bot.Metrics.
func (m *Metrics) Acknowledged(latency time.Duration) { m.ackLatency.Observe(latency.Seconds()) }

// JobFinished implements bot.Metrics. A rejected job never ran at Whisul,
// so it is counted but kept out of the duration histogram.
func (m *Metrics) JobFinished(outcome bot.JobOutcome, sinceSubmit time.Duration) {
	m.jobsFinished.WithLabelValues(string(outcome)).Inc()
	if outcome != bot.JobRejected {
		m.jobDuration.WithLabelValues(string(outcome)).Observe(sinceSubmit.Seconds())
	}
}

// DiscordEditFailed implements bot.Metrics.
func (m *Metrics) DiscordEditFailed() { m.editFailures.Inc() }

// Fallback implements bot.Metrics.
func (m *Metrics) Fallback(where bot.FallbackPlace) { m.fallbacks.WithLabelValues(string(where)).Inc() }

// WhisulResponse counts one HTTP attempt at Whisul; it has the signature of
// whisul.Options.OnResponse (status 0 is a network failure).
func (m *Metrics) WhisulResponse(endpoint string, status int) {
	m.whisulReqs.WithLabelValues(endpoint, statusClass(status)).Inc()
	if status == 429 {
		m.whisul429s.WithLabelValues(endpoint).Inc()
	}
}

// statusClass is "2xx" for 204, "network" for 0: few values, whatever the
// server sends.
func statusClass(status int) string {
	if status == 0 {
		return "network"
	}
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// JobCounter is the store as the gauges read it: the number of pending
// jobs. storage.Redis and storage.Bolt implement it.
type JobCounter interface {
	Count(ctx context.Context) (int, error)
}

// CollectPolls registers songbot_polls_in_flight and
// songbot_polls_in_flight_limit, read from polls at each scrape: the
// polls (and deliveries) this process runs now, and how many its flight
// limit allows, which follows Whisul's round trip up to POLL_CONCURRENCY.
func (m *Metrics) CollectPolls(polls func() (inFlight, limit int)) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "songbot_polls_in_flight",
			Help: "Polls of Whisul (and the deliveries after them) this process runs now.",
		}, func() float64 { n, _ := polls(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "songbot_polls_in_flight_limit",
			Help: "Polls this process may run at once now: it follows Whisul's round trip, up to POLL_CONCURRENCY.",
		}, func() float64 { _, n := polls(); return float64(n) }),
	)
}

// SlotCounter is a store that keeps running slots and a queue
// (storage.Gate); CollectStore looks for it on the JobCounter it is given.
type SlotCounter interface {
	Counts(ctx context.Context) (running, queued int, err error)
}

// CollectStore registers gauges read from store at each scrape:
// songbot_jobs_pending and, when store is also a SlotCounter,
// songbot_jobs_running and songbot_queue_length. A read that fails or
// takes longer than 2s leaves its gauges out of that scrape and counts
// songbot_store_errors_total, so a dead store never hangs /metrics.
func (m *Metrics) CollectStore(store JobCounter) {
	c := &storeCollector{
		store: store,
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "songbot_store_errors_total",
			Help: "Reads of the store gauges that failed or took over 2s during a scrape; those gauges are missing from that scrape.",
		}),
		pending: prometheus.NewDesc("songbot_jobs_pending", "Songs in the store: submitted to Whisul, waiting to be submitted, or queued.", nil, nil),
	}
	if g, ok := store.(SlotCounter); ok {
		c.gate = g
		c.running = prometheus.NewDesc("songbot_jobs_running", "Songs holding a running slot (MAX_RUNNING), across all processes.", nil, nil)
		c.queued = prometheus.NewDesc("songbot_queue_length", "Songs waiting for a running slot (MAX_QUEUED), across all processes.", nil, nil)
	}
	m.reg.MustRegister(c)
}

// storeCollector reads the store's counts when scraped.
type storeCollector struct {
	store                    JobCounter
	gate                     SlotCounter // nil when the store keeps no queue
	errors                   prometheus.Counter
	pending, running, queued *prometheus.Desc
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.errors.Desc()
	ch <- c.pending
	if c.gate != nil {
		ch <- c.running
		ch <- c.queued
	}
}

// Collect reads the gauges, then reports the error count, so a scrape
// includes its own failures.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), storeCollectWait)
	defer cancel()
	defer func() { ch <- c.errors }()
	if n, err := c.store.Count(ctx); err != nil {
		c.errors.Inc()
	} else {
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(n))
	}
	if c.gate == nil {
		return
	}
	running, queued, err := c.gate.Counts(ctx)
	if err != nil {
		c.errors.Inc()
		return
	}
	ch <- prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, float64(running))
	ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(queued))
}
