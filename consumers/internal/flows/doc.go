// Package flows holds the end-to-end tests of the platform's flows: the
// sample topology is bootstrapped in moto and consumers run the real runtime,
// SQS source and handlers with the real AWS SDK clients.
package flows
