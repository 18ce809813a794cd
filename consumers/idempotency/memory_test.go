package idempotency

import (
	"context"
	"sync"
	"time"
)

// Memory is an in-process Store for this package's tests: the middleware's
// tests run on it with a fake clock, and TestStoreContract holds it to the
// same contract as the DynamoDB store. The consumers use DynamoDB; the local
// platform keeps the same records in its embedded tables.
type Memory struct {
	mu      sync.Mutex
	records map[string]record
	now     func() time.Time
}

type record struct {
	token string
	done  bool
	until time.Time // lease end, or expiry of the completed marker
}

// newMemory returns an empty store.
func newMemory() *Memory { return &Memory{records: map[string]record{}, now: time.Now} }

// Begin implements Store.
func (m *Memory) Begin(_ context.Context, key, token string, lease time.Duration) (State, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if r, ok := m.records[key]; ok && now.Before(r.until) {
		if r.done {
			return Done, time.Time{}, nil
		}
		return Busy, r.until, nil
	}
	m.records[key] = record{token: token, until: now.Add(lease)}
	return Claimed, time.Time{}, nil
}

// Extend implements Store.
func (m *Memory) Extend(_ context.Context, key, token string, lease time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[key]
	if !ok || r.token != token || r.done {
		return ErrLeaseLost
	}
	r.until = m.now().Add(lease)
	m.records[key] = r
	return nil
}

// Complete implements Store.
func (m *Memory) Complete(_ context.Context, key, token string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.records[key]; !ok || r.token != token {
		return ErrLeaseLost
	}
	m.records[key] = record{token: token, done: true, until: m.now().Add(ttl)}
	return nil
}

// Release implements Store.
func (m *Memory) Release(_ context.Context, key, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.records[key]; ok && r.token == token && !r.done {
		delete(m.records, key)
	}
	return nil
}
