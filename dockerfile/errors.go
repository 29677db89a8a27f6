package dockerfile

import "errors"

// Errors returned by this package; wrapped with the line or stage at fault.
var (
	// ErrNoStage: the Dockerfile has no FROM instruction.
	ErrNoStage = errors.New("dockerfile contains no FROM instruction")
	// ErrUnknownStage: a build target names no stage of the Dockerfile.
	ErrUnknownStage = errors.New("no such stage")
	// ErrMissingImage: a FROM instruction has no (or an empty) image.
	ErrMissingImage = errors.New("missing image")
	// ErrStageCycle: FROM <stage> references form a loop.
	ErrStageCycle = errors.New("stages are built from each other in a cycle")
	// ErrTooDeep: variable definitions refer to each other too deeply (usually a loop).
	ErrTooDeep = errors.New("variable references nested too deeply")
)
