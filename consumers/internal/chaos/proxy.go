package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is what the proxy does to one AWS service's requests.
type Fault struct {
	// Mode: "" (pass), "reset" (close every connection with a TCP RST before
	// forwarding), "blackhole" (accept the request and never answer it: the
	// connection stays open and silent even after the fault is lifted, as a
	// TCP connection through a partition that healed does; only new
	// connections reach the service again).
	Mode string
	// Latency delays every request before it is forwarded.
	Latency time.Duration
	// ResetBefore and ResetAfter are the fractions of requests reset before
	// they reach the emulator and after it applied them (the response is
	// lost: the client sees an error for a call that took effect).
	ResetBefore, ResetAfter float64
}

// Proxy sits between clients and moto. It serialises SQS mutations (moto
// 5.2.1 loses deletes and delivers twice under concurrent requests), turns
// long polls into short polls taken under the same lock, and injects faults
// per service on its faulty listener. Its clean listener shares the lock but
// never injects faults: the harness itself uses it.
type Proxy struct {
	target *url.URL
	client *http.Client
	sqsMu  sync.Mutex

	mu       sync.Mutex
	faults   map[string]Fault
	closed   chan struct{} // closed by Close: black-holed connections end
	requests map[string]*atomic.Int64
	okAt     []time.Time // successful SNS Publish responses on the faulty listener
	calls    []Call      // effect and idempotency calls on the faulty listener

	clean, faulty net.Listener
	servers       []*http.Server
}

// NewProxy listens on two loopback ports in front of target.
func NewProxy(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	p := &Proxy{target: u, faults: map[string]Fault{}, closed: make(chan struct{}),
		requests: map[string]*atomic.Int64{},
		client:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}}}
	for _, faulty := range []bool{false, true} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		srv := &http.Server{Handler: p.handler(faulty), ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: log.New(io.Discard, "", 0)}
		p.servers = append(p.servers, srv)
		if faulty {
			p.faulty = ln
		} else {
			p.clean = ln
		}
		go func() { _ = srv.Serve(ln) }()
	}
	return p, nil
}

// CleanURL is the harness's endpoint; FaultyURL the consumer's.
func (p *Proxy) CleanURL() string  { return "http://" + p.clean.Addr().String() }
func (p *Proxy) FaultyURL() string { return "http://" + p.faulty.Addr().String() }

// Close stops both listeners and releases black-holed connections.
func (p *Proxy) Close() {
	p.SetFault("", Fault{})
	close(p.closed)
	for _, s := range p.servers {
		_ = s.Close()
	}
}

// SetFault sets service's fault ("" clears every fault).
func (p *Proxy) SetFault(service string, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if service == "" {
		p.faults = map[string]Fault{}
	} else if f == (Fault{}) {
		delete(p.faults, service)
	} else {
		p.faults[service] = f
	}
}

// Requests returns the number of requests the faulty listener received,
// by service, since the start.
func (p *Proxy) Requests() map[string]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int64{}
	for s, n := range p.requests {
		out[s] = n.Load()
	}
	return out
}

// FirstPublishAfter returns the first successful SNS Publish on the faulty
// listener at or after t (zero if none).
func (p *Proxy) FirstPublishAfter(t time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, at := range p.okAt {
		if !at.Before(t) {
			return at
		}
	}
	return time.Time{}
}

var attemptRE = regexp.MustCompile(`attempt=(\d+)`)

var scopeRE = regexp.MustCompile(`Credential=[^/]+/[^/]+/[^/]+/([^/]+)/`)

// service reads the SigV4 credential scope's service ("sqs", "sns", "dynamodb").
func service(r *http.Request) string {
	if m := scopeRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	return "other"
}

// operation reads the JSON protocol's X-Amz-Target or the query protocol's Action.
func operation(r *http.Request, body []byte) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t[strings.LastIndexByte(t, '.')+1:]
	}
	if v, err := url.ParseQuery(string(body)); err == nil {
		return v.Get("Action")
	}
	return ""
}

func (p *Proxy) count(svc string) {
	p.mu.Lock()
	c := p.requests[svc]
	if c == nil {
		c = &atomic.Int64{}
		p.requests[svc] = c
	}
	p.mu.Unlock()
	c.Add(1)
}

