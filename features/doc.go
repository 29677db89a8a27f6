// Package features resolves Dev Container Features: it parses feature references (OCI
// registry, https tarball, local folder), fetches them into a content-addressed cache,
// validates their devcontainer-feature.json and the user's options, computes the install order
// exactly like the reference CLI (dependsOn, installsAfter, overrideFeatureInstallOrder), keeps
// devcontainer-lock.json, generates the Dockerfile that layers features onto an image with the
// classic builder, and packages and publishes features as OCI artifacts.
//
// The package is pure: it never talks to a container engine and never prints; callers inject a
// *slog.Logger and an *http.Client.
package features
