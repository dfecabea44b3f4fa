// Command fork makes a copy of the repository a team's own (make init):
//
//	fork [--repo-root DIR] [--repo GIT-URL] [--registry HOST[:PORT]/PATH/NAME] [--domain DNS-SUFFIX] [--dry-run]
//
// It finds the values the manifests use today (the placeholders of a fresh
// clone, or the values of an earlier run), replaces them in place keeping
// comments and layout, validates the result in memory and writes it only if
// it adds no error finding.
//
// Exit status: 0 written (or nothing to change), 1 the result would not
// validate (nothing written), 2 bad input or an unreadable repository.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"meshops.dev/meshops/internal/fork"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fork", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("repo-root", ".", "the repository to edit")
	repo := fs.String("repo", "", "the fork's git URL (https://, ssh:// or git@host:path)")
	registry := fs.String("registry", "", "the plugin image repository, host[:port]/path/name (no tag, no digest)")
	domain := fs.String("domain", "", "the DNS suffix of the environments' host names, e.g. apps.acme.test")
	dryRun := fs.Bool("dry-run", false, "print the changes, validate them, write nothing")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "make init: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	v, err := fork.Parse(*repo, *registry, *domain)
	if err != nil {
		fmt.Fprintln(stderr, "make init:", err)
		return 2
	}
	var p *fork.Plan
	if *dryRun {
		if p, err = fork.NewPlan(*root, v); err == nil && len(p.Files) > 0 {
			var added []string
			findings, verr := p.Validate(*root)
			for _, f := range findings {
				added = append(added, "  "+f.String())
			}
			if verr != nil {
				err = verr
			} else if len(added) > 0 {
				err = &fork.Rejected{Findings: findings}
			}
		}
	} else {
		p, err = fork.Apply(*root, v)
	}
	if p != nil {
		for _, c := range p.Changes {
			fmt.Fprintln(stdout, c)
		}
	}
	var rejected *fork.Rejected
	switch {
	case errors.As(err, &rejected):
		fmt.Fprintln(stderr, "make init:", err)
		return 1
	case err != nil:
		fmt.Fprintln(stderr, "make init:", oneLine(err.Error()))
		return 2
	case len(p.Files) == 0:
		fmt.Fprintln(stdout, "nothing to change: the manifests already use these values")
	case *dryRun:
		fmt.Fprintf(stdout, "%d files would change and validate; nothing written (--dry-run)\n", len(p.Files))
	default:
		fmt.Fprintf(stdout, "%d files changed; the repository validates\n", len(p.Files))
		if strings.HasPrefix(v.Repo, "ssh://") {
			fmt.Fprintln(stdout, "note: an ssh:// repository needs credentials: a secretRef on Flux's GitRepository, a repository Secret in Argo CD")
		}
	}
	return 0
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
