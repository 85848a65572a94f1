// Package testserver starts real backends for tests: redis-server processes
// (single node or a Redis Cluster) on free loopback ports, and an embedded
// MongoDB-wire server. A backend that cannot start fails the test loudly,
// never skips it.
package testserver
