package config

import (
	"cmp"
	"errors"
	"slices"
)

// Read loads the file at path and validates it: the configuration a
// command runs with. It returns every problem at once, joined, in the
// order of the file: wrong types, unknown keys and broken rules alike, each
// a [*FieldError] with its path and, where the file has the setting, its
// line. An error that is not about a setting (the file cannot be opened, or
// is not YAML at all) comes back alone.
func Read(path string) (Config, error) {
	cfg, err := Load(path)
	var de *DecodeError
	if err != nil && !errors.As(err, &de) {
		return cfg, err
	}
	var problems []error
	if de != nil {
		problems = append(problems, de.Errs...)
	}
	if err := cfg.Validate(); err != nil {
		problems = append(problems, unwrapJoined(err)...)
	}
	sortByLine(problems)
	return cfg, errors.Join(problems...)
}

// sortByLine orders problems as their settings appear in the file; those
// about settings the file lacks come last, in the order they were found.
func sortByLine(problems []error) {
	line := func(err error) int {
		var fe *FieldError
		if errors.As(err, &fe) && fe.Line > 0 {
			return fe.Line
		}
		return int(^uint(0) >> 1)
	}
	slices.SortStableFunc(problems, func(a, b error) int { return cmp.Compare(line(a), line(b)) })
}

func unwrapJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
