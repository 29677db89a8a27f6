package agent

import "errors"

var (
	// ErrUnknownUser: the session's user is neither in the passwd file nor numeric.
	ErrUnknownUser = errors.New("unknown user")
	// ErrNoAuthorizedKeys: the agent was asked to serve a stream that is not private
	// (a socket or TCP) without a key to check its clients against.
	ErrNoAuthorizedKeys = errors.New("no authorized keys for a non-private stream")
	// ErrUserSwitch: the agent does not run as root and cannot become another user.
	ErrUserSwitch = errors.New("cannot switch user without root")
	// ErrNoFDPassing: the link to the agent cannot hand descriptors over (not a local unix
	// socket, or an agent that predates it); the caller relays through SSH channels instead.
	ErrNoFDPassing = errors.New("agent link cannot pass descriptors")
)
