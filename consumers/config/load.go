package config

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// EnvPrefix prefixes every environment variable (EVENTPLANE_QUEUE_URL, ...).
const EnvPrefix = "EVENTPLANE_"

// option binds one setting to a flag and an environment variable.
type option struct {
	name  string // flag name; env is EVENTPLANE_ + upper snake case
	usage string
	set   func(c *Config, v string) error
	get   func(c *Config) string
}

func envName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func strOpt(name, usage string, p func(*Config) *string) option {
	return option{name, usage,
		func(c *Config, v string) error { *p(c) = v; return nil },
		func(c *Config) string { return *p(c) }}
}

func intOpt(name, usage string, p func(*Config) *int) option {
	return option{name, usage,
		func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("want an integer, got %q", v)
			}
			*p(c) = n
			return nil
		},
		func(c *Config) string { return strconv.Itoa(*p(c)) }}
}

func boolOpt(name, usage string, p func(*Config) *bool) option {
	return option{name, usage,
		func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("want true or false, got %q", v)
			}
			*p(c) = b
			return nil
		},
		func(c *Config) string { return strconv.FormatBool(*p(c)) }}
}

func durOpt(name, usage string, p func(*Config) *Duration) option {
	return option{name, usage,
		func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("want a duration such as 30s, got %q", v)
			}
			*p(c) = Duration(d)
			return nil
		},
		func(c *Config) string { return p(c).D().String() }}
}

var options = []option{
	strOpt("queue-url", "URL of the SQS queue to consume (required)", func(c *Config) *string { return &c.Queue.URL }),
	strOpt("dead-letter-url", "URL of the dead-letter queue (default: the queue's redrive policy target)", func(c *Config) *string { return &c.Queue.DeadLetterURL }),
	durOpt("wait-time", "long-polling wait per receive, 1s..20s", func(c *Config) *Duration { return &c.Queue.WaitTime }),
	durOpt("visibility-timeout", "visibility timeout of received messages (0: the queue's)", func(c *Config) *Duration { return &c.Queue.VisibilityTimeout }),
	strOpt("fallback-type", "CloudEvents type of message bodies of no known shape", func(c *Config) *string { return &c.Queue.FallbackType }),
	strOpt("region", "AWS region (default: AWS_REGION or the profile's)", func(c *Config) *string { return &c.AWS.Region }),
	strOpt("endpoint", "AWS endpoint override, for emulators such as moto (never in production)", func(c *Config) *string { return &c.AWS.Endpoint }),
	durOpt("aws-attempt-timeout", "time limit of one attempt of an AWS call (a long poll's wait is added); the SDK retries a timed-out attempt", func(c *Config) *Duration { return &c.AWS.AttemptTimeout }),
	intOpt("max-in-flight", "messages received and not yet settled, at most", func(c *Config) *int { return &c.Consumer.MaxInFlight }),
	intOpt("receive-batch", "messages asked for per receive, 1..10", func(c *Config) *int { return &c.Consumer.ReceiveBatch }),
	durOpt("ack-flush-interval", "longest wait for a delete batch to fill", func(c *Config) *Duration { return &c.Consumer.AckFlush }),
	durOpt("handler-timeout", "time limit of one route's handlers for one event", func(c *Config) *Duration { return &c.Consumer.HandlerTimeout }),
	durOpt("max-visibility-extension", "stop extending a message's visibility after holding it this long", func(c *Config) *Duration { return &c.Consumer.MaxExtension }),
	durOpt("shutdown-grace", "time in-flight work may take to finish after SIGTERM", func(c *Config) *Duration { return &c.Consumer.ShutdownGrace }),
	durOpt("backoff-base", "retry delay after the first failure", func(c *Config) *Duration { return &c.Consumer.BackoffBase }),
	durOpt("backoff-max", "largest retry delay", func(c *Config) *Duration { return &c.Consumer.BackoffMax }),
	strOpt("unrouted", "events that match no route: dead-letter-malformed (dead-letter bodies the platform cannot understand, with a reason naming the defect; delete well-formed ones), dead-letter (all) or ack (delete all)", func(c *Config) *string { return &c.Consumer.Unrouted }),
	boolOpt("breaker-disabled", "turn the per-route circuit breakers off", func(c *Config) *bool { return &c.Consumer.Breaker.Disabled }),
	intOpt("breaker-failures", "consecutive failures that open a route's breaker", func(c *Config) *int { return &c.Consumer.Breaker.ConsecutiveFailures }),
	durOpt("breaker-open-for", "how long an open breaker waits before a probe (a held message, so probes cost no receives)", func(c *Config) *Duration { return &c.Consumer.Breaker.OpenFor }),
	strOpt("idempotency-table", "DynamoDB table of idempotency records (hash key pk, TTL on expiresAt); empty: none", func(c *Config) *string { return &c.Consumer.IdempotencyTable }),
	durOpt("idempotency-ttl", "how long a processed event is remembered", func(c *Config) *Duration { return &c.Consumer.IdempotencyTTL }),
	strOpt("admin-addr", "address of the admin server (/metrics, /healthz, /readyz, /inflight); empty disables it (the flag: an empty variable counts as unset)", func(c *Config) *string { return &c.Admin.Addr }),
	strOpt("debug-addr", "loopback address of the debug server (/debug with event data, pprof); empty disables it (the flag, as above); a taken port is a warning, not an exit", func(c *Config) *string { return &c.Admin.DebugAddr }),
	boolOpt("pprof", "serve /debug/pprof/ on the debug server", func(c *Config) *bool { return &c.Admin.Pprof }),
	durOpt("metrics-emf", "also write the metrics as CloudWatch embedded metric format lines on stdout every interval (0: off)", func(c *Config) *Duration { return &c.Admin.MetricsEMF }),
	strOpt("log-level", "debug, info, warn or error", func(c *Config) *string { return &c.Log.Level }),
	{name: "routes", usage: "routes as a JSON array of {name, pattern, handler, options} (usually set in the config file)",
		set: func(c *Config, v string) error {
			var r []Route
			if err := json.Unmarshal([]byte(v), &r); err != nil {
				return fmt.Errorf("want a JSON array of routes: %v", err)
			}
			c.Routes = r
			return nil
		},
		get: func(c *Config) string { b, _ := json.Marshal(c.Routes); return string(b) }},
}

