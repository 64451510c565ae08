package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for database/sql
)

// freshSchema makes a new schema on the server of serverURL, empty but
// for what ddl (if any) makes in it, and returns the URL that puts the bot
// in it, and drop, which removes it. Each run starts from nothing, as a
// new deployment would.
func freshSchema(ctx context.Context, serverURL, ddl string) (schemaURL string, drop func(), err error) {
	admin, err := sql.Open("pgx", serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("open the PostgreSQL server: %w", err)
	}
	b := make([]byte, 6)
	rand.Read(b) // never fails; see crypto/rand.Read
	schema := "loadtest_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	drop = func() {
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		drop()
		return "", nil, fmt.Errorf("the PostgreSQL URL: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	if ddl != "" {
		if err := execIn(ctx, u.String(), ddl); err != nil {
			drop()
			return "", nil, fmt.Errorf("make the tables of schema %s: %w", schema, err)
		}
	}
	return u.String(), drop, nil
}

// execIn runs statement on the database of dbURL.
func execIn(ctx context.Context, dbURL, statement string) error {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, statement)
	return err
}
