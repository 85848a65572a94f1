package admin

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrInvalid is what every ValidationError matches (errors.Is): the
	// record was refused and nothing was written. A REST layer answers 400.
	ErrInvalid = errors.New("admin: invalid record")
	// ErrManaged means the record is defined by the server itself (an API
	// with Managed set) and cannot be deleted.
	ErrManaged = errors.New("admin: managed record")
)

// maxFieldErrors bounds the problems one ValidationError reports, so that a
// huge invalid record gets a bounded answer.
const maxFieldErrors = 50

// FieldError is one problem of a record: the field at fault, as a path of
// JSON names with indexes ("scopes[1].name"), and what is wrong with it.
type FieldError struct {
	// Field is the path of the field at fault.
	Field string `json:"field"`
	// Message says what is wrong, for people.
	Message string `json:"message"`
}

// ValidationError is a refused write: every problem found, field by field.
// It matches ErrInvalid.
type ValidationError struct {
	// Kind is the record kind ("api", "client", ...).
	Kind string `json:"kind"`
	// Fields are the problems, in field order, at most 50.
	Fields []FieldError `json:"fields"`
}

// Error implements error.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "admin: invalid %s:", e.Kind)
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, " %s: %s", f.Field, f.Message)
	}
	return b.String()
}

// Is makes a ValidationError match ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// checker collects the problems of one record.
type checker struct {
	kind   string
	fields []FieldError
}

// bad records a problem of field.
func (c *checker) bad(field, format string, args ...any) {
	if len(c.fields) < maxFieldErrors {
		c.fields = append(c.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
}

// err returns the ValidationError of the problems found, nil if none.
func (c *checker) err() error {
	if len(c.fields) == 0 {
		return nil
	}
	return &ValidationError{Kind: c.kind, Fields: c.fields}
}

// wrap names the record in a storage error (ErrDuplicate, ErrConflict,
// ErrNotFound stay errors.Is-able).
func wrap(kind, key string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("admin: %s %q: %w", kind, key, err)
}
