// Package features resolves Dev Container Features: it parses feature references (OCI
// registry, https tarball, local folder), fetches them into a content-addressed cache,
// validates their devcontainer-feature.json and the user's options, computes the install order
// exactly like the reference CLI (dependsOn, installsAfter, overrideFeatureInstallOrder and
// its round-stable tie-break, including JavaScript localeCompare ordering), keeps
// devcontainer-lock.json, generates the Dockerfile that layers features onto an image with the
// classic builder, and packages and publishes features as OCI artifacts.
//
// The package is pure: it never talks to a container engine and never prints; callers inject a
// *slog.Logger and an *http.Client.
//
// Deliberate differences from the reference CLI (@devcontainers/cli 0.89.0):
//   - Options are validated: an option the feature does not declare, a value of the wrong type
//     or outside the option's enum is an error naming the feature (the reference ignores them).
//     A boolean option accepts "true"/"false" strings; a string option accepts numbers.
//   - Features are cached by digest across builds; with a lockfile nothing is downloaded again,
//     Offline resolves from the lockfile (or the last digest seen for a tag) and the cache, and
//     an unreachable registry or tarball host falls back to the cached resolution.
//   - installsAfter targets are not fetched just to learn their legacy ids; renamed features
//     are matched through the legacyIds of the installed feature instead.
//   - Legacy short ids ("node") and GitHub-release features (owner/repo/id) are refused with an
//     explanation; v1 features are not supported.
//   - The build is one classic-builder Dockerfile whose context holds the feature folders
//     under ContextDir (no temporary content image, no BuildKit build contexts, no syntax
//     line), written deterministically so Docker's layer cache is reused.
//   - The install wrapper's banner shows the user's reference for every kind of feature (the
//     reference prints "Unknown" for local and tarball features).
//   - A feature id must be usable as a folder name; registry-specific manifest annotations
//     are not written when publishing.
package features
