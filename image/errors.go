package image

import "errors"

var (
	// ErrNotFound: no source holds the image.
	ErrNotFound = errors.New("image not found")
	// ErrUnsafePath: a layer entry would be written outside the root file system.
	ErrUnsafePath = errors.New("unsafe path in layer")
)
