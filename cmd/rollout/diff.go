package main

import (
	"flag"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"meshops.dev/meshops/internal/renderdiff"
	"meshops.dev/meshops/validate/explain"
	"meshops.dev/meshops/validate/render"
)

// mergeBase returns the merge base of HEAD and the main branch (local main,
// else origin/main, as a pull request's checkout has it); on main itself,
// where that is HEAD, the previous commit, so the last change shows.
func mergeBase(repo string) (string, error) {
	git := func(args ...string) (string, error) {
		out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).Output()
		return strings.TrimSpace(string(out)), err
	}
	for _, branch := range []string{"main", "origin/main"} {
		mb, err := git("merge-base", "HEAD", branch)
		if err != nil {
			continue
		}
		if head, err := git("rev-parse", "HEAD"); err == nil && head == mb {
			if prev, err := git("rev-parse", "--verify", "-q", "HEAD~1"); err == nil {
				return prev, nil
			}
		}
		return mb, nil
	}
	return "", fmt.Errorf("no merge base of HEAD with main or origin/main: pass --base REF (make diff BASE=ref)")
}

func diffCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	repo := repoFlag(fs)
	base := fs.String("base", "", "the git revision to compare the working tree with (default: the merge base with main; on main, the previous commit)")
	if !parse(fs, args, stderr) {
		return 2
	}
	rev := *base
	if rev == "" {
		var err error
		if rev, err = mergeBase(*repo); err != nil {
			fmt.Fprintf(stderr, "rollout diff: %v\n", err)
			return 2
		}
	}
	old, err := render.LoadGit(*repo, rev)
	if err != nil {
		fmt.Fprintf(stderr, "rollout diff: %v\n", err)
		return 2
	}
	cur, err := render.LoadDir(*repo)
	if err != nil {
		fmt.Fprintf(stderr, "rollout diff: %v\n", err)
		return 2
	}
	envs, err := renderdiff.Compare(old, cur)
	if err != nil {
		fmt.Fprintf(stderr, "rollout diff: %v\n", strings.Join(strings.Fields(err.Error()), " "))
		return 2
	}
	if err := renderdiff.Write(stdout, envs); err != nil {
		fmt.Fprintf(stderr, "rollout diff: %v\n", err)
		return 2
	}
	if err := explain.WriteChanges(stdout, old, cur); err != nil {
		fmt.Fprintf(stderr, "rollout diff: explain: %v\n", strings.Join(strings.Fields(err.Error()), " "))
		return 2
	}
	return 0
}
