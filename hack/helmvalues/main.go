// Command helmvalues turns the outputs of one Terraform environment
// (`terraform output -json`, whose `platform` output holds the root module's
// outputs) and api/topology.yaml into a Helm values file for
// charts/eventplane: region, one consumer per topology consumer with its
// queue URL and DLQ, handler options resolved to the environment's physical
// names, idempotency table, and identity (EKS Pod Identity, or IRSA role ARNs
// with -identity irsa). hack/helm-values.sh runs it.
//
//	terraform -chdir=terraform/environments/prod output -json |
//	  go run ./hack/helmvalues -topology api/topology.yaml -env prod > build/values-prod.yaml
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"

	"sigs.k8s.io/yaml"

	"github.com/eventplane/eventplane/consumers/topology"
)

// outputs is the part of the root module's outputs the values need.
type outputs struct {
	Region         string            `json:"region"`
	NamePrefix     string            `json:"name_prefix"`
	BusNames       map[string]string `json:"bus_names"`
	QueueURLs      map[string]string `json:"queue_urls"`
	TopicARNs      map[string]string `json:"topic_arns"`
	TableNames     map[string]string `json:"table_names"`
	BucketNames    map[string]string `json:"bucket_names"`
	ConsumerRoles  map[string]string `json:"consumer_role_arns"`
	ConsumerQueues map[string]struct {
		QueueURL string `json:"queue_url"`
		DLQURL   string `json:"dlq_url"`
	} `json:"consumer_queues"`
}

// Options of the generated values.
type Options struct {
	// Identity is "pod-identity" (default; Terraform binds each consumer's
	// role to its ServiceAccount) or "irsa" (roleArn per consumer).
	Identity string
	// PostgresSecret names the Secret holding the PostgreSQL DSN (key dsn)
	// for consumers with an sql route.
	PostgresSecret string
}

type consumer struct {
	Name             string           `json:"name"`
	Queue            map[string]any   `json:"queue"`
	IdempotencyTable string           `json:"idempotencyTable,omitempty"`
	MaxInFlight      int              `json:"maxInFlight,omitempty"`
	Identity         map[string]any   `json:"identity"`
	Env              []map[string]any `json:"env,omitempty"`
	Routes           []map[string]any `json:"routes"`
}

// build returns the values document.
func build(raw []byte, top *topology.Topology, opt Options) (map[string]any, error) {
	var doc map[string]struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("terraform output -json: %w", err)
	}
	p, ok := doc["platform"]
	if !ok {
		return nil, errors.New(`terraform output -json has no "platform" output: run it in terraform/environments/<env>`)
	}
	var o outputs
	if err := json.Unmarshal(p.Value, &o); err != nil {
		return nil, fmt.Errorf("platform output: %w", err)
	}
	names := topology.Names{Tables: o.TableNames, Buckets: o.BucketNames, Topics: o.TopicARNs, Buses: o.BusNames, Queues: o.QueueURLs}
	var errs []error
	var consumers []consumer
	for _, c := range top.Consumers {
		q, ok := o.ConsumerQueues[c.Name]
		if !ok || q.QueueURL == "" {
			errs = append(errs, fmt.Errorf("consumer %s: no consumer_queues entry in the Terraform outputs (apply the environment first)", c.Name))
			continue
		}
		out := consumer{Name: c.Name, Queue: map[string]any{"url": q.QueueURL, "region": o.Region}}
		if q.DLQURL != "" {
			out.Queue["deadLetterUrl"] = q.DLQURL
		}
		if len(q.QueueURL) > 5 && q.QueueURL[len(q.QueueURL)-5:] == ".fifo" {
			out.Queue["fifo"] = true
		}
		switch opt.Identity {
		case "", "pod-identity":
			out.Identity = map[string]any{"podIdentity": true}
		case "irsa":
			role := o.ConsumerRoles[c.Name]
			if role == "" {
				errs = append(errs, fmt.Errorf("consumer %s: no consumer_role_arns entry (is eks.enabled true?)", c.Name))
			}
			out.Identity = map[string]any{"roleArn": role}
		default:
			return nil, fmt.Errorf("-identity %q: want pod-identity or irsa", opt.Identity)
		}
		if idem := top.IdempotencyTable(); idem != "" && slices.Contains(c.Uses.Tables, idem) {
			out.IdempotencyTable = o.TableNames[idem]
		}
		for _, r := range c.Routes {
			rt := map[string]any{"name": r.Name, "handler": r.Handler}
			if len(r.Pattern) > 0 {
				rt["pattern"] = json.RawMessage(r.Pattern)
			}
			if len(r.Options) > 0 {
				resolved, err := topology.ResolveOptions(r.Options, names)
				if err != nil {
					errs = append(errs, fmt.Errorf("consumer %s route %s: %w", c.Name, r.Name, err))
					continue
				}
				rt["options"] = json.RawMessage(resolved)
				if r.Handler == "archive" {
					// The archive holds events until their batch is written: a
					// batch fills only if maxInFlight reaches maxEvents.
					var ao struct {
						MaxEvents int `json:"maxEvents"`
					}
					_ = json.Unmarshal(resolved, &ao)
					out.MaxInFlight = max(out.MaxInFlight, ao.MaxEvents)
				}
				if r.Handler == "sql" {
					var so struct {
						DSNEnv string `json:"dsnEnv"`
					}
					_ = json.Unmarshal(resolved, &so)
					if so.DSNEnv == "" {
						so.DSNEnv = "EVENTPLANE_POSTGRES_DSN"
					}
					out.Env = append(out.Env, map[string]any{"name": so.DSNEnv,
						"valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": opt.PostgresSecret, "key": "dsn"}}})
				}
			}
			out.Routes = append(out.Routes, rt)
		}
		consumers = append(consumers, out)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return map[string]any{"region": o.Region, "consumers": consumers}, nil
}

func main() {
	topoPath := flag.String("topology", "api/topology.yaml", "topology file")
	env := flag.String("env", "", "environment name (written into the header)")
	in := flag.String("in", "-", "file with `terraform output -json` (- = stdin)")
	var opt Options
	flag.StringVar(&opt.Identity, "identity", "pod-identity", "pod-identity or irsa")
	flag.StringVar(&opt.PostgresSecret, "postgres-secret", "eventplane-postgres", "Secret with the PostgreSQL DSN (key dsn) for sql routes")
	flag.Parse()
	if err := run(*topoPath, *env, *in, opt, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "helmvalues:", err)
		os.Exit(1)
	}
}

func run(topoPath, env, in string, opt Options, w io.Writer) error {
	top, err := topology.Load(topoPath)
	if err != nil {
		return err
	}
	var raw []byte
	if in == "-" {
		raw, err = io.ReadAll(os.Stdin)
	} else {
		raw, err = os.ReadFile(in) // #nosec G304 -- a developer tool: reads the Terraform output file it is given
	}
	if err != nil {
		return err
	}
	v, err := build(raw, top, opt)
	if err != nil {
		return err
	}
	y, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "# Generated by hack/helm-values.sh from `terraform output -json` of environment %q\n# and %s. Do not edit: rerun after terraform apply.\n%s", env, topoPath, y)
	return err
}
