// Package testserver starts real backends for tests: redis-server processes
// (single node or a Redis Cluster) on free loopback ports. A backend that
// cannot start fails the test loudly, never skips it. The embedded
// MongoDB-wire server lives in the integration module (integration/
// mongoserver), so that this module does not require FerretDB.
package testserver
