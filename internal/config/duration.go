package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as "30m", "1h30m" or "7d" in YAML
// and on the command line (it is a flag.Value).
type Duration time.Duration

// ErrNotDuration is the error of a value that is not a duration.
var ErrNotDuration = errors.New("not a duration")

// day is a day as cooldowns, timeouts and audit windows mean it: 24 hours,
// whatever the clocks do.
const day = 24 * time.Hour

// ParseDuration is [time.ParseDuration] that also takes whole or decimal
// days before the rest: "7d", "1d12h", "1.5d". A day is 24 hours.
func ParseDuration(s string) (time.Duration, error) {
	days, rest, hasDays := strings.Cut(s, "d")
	if !hasDays {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%q: %w", s, ErrNotDuration)
		}
		return d, nil
	}
	sign := time.Duration(1)
	switch {
	case strings.HasPrefix(days, "-"):
		sign, days = -1, days[1:]
	case strings.HasPrefix(days, "+"):
		days = days[1:]
	}
	n, err := strconv.ParseFloat(days, 64)
	if err != nil || days == "" || days[0] < '0' || days[0] > '9' || n > float64(math.MaxInt64)/float64(day) {
		return 0, fmt.Errorf("%q: %w", s, ErrNotDuration)
	}
	d := time.Duration(n * float64(day))
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil || strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "+") || r > math.MaxInt64-d {
			return 0, fmt.Errorf("%q: %w", s, ErrNotDuration)
		}
		d += r
	}
	return sign * d, nil
}

// UnmarshalYAML reads a duration: a Go duration string, or days.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a duration, e.g. \"10m\", not %s", describe(n))
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return errors.New(durationHint(n.Value))
	}
	*d = Duration(v)
	return nil
}

// durationHint says what is wrong with s, which is not a duration.
func durationHint(s string) string {
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return fmt.Sprintf("%s has no unit: write e.g. \"%ss\" for seconds or \"%sm\" for minutes", s, s, s)
	}
	return fmt.Sprintf("%q is not a duration, e.g. \"10m\", \"2h\" or \"7d\"", s)
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// String writes the duration as it would be configured: "7d", "1h30m",
// "90s", without time.Duration's trailing zero units ("1h30m0s").
func (d Duration) String() string {
	t := time.Duration(d)
	if t != 0 && t%day == 0 {
		return strconv.FormatInt(int64(t/day), 10) + "d"
	}
	s := t.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Set parses a command-line value, as flag.Value.
func (d *Duration) Set(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		return errors.New(durationHint(s))
	}
	*d = Duration(v)
	return nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
