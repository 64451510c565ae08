package password

import "log/slog"

// Secret holds a generated password. Every way of printing it, by fmt,
// slog, JSON or text marshalling, gives "[redacted]"; only Reveal gives the
// password, and only the code that sends it to its owner calls Reveal.
type Secret struct{ s string }

const redacted = "[redacted]"

// Reveal returns the password itself.
func (s Secret) Reveal() string { return s.s }

// IsZero reports whether s holds no password.
func (s Secret) IsZero() bool { return s.s == "" }

// String redacts the password.
func (Secret) String() string { return redacted }

// GoString redacts the password from %#v.
func (Secret) GoString() string { return redacted }

// LogValue redacts the password from slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText redacts the password from encoders.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
