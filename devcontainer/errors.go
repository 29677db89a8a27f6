package devcontainer

import "errors"

// Sentinel errors; returned errors wrap them so callers can use errors.Is.
var (
	// ErrNotFound: no devcontainer.json was found where it was looked for.
	ErrNotFound = errors.New("dev container config not found")
	// ErrSyntax: the file is not valid JSON with comments.
	ErrSyntax = errors.New("syntax error")
	// ErrInvalid: a property has a value of the wrong type or form.
	ErrInvalid = errors.New("invalid value")
	// ErrSubstitute: a ${...} variable cannot be resolved.
	ErrSubstitute = errors.New("variable substitution")
	// ErrNotImplemented marks API parts not written yet.
	ErrNotImplemented = errors.New("not implemented")
)
