// Command rollout changes what an environment runs, one reviewed edit at a
// time, and shows what a branch changes in each environment.
//
//	rollout bump    --env dev --image NAME [--tag TAG] [--digest sha256:...]
//	rollout promote --from dev --to staging [--digest sha256:...]
//	rollout diff    [--base REF]
//
// bump and promote edit overlays/<env>/kustomization.yaml (only the images:
// entries they change), validate the edited repository in memory, and write
// the file atomically only if the edit adds no error (internal/safeedit).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"meshops.dev/meshops/internal/pins"
	"meshops.dev/meshops/internal/safeedit"
	"meshops.dev/meshops/validate/render"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = `Usage:
  rollout bump    --env ENV --image NAME [--tag TAG] [--digest sha256:...]   pin one image in one overlay
  rollout promote --from ENV --to ENV [--digest sha256:...]                  copy the pins of the images the target renders
  rollout diff    [--base REF]                                               what the working tree changes in each environment
Run rollout COMMAND --help for its flags. Every command takes --repo DIR (default .).`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	var code int
	switch args[0] {
	case "bump":
		code = bump(args[1:], stdout, stderr)
	case "promote":
		code = promote(args[1:], stdout, stderr)
	case "diff":
		code = diffCmd(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
	default:
		fmt.Fprintf(stderr, "rollout: unknown command %q\n%s\n", args[0], usage)
		code = 2
	}
	return code
}

// overlayFile returns the kustomization file of overlays/<env>, or an error
// listing the environments there are.
func overlayFile(repo, env string) (string, error) {
	_, _, file, err := overlay(repo, env)
	return file, err
}

// overlay returns the repository, the target of overlays/<env> and its
// kustomization file.
func overlay(repo, env string) (*render.Tree, render.Target, string, error) {
	tree, err := render.LoadDir(repo)
	if err != nil {
		return nil, render.Target{}, "", err
	}
	targets, err := render.Discover(tree)
	if err != nil {
		return nil, render.Target{}, "", err
	}
	var envs []string
	for _, tg := range targets {
		if tg.Kind != render.Overlay {
			continue
		}
		envs = append(envs, tg.Name())
		if tg.Name() == env && !strings.ContainsAny(env, `/\`) {
			return tree, tg, filepath.Join(repo, filepath.FromSlash(render.KustomizationFile(tree, tg.Dir))), nil
		}
	}
	return nil, render.Target{}, "", fmt.Errorf("unknown environment %q (overlays/ has %s)", env, strings.Join(envs, ", "))
}

func readPins(file string) (*pins.File, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return pins.Parse(file, src)
}

// commit validates the repository with f in place of its file, in memory
// and over every target, and writes f (atomically) only when that adds no
// error-level finding: an overlay already broken does not block the edit.
func commit(repo, dir string, f *pins.File, _ []byte, stdout, stderr io.Writer) int {
	rel, err := filepath.Rel(repo, f.Path)
	if err != nil {
		fmt.Fprintf(stderr, "rollout: %v\n", err)
		return 2
	}
	err = safeedit.Write(repo, map[string][]byte{filepath.ToSlash(rel): f.Bytes()}, safeedit.Options{RootNamespace: "istio-system"})
	var refused *safeedit.Refused
	switch {
	case errors.As(err, &refused):
		problems := make([]string, len(refused.Added))
		for i, fd := range refused.Added {
			problems[i] = fd.String()
		}
		fmt.Fprintf(stderr, "rollout: the edit of %s adds errors, so %s is left as it was:\n  %s\n", dir, f.Path, strings.Join(problems, "\n  "))
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "rollout: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "%s validates\n", dir)
	return 0
}

func repoFlag(fs *flag.FlagSet) *string {
	return fs.String("repo", ".", "the repository root")
}

func parse(fs *flag.FlagSet, args []string, stderr io.Writer) bool {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rollout %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return false
	}
	return true
}

func bump(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bump", flag.ContinueOnError)
	repo := repoFlag(fs)
	env := fs.String("env", "", "the environment (a folder of overlays/)")
	image := fs.String("image", "", "the image: its images: name, newName, or last path element")
	tag := fs.String("tag", "", "the new tag (a tag alone drops a digest)")
	digest := fs.String("digest", "", "the new digest, sha256:... (a digest alone drops the tag)")
	if !parse(fs, args, stderr) {
		return 2
	}
	if *env == "" || *image == "" {
		fmt.Fprintln(stderr, "rollout bump: --env and --image are required (make bump ENV=dev IMAGE=name TAG=tag)")
		return 2
	}
	file, err := overlayFile(*repo, *env)
	if err != nil {
		fmt.Fprintf(stderr, "rollout bump: %v\n", err)
		return 2
	}
	f, err := readPins(file)
	if err != nil {
		fmt.Fprintf(stderr, "rollout bump: %v\n", err)
		return 2
	}
	original := append([]byte(nil), f.Bytes()...)
	before, after, err := f.Set(*image, *tag, *digest)
	if err != nil {
		fmt.Fprintf(stderr, "rollout bump: %v\n", err)
		return 2
	}
	if string(f.Bytes()) == string(original) {
		fmt.Fprintf(stdout, "%s: %s is already %s\n", file, after.Name, after.Ref())
		return 0
	}
	fmt.Fprintf(stdout, "%s: %s -> %s\n", file, before.Ref(), after.Ref())
	return commit(*repo, path.Join("overlays", *env), f, original, stdout, stderr)
}
