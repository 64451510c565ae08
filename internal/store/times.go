package store

import (
	"database/sql"
	"fmt"
	"math"
	"time"
)

// Times are stored as INTEGER unix nanoseconds, which sort and compare in
// SQL and keep full precision; NULL is the zero time. Unix nanoseconds in an
// int64 cover 1677 to 2262, and times outside that range are refused rather
// than wrapped around.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// nanos converts t for storage.
func nanos(t time.Time) (sql.NullInt64, error) {
	if t.IsZero() {
		return sql.NullInt64{}, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return sql.NullInt64{}, fmt.Errorf("time %s is out of range", t.UTC().Format(time.RFC3339Nano))
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}, nil
}

// nanosAll converts each of ts for storage.
func nanosAll(ts ...time.Time) ([]sql.NullInt64, error) {
	out := make([]sql.NullInt64, len(ts))
	for i, t := range ts {
		n, err := nanos(t)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// queryNanos converts t for comparison in a query, clamping it to the
// storable range (the zero time is before every stored time).
func queryNanos(t time.Time) int64 {
	switch {
	case t.IsZero() || t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// fromNanos converts a stored time back, in UTC.
func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}
