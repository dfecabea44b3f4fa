// Package bench measures the validator against the stock kustomize CLI on
// repositories with many environments, generated from the real overlays.
//
//	make bench
package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"meshops.dev/meshops/validate/pipeline"
)

const repoRoot = "../.."

// sizes are the numbers of environments; BENCH_SIZES=10,100 picks some.
var sizes = benchSizes()

func benchSizes() []int {
	env := os.Getenv("BENCH_SIZES")
	if env == "" {
		return []int{10, 100, 500}
	}
	var out []int
	for _, f := range strings.Split(env, ",") {
		var n int
		if _, err := fmt.Sscan(f, &n); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

// validatorBinary builds the validator into the benchmark's temporary
// directory, which the testing package removes when the benchmark ends.
func validatorBinary(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "validate")
	if out, err := exec.Command("go", "build", "-o", bin, "meshops.dev/meshops/validate").CombinedOutput(); err != nil {
		b.Fatalf("build validator: %v: %s", err, out)
	}
	return bin
}

// kustomizeBinary locates the kustomize CLI pinned in go.mod (built into Go's
// build cache, not a temporary directory).
func kustomizeBinary(b *testing.B) string {
	b.Helper()
	out, err := exec.Command("go", "tool", "-n", "kustomize").Output()
	if err != nil {
		b.Fatalf("build kustomize CLI: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// shape is how a generated cluster folder differs from the one it copies.
type shape string

const (
	// renamed: every Argo CD Application gets the environment's suffix
	// (istiod-staging-004), so no two clusters declare the same release.
	renamed shape = "renamed"
	// copied: a team copies a cluster folder and renames only the overlay
	// path and the blog Application; the Istio Applications keep their
	// names, so many clusters declare the same releases.
	copied shape = "copied"
)

var shapes = []shape{renamed, copied}

// generate writes a repository with n environments: a copy of every file of
// this repository (as a team's fork holds them: .github/, the README, the
// tools, which source-controller leaves out of a Flux artifact), and overlays
// cycled from the real dev, staging and prod overlays, each deployed through
// a Flux and an Argo CD entry point (a copy of the real cluster folders,
// pointed at it, renamed as sh says).
func generate(b *testing.B, n int, sh shape) (root string, overlays []string) {
	b.Helper()
	root = b.TempDir()
	copyRepository(b, root)
	envs := []string{"dev", "staging", "prod"}
	for i := 0; i < n; i++ {
		src := envs[i%len(envs)]
		name := src // the first three keep their names, so clusters/ still points at them
		if i >= len(envs) {
			// Copies of staging and prod: they pin the plugin by digest, as
			// IMG003 asks of every synced environment but dev.
			src = envs[1+i%2]
			name = fmt.Sprintf("%s-%03d", src, i)
		}
		dst := filepath.Join(root, "overlays", name)
		copyTree(b, filepath.Join(repoRoot, "overlays", src), dst)
		// Give each environment its own host, so no two render the same.
		k := filepath.Join(dst, "kustomization.yaml")
		data, err := os.ReadFile(k)
		if err != nil {
			b.Fatal(err)
		}
		data = []byte(strings.ReplaceAll(string(data), "value: [blog.", "value: ["+name+".blog."))
		if err := os.WriteFile(k, data, 0o644); err != nil {
			b.Fatal(err)
		}
		overlays = append(overlays, dst)
		if i >= len(envs) {
			cluster := filepath.Join(root, "clusters", name)
			copyTree(b, filepath.Join(repoRoot, "clusters", src), cluster)
			err := filepath.WalkDir(cluster, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				s := strings.ReplaceAll(string(data), "overlays/"+src+"\n", "overlays/"+name+"\n")
				if sh == renamed {
					s = strings.ReplaceAll(s, "-"+src+"\n", "-"+name+"\n") // every Argo CD Application
				} else {
					s = strings.ReplaceAll(s, "name: blog-"+src+"\n", "name: blog-"+name+"\n")
				}
				return os.WriteFile(p, []byte(s), 0o644)
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	return root, overlays
}

// BenchmarkShippedRepository is the validator on this repository, in
// process, warm (after a first run): render, index, every check.
func BenchmarkShippedRepository(b *testing.B) {
	if _, err := pipeline.Run(repoRoot, pipeline.Options{RootNamespace: "istio-system"}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := pipeline.Run(repoRoot, pipeline.Options{RootNamespace: "istio-system"})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Findings) > 0 {
			b.Fatalf("the shipped repository has findings: %v", res.Findings[0])
		}
	}
}

// validatorArgs are the validator's arguments for run i of a benchmark on
// root: with BENCH_CPUPROFILE=dir, each run also writes its CPU profile
// there (dir/name-i.pprof), which make pgo merges into validate/default.pgo.
func validatorArgs(b *testing.B, root, name string, i int) []string {
	b.Helper()
	args := []string{"-o", "json", root}
	if dir := os.Getenv("BENCH_CPUPROFILE"); dir != "" {
		args = append([]string{"-cpuprofile", filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", name, i))}, args...)
	}
	return args
}

// BenchmarkShippedRepositoryCLI is what make validate runs once the binary
// is built: the validator as a process, start-up and CRD loading included.
func BenchmarkShippedRepositoryCLI(b *testing.B) {
	validate := validatorBinary(b)
	var peak float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, mem := measure(b, exec.Command(validate, validatorArgs(b, repoRoot, "shipped", i)...))
		peak = max(peak, mem)
	}
	b.ReportMetric(peak, "peak-MiB")
}

// copyRepository copies every file git tracks in this repository to dst.
func copyRepository(b *testing.B, dst string) {
	b.Helper()
	out, err := exec.Command("git", "-C", repoRoot, "ls-files", "-z").Output()
	if err != nil {
		b.Fatalf("git ls-files: %v", err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		data, err := os.ReadFile(filepath.Join(repoRoot, rel))
		if err != nil {
			b.Fatal(err)
		}
		target := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(target, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

func copyTree(b *testing.B, src, dst string) {
	b.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		b.Fatal(err)
	}
}

// measure runs cmd and returns its wall time and peak resident memory in MiB.
func measure(b *testing.B, cmd *exec.Cmd, okCodes ...int) (time.Duration, float64) {
	b.Helper()
	start := time.Now()
	out, err := cmd.CombinedOutput()
	elapsed := time.Since(start)
	code := cmd.ProcessState.ExitCode()
	ok := err == nil
	for _, c := range okCodes {
		ok = ok || code == c
	}
	if !ok {
		b.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return elapsed, float64(ru.Maxrss) / 1024
}

// BenchmarkValidator is the whole validator (render, index, every check) on
// n environments of each shape, as one process.
func BenchmarkValidator(b *testing.B) {
	validate := validatorBinary(b)
	for _, n := range sizes {
		for _, sh := range shapes {
			b.Run(fmt.Sprintf("N=%d/%s", n, sh), func(b *testing.B) {
				root, _ := generate(b, n, sh)
				var peak float64
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					// Exit 0: every generated environment is deployed and clean.
					_, mem := measure(b, exec.Command(validate, validatorArgs(b, root, fmt.Sprintf("N%d-%s", n, sh), i)...))
					peak = max(peak, mem)
				}
				b.ReportMetric(peak, "peak-MiB")
				b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/float64(n), "ms/overlay")
			})
		}
	}
}

// BenchmarkKustomizeCLI renders the same n overlays with the stock CLI, one
// kustomize build per overlay, rendering only (the overlays are the same in
// both shapes).
func BenchmarkKustomizeCLI(b *testing.B) {
	kustomize := kustomizeBinary(b)
	for _, n := range sizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			_, overlays := generate(b, n, renamed)
			var peak float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, o := range overlays {
					cmd := exec.Command(kustomize, "build", o)
					_, mem := measure(b, cmd)
					peak = max(peak, mem)
				}
			}
			b.ReportMetric(peak, "peak-MiB")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/float64(n), "ms/overlay")
		})
	}
}

// BenchmarkRatio runs the validator and the kustomize CLI loop back to back
// on the same n environments of each shape, b.N pairs, and reports the
// ratio of their wall times. This VM's speed drifts by a fifth or more
// within a minute, so a ratio of two benchmarks run apart measures the
// drift as much as the tools; a pair run back to back does not.
func BenchmarkRatio(b *testing.B) {
	validate := validatorBinary(b)
	kustomize := kustomizeBinary(b)
	for _, n := range sizes {
		for _, sh := range shapes {
			b.Run(fmt.Sprintf("N=%d/%s", n, sh), func(b *testing.B) {
				root, overlays := generate(b, n, sh)
				var tv, tk time.Duration
				var peak float64
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					start := time.Now()
					for _, o := range overlays {
						measure(b, exec.Command(kustomize, "build", o))
					}
					tk += time.Since(start)
					d, mem := measure(b, exec.Command(validate, "-o", "json", root))
					tv += d
					peak = max(peak, mem)
				}
				b.ReportMetric(peak, "peak-MiB")
				b.ReportMetric(tv.Seconds()/float64(b.N), "validator-s")
				b.ReportMetric(tk.Seconds()/float64(b.N), "cli-s")
				b.ReportMetric(tv.Seconds()/tk.Seconds(), "ratio")
			})
		}
	}
}

// BenchmarkPipeline is the validator on n environments of each shape in
// process, warm (after a first run): where the process's time goes, for
// -cpuprofile and -memprofile (BENCH_SIZES=100 go test -run '^$' -bench
// Pipeline -cpuprofile cpu.pprof ./validate/bench/).
func BenchmarkPipeline(b *testing.B) {
	for _, n := range sizes {
		for _, sh := range shapes {
			b.Run(fmt.Sprintf("N=%d/%s", n, sh), func(b *testing.B) {
				root, _ := generate(b, n, sh)
				opts := pipeline.Options{RootNamespace: "istio-system"}
				if _, err := pipeline.Run(root, opts); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					res, err := pipeline.Run(root, opts)
					if err != nil {
						b.Fatal(err)
					}
					if len(res.Findings) > 0 {
						b.Fatalf("the generated repository has findings: %v", res.Findings[0])
					}
				}
			})
		}
	}
}
