// Command rollout changes what an environment runs, one reviewed edit at a
// time, and shows what a branch changes in each environment.
//
//	rollout bump    --env dev --image NAME [--tag TAG] [--digest sha256:...]
//	rollout promote --from dev --to staging
//	rollout diff    [--base REF]
//
// bump and promote edit overlays/<env>/kustomization.yaml in place (only the
// images: entries they change), write atomically, re-run the validator, and
// put the file back as it was if the overlay no longer validates.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"meshops.dev/meshops/internal/pins"
	"meshops.dev/meshops/validate/check"
	"meshops.dev/meshops/validate/pipeline"
	"meshops.dev/meshops/validate/render"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = `Usage:
  rollout bump    --env ENV --image NAME [--tag TAG] [--digest sha256:...]   pin one image in one overlay
  rollout promote --from ENV --to ENV                                        copy every pin from one overlay to another
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
	tree, err := render.LoadDir(repo)
	if err != nil {
		return "", err
	}
	targets, err := render.Discover(tree)
	if err != nil {
		return "", err
	}
	var envs []string
	for _, tg := range targets {
		if tg.Kind != render.Overlay {
			continue
		}
		envs = append(envs, tg.Name())
		if tg.Name() == env && !strings.ContainsAny(env, `/\`) {
			return filepath.Join(repo, filepath.FromSlash(render.KustomizationFile(tree, tg.Dir))), nil
		}
	}
	return "", fmt.Errorf("unknown environment %q (overlays/ has %s)", env, strings.Join(envs, ", "))
}

func readPins(file string) (*pins.File, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return pins.Parse(file, src)
}

// commit writes f, validates the repository and restores the original bytes
// if overlay dir has error-level findings or does not render.
func commit(repo, dir string, f *pins.File, original []byte, stdout, stderr io.Writer) int {
	if err := pins.WriteAtomic(f.Path, f.Bytes()); err != nil {
		fmt.Fprintf(stderr, "rollout: %v\n", err)
		return 2
	}
	res, err := pipeline.Run(repo, pipeline.Options{RootNamespace: "istio-system"})
	var problems []string
	if err != nil {
		problems = append(problems, err.Error())
	} else {
		// The overlay, or the entry points that apply it.
		renders := map[string]bool{dir: true}
		for _, tg := range res.Targets {
			if tg.Dir == dir {
				renders[tg.ID()] = true
			}
		}
		for _, fd := range res.Findings {
			if fd.Severity == check.Error && renders[fd.Target] {
				problems = append(problems, fd.String())
			}
		}
	}
	if len(problems) == 0 {
		fmt.Fprintf(stdout, "%s validates\n", dir)
		return 0
	}
	if err := pins.WriteAtomic(f.Path, original); err != nil {
		fmt.Fprintf(stderr, "rollout: validation failed and restoring %s failed too: %v\n", f.Path, err)
		return 2
	}
	fmt.Fprintf(stderr, "rollout: %s no longer validates, so %s is left as it was:\n  %s\n", dir, f.Path, strings.Join(problems, "\n  "))
	return 1
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

func promote(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("promote", flag.ContinueOnError)
	repo := repoFlag(fs)
	from := fs.String("from", "", "the environment to copy pins from")
	to := fs.String("to", "", "the environment to copy pins to")
	if !parse(fs, args, stderr) {
		return 2
	}
	if *from == "" || *to == "" || *from == *to {
		fmt.Fprintln(stderr, "rollout promote: --from and --to must name two environments (make promote FROM=dev TO=staging)")
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "rollout promote: %v\n", err)
		return 2
	}
	fromFile, err := overlayFile(*repo, *from)
	if err != nil {
		return fail(err)
	}
	toFile, err := overlayFile(*repo, *to)
	if err != nil {
		return fail(err)
	}
	src, err := readPins(fromFile)
	if err != nil {
		return fail(err)
	}
	dst, err := readPins(toFile)
	if err != nil {
		return fail(err)
	}
	original := append([]byte(nil), dst.Bytes()...)
	changes, err := dst.Promote(src)
	if err != nil {
		return fail(err)
	}
	if len(changes) == 0 {
		fmt.Fprintf(stdout, "%s already runs what %s runs\n", *to, *from)
		return 0
	}
	for _, c := range changes {
		if c.Added {
			fmt.Fprintf(stdout, "%s: %s (added)\n", toFile, c.After.Ref())
		} else {
			fmt.Fprintf(stdout, "%s: %s -> %s\n", toFile, c.Before.Ref(), c.After.Ref())
		}
	}
	return commit(*repo, path.Join("overlays", *to), dst, original, stdout, stderr)
}
