// Package replicatest runs several replicas of the real bot binary side by
// side on one PostgreSQL database, one fake Slack and one fake AWS, and
// holds them to the guarantees of a single bot: one password per person,
// one effect per sweep, nothing leaked, whichever replica an envelope
// lands on and even when one replica is killed mid-burst. It has only
// tests.
package replicatest
