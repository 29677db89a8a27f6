// Package devcontainer is the pure model of devcontainer.json with the meaning the Dev
// Container reference CLI gives it: discovery of the configuration file, JSONC parsing with
// errors that name file, line and column, legacy property migration, the three phases of
// variable substitution, the identity of a workspace (id labels, ${devcontainerId}, image
// names), the workspace mount layout, --mount strings and lifecycle command forms.
//
// It never talks to an engine or the network; callers supply the environment (host
// variables, container environment, id labels) the substitution phases need.
package devcontainer
