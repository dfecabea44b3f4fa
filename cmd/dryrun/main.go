// Command dryrun asks a Kubernetes cluster, by server-side dry-run, whether
// it admits every object of every target the repository renders, in each
// way an engine applies it (server-side apply as Flux does, create with
// strict field validation as kubectl and Argo CD do). It changes nothing in
// the cluster. make validate CLUSTER=<kubeconfig context> runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"meshops.dev/meshops/validate/apiserver"
	"meshops.dev/meshops/validate/index"
	"meshops.dev/meshops/validate/render"
	"meshops.dev/meshops/validate/render/kustomize"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run returns 0 when the cluster admits everything, 1 when it refuses some
// object, 2 when the repository or the cluster cannot be reached.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dryrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kubeContext := fs.String("context", "", "the kubeconfig context of the cluster (required)")
	kubeconfig := fs.String("kubeconfig", "", "the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *kubeContext == "" || fs.NArg() > 1 {
		fmt.Fprintln(stderr, "usage: dryrun --context <kubeconfig context> [--kubeconfig file] [repo-root]")
		return 2
	}
	root := "."
	if fs.NArg() == 1 {
		root = fs.Arg(0)
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "dryrun: %v\n", err)
		return 2
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = *kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: *kubeContext}).ClientConfig()
	if err != nil {
		return fail(fmt.Errorf("kubeconfig context %q: %w", *kubeContext, err))
	}
	client, err := apiserver.NewClient(cfg)
	if err != nil {
		return fail(err)
	}
	tree, err := render.LoadDir(root)
	if err != nil {
		return fail(err)
	}
	targets, err := render.Discover(tree)
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	refused := 0
	for _, tg := range targets {
		res, err := kustomize.Render(tree, tg)
		if err != nil {
			fmt.Fprintf(stdout, "[%s] not sent: %v (make validate reports it)\n", tg.Dir, err)
			continue
		}
		refusals, err := client.CheckTarget(ctx, index.New(res), false)
		if err != nil {
			return fail(err)
		}
		for _, r := range refusals {
			fmt.Fprintln(stdout, r)
			if apiserver.MissingNamespace(r.Err) {
				fmt.Fprintf(stdout, "[%s] %s: its namespace does not exist in the cluster yet; a dry-run cannot create it\n", r.Target, r.Resource)
			}
		}
		refused += len(refusals)
	}
	fmt.Fprintf(stdout, "%d targets sent to context %s: %d refusals\n", len(targets), *kubeContext, refused)
	if refused > 0 {
		return 1
	}
	return 0
}
