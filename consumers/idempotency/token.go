package idempotency

import (
	"crypto/rand"
	"encoding/hex"
)

func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