// Load builds the configuration from defaults, the file named by --config or
// EVENTPLANE_CONFIG, EVENTPLANE_* variables and flags, in rising priority.
// It does not validate; call Validate.
func Load(args []string, getenv func(string) string, usageOut io.Writer) (Config, error) {
	fs := flag.NewFlagSet("consumer", flag.ContinueOnError)
	fs.SetOutput(usageOut)
	file := fs.String("config", "", "YAML or JSON configuration `FILE` (env "+EnvPrefix+"CONFIG)")
	var flagged []func(*Config) error
	def := Default()
	for _, o := range options {
		fs.Func(o.name, fmt.Sprintf("%s (env %s, default %q)", o.usage, envName(o.name), o.get(&def)), func(v string) error {
			if err := o.set(&Config{}, v); err != nil { // check now, apply later
				return err
			}
			flagged = append(flagged, func(c *Config) error { return o.set(c, v) })
			return nil
		})
	}
	fs.Usage = func() {
		fmt.Fprintf(usageOut, "usage: consumer [flags]\n\nRuns an eventplane consumer. Settings come from the config file, then %s* environment\nvariables, then flags.\n\nflags:\n", EnvPrefix)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	c := Default()
	path := *file
	if path == "" {
		path = getenv(EnvPrefix + "CONFIG")
	}
	if path != "" {
		b, err := os.ReadFile(path) // #nosec G304 -- the config file named by --config
		if err != nil {
			return Config{}, fmt.Errorf("config file: %w", err)
		}
		if err := yaml.UnmarshalStrict(b, &c); err != nil {
			return Config{}, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	for _, o := range options {
		if v := getenv(envName(o.name)); v != "" {
			if err := o.set(&c, v); err != nil {
				return Config{}, fmt.Errorf("%s: %w", envName(o.name), err)
			}
		}
	}
	for _, apply := range flagged {
		if err := apply(&c); err != nil {
			return Config{}, err
		}
	}
	return c, nil
}

// Reference returns the table of flags and environment variables with their
// defaults, as Markdown (the README's configuration reference is checked
// against it).
func Reference() string {
	var b strings.Builder
	def := Default()
	b.WriteString("| flag | environment | default | meaning |\n| --- | --- | --- | --- |\n")
	b.WriteString("| `--config` | `" + EnvPrefix + "CONFIG` | | YAML or JSON configuration file |\n")
	for _, o := range options {
		d := o.get(&def)
		if d != "" && d != "null" {
			d = "`" + d + "`"
		} else {
			d = ""
		}
		fmt.Fprintf(&b, "| `--%s` | `%s` | %s | %s |\n", o.name, envName(o.name), d, o.usage)
	}
	return b.String()
}