func (p *Proxy) handler(faulty bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		svc, op := service(r), operation(r, body)
		var f Fault
		if faulty {
			p.count(svc)
			p.mu.Lock()
			f = p.faults[svc]
			p.mu.Unlock()
		}
		switch {
		case f.Mode == "reset" || (f.ResetBefore > 0 && rand.Float64() < f.ResetBefore):
			reset(w)
			return
		case f.Mode == "blackhole":
			conn := hijack(w)
			if conn == nil {
				return
			}
			select {
			case <-p.closed:
			case <-time.After(15 * time.Minute): // bounded, whatever happens
			}
			_ = conn.Close()
			return
		}
		if f.Latency > 0 {
			select {
			case <-time.After(f.Latency):
			case <-r.Context().Done():
				return
			}
		}
		arrived := time.Now()
		status, hdr, out, err := p.forward(r, svc, op, body)
		if faulty {
			p.record(r, svc, op, body, arrived, status, err)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if f.ResetAfter > 0 && rand.Float64() < f.ResetAfter {
			reset(w)
			return
		}
		if faulty && svc == "sns" && op == "Publish" && status == http.StatusOK {
			p.mu.Lock()
			p.okAt = append(p.okAt, time.Now())
			p.mu.Unlock()
		}
		for k, vs := range hdr {
			if k == "Content-Length" || k == "Connection" {
				continue
			}
			w.Header()[k] = vs
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.WriteHeader(status)
		_, _ = w.Write(out)
	}
}

// Call is one effect (SNS Publish, DynamoDB PutItem of the store table) or
// idempotency record write (Begin, Extend, Complete, Release) that reached
// moto from the consumer: what the suite reads to tell where a repeated
// effect came from.
type Call struct {
	Kind string // "publish", "put", "begin", "extend", "complete", "release"
	// ID is the event id of a publish or put; Key the idempotency record's
	// key (or the put's table key).
	ID, Key, Table    string
	Topic             string // a publish's TopicArn
	Arrived, Answered time.Time
	Status            int  // moto's HTTP status (0: not forwarded)
	Attempt           int  // the SDK's attempt number (amz-sdk-request), 0 if absent
	ClientGone        bool // the client's connection was closed when moto answered
}

// Calls returns the recorded calls in the order moto answered them.
func (p *Proxy) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

// ResetCalls forgets the recorded calls (a new scenario starts).
func (p *Proxy) ResetCalls() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls, p.okAt = nil, nil
}

func (p *Proxy) record(r *http.Request, svc, op string, body []byte, arrived time.Time, status int, err error) {
	c := Call{Arrived: arrived, Answered: time.Now(), Status: status, ClientGone: r.Context().Err() != nil}
	// "attempt=2; max=3": the SDK retrying a call.
	if m := attemptRE.FindStringSubmatch(r.Header.Get("Amz-Sdk-Request")); m != nil {
		c.Attempt, _ = strconv.Atoi(m[1])
	}
	if err != nil {
		c.Status = 0
	}
	switch {
	case svc == "sns" && op == "Publish":
		v, _ := url.ParseQuery(string(body))
		var ev struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal([]byte(v.Get("Message")), &ev)
		c.Kind, c.ID, c.Topic = "publish", ev.ID, v.Get("TopicArn")
	case svc == "dynamodb":
		var in struct {
			TableName                 string
			Item, Key                 map[string]map[string]any
			ExpressionAttributeValues map[string]any
		}
		if json.Unmarshal(body, &in) != nil {
			return
		}
		c.Table = in.TableName
		attrs := in.Key
		if attrs == nil {
			attrs = in.Item
		}
		if pk, ok := attrs["pk"]["S"].(string); ok {
			c.Key = pk
		}
		if id, ok := in.Item["eventId"]["S"].(string); ok {
			c.ID = id
		}
		switch {
		case op == "PutItem" && c.ID != "":
			c.Kind = "put"
		case op == "PutItem":
			c.Kind = "begin"
		case op == "UpdateItem" && in.ExpressionAttributeValues[":done"] != nil:
			c.Kind = "complete"
		case op == "UpdateItem":
			c.Kind = "extend"
		case op == "DeleteItem":
			c.Kind = "release"
		default:
			return
		}
	default:
		return
	}
	p.mu.Lock()
	p.calls = append(p.calls, c)
	p.mu.Unlock()
}

func hijack(w http.ResponseWriter) net.Conn {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return nil
	}
	return conn
}

// reset closes the client's connection with a TCP RST (SO_LINGER 0).
func reset(w http.ResponseWriter) {
	conn := hijack(w)
	if conn == nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// forward sends the request to moto. SQS calls and SNS Publish (which
// writes to subscribed queues) run under one lock; a long poll becomes short
// polls under the lock, 100 ms apart, until messages arrive or its wait ends.
func (p *Proxy) forward(r *http.Request, svc, op string, body []byte) (int, http.Header, []byte, error) {
	serial := svc == "sqs" || (svc == "sns" && op == "Publish")
	if svc == "sqs" && op == "ReceiveMessage" {
		var in map[string]any
		if json.Unmarshal(body, &in) == nil {
			wait, _ := in["WaitTimeSeconds"].(float64)
			if wait > 0 {
				in["WaitTimeSeconds"] = 0
				short, _ := json.Marshal(in)
				deadline := time.Now().Add(time.Duration(wait) * time.Second)
				for {
					status, hdr, out, err := p.locked(r, short)
					if err != nil || status != http.StatusOK || bytes.Contains(out, []byte(`"Messages"`)) || !time.Now().Before(deadline) {
						return status, hdr, out, err
					}
					select {
					case <-time.After(100 * time.Millisecond):
					case <-r.Context().Done():
						return 0, nil, nil, r.Context().Err()
					}
				}
			}
		}
	}
	if serial {
		return p.locked(r, body)
	}
	return p.send(r.Context(), r, body)
}

func (p *Proxy) locked(r *http.Request, body []byte) (int, http.Header, []byte, error) {
	p.sqsMu.Lock()
	defer p.sqsMu.Unlock()
	// Once admitted, a mutation completes even if its client gave up: a
	// half-applied call is what a real service would also leave behind.
	return p.send(context.WithoutCancel(r.Context()), r, body)
}

func (p *Proxy) send(ctx context.Context, r *http.Request, body []byte) (int, http.Header, []byte, error) {
	u := *p.target
	u.Path, u.RawQuery = r.URL.Path, r.URL.RawQuery
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header = r.Header.Clone()
	req.Header.Del("Content-Length")
	req.ContentLength = int64(len(body))
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out, err
}
