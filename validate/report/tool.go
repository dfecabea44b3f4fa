package report

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// Tool names the validator in a report: SARIF requires a driver name and
// code scanning shows its version and documentation link.
type Tool struct {
	Name           string
	Version        string
	InformationURI string
	// Root is the repository the findings' files are relative to: SARIF
	// gives a finding without a line the whole file as its region. ""
	// leaves such a finding without a region.
	Root string
}

// ToolName is the validator's name in SARIF's tool.driver.
const ToolName = "meshops-validate"

// ToolOf describes the validator checking the repository at root:
//   - Version: the main module's version when it was built from a module
//     version (without its "v"), else 0.0.0- and the VCS revision go build
//     stamped (with "-modified" when the work tree had changes), else
//     0.0.0-devel (go test, go run outside a work tree). It starts with a
//     number, as Microsoft's SARIF validator asks (SARIF2005), so versions
//     compare.
//   - InformationURI: the README of the repository (the validator ships in
//     it): the GitHub Actions run's repository (GITHUB_SERVER_URL and
//     GITHUB_REPOSITORY, which every run sets), else the web address of the
//     git remote origin of root (an ssh or https clone URL, its user and
//     password dropped), else the README as a file: URI, so the property is
//     always an absolute URI and never a made-up address.
func ToolOf(root string) Tool {
	return Tool{Name: ToolName, Version: buildVersion(), InformationURI: informationURI(root), Root: root}
}

func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "0.0.0-devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return strings.TrimPrefix(v, "v")
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "-modified"
			}
		}
	}
	if rev == "" {
		return "0.0.0-devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return "0.0.0-" + rev + modified
}

func informationURI(root string) string {
	server, repo := os.Getenv("GITHUB_SERVER_URL"), os.Getenv("GITHUB_REPOSITORY")
	if server != "" && repo != "" {
		return strings.TrimSuffix(server, "/") + "/" + repo + "#readme"
	}
	if root == "" {
		root = "."
	}
	if out, err := exec.Command("git", "-C", root, "config", "--get", "remote.origin.url").Output(); err == nil {
		if u := webURL(strings.TrimSpace(string(out))); u != "" {
			return u + "#readme"
		}
	}
	abs, err := filepath.Abs(filepath.Join(root, "README.md"))
	if err != nil {
		abs = "/README.md"
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
}

// webURL turns a git clone URL into the repository's web address:
// git@host:owner/name.git and ssh://git@host[:port]/owner/name.git become
// https://host/owner/name; an http(s) URL loses its user, password and
// .git. Anything else (a local path, file://) gives "".
func webURL(clone string) string {
	if clone == "" {
		return ""
	}
	if !strings.Contains(clone, "://") {
		// scp-like syntax: [user@]host:path
		at := strings.LastIndex(clone[:max(strings.Index(clone, ":"), 0)], "@")
		host, path, ok := strings.Cut(clone[at+1:], ":")
		if !ok || host == "" || strings.Contains(host, "/") {
			return ""
		}
		clone = "ssh://" + host + "/" + strings.TrimPrefix(path, "/")
	}
	u, err := url.Parse(clone)
	if err != nil || u.Host == "" {
		return ""
	}
	scheme := "https"
	switch u.Scheme {
	case "ssh", "git+ssh", "git", "https":
	case "http":
		scheme = "http"
	default:
		return ""
	}
	path := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), ".git")
	if path == "" || path == "/" {
		return ""
	}
	return (&url.URL{Scheme: scheme, Host: u.Hostname(), Path: path}).String()
}
