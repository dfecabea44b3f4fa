// Package repofiles holds the tests of the repository's own configuration
// files: the GitHub workflow and the Renovate configuration.
package repofiles
