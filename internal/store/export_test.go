package store

// Migrations exposes the migration list to the external tests.
var Migrations = migrations
