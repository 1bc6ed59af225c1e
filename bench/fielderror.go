package bench

import "fmt"

// FieldError is an invalid option of a benchmark. Field is spelled like the
// berthctl flag that sets it, so the command can name the flag.
type FieldError struct {
	Field string
	Err   error
}

// Errorf returns a FieldError for field with a formatted reason.
func Errorf(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

func (e *FieldError) Error() string { return "field " + e.Field + ": " + e.Err.Error() }

// Unwrap returns the reason.
func (e *FieldError) Unwrap() error { return e.Err }
