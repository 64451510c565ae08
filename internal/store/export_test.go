package store

import "github.com/pressly/goose/v3"

// MigrationSources returns the SQL of dialect's migrations ("sqlite" or
// "postgres"), in order, for the external tests.
func MigrationSources(dialect string) ([]string, error) {
	d := goose.DialectSQLite3
	if dialect == "postgres" {
		d = goose.DialectPostgres
	}
	dir := "migrations/" + migrationDir(d)
	entries, err := migrationFiles.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		b, err := migrationFiles.ReadFile(dir + "/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, string(b))
	}
	return out, nil
}
