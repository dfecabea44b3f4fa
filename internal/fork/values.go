// Package fork makes a copy of the repository its team's own: it finds the
// repository URL, plugin image repository and DNS domain the manifests use
// today, replaces them in place with the team's values (keeping comments and
// layout), validates the result in memory and writes only a result that adds
// no error finding. make init runs it.
package fork

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Values are a fork's own settings; an empty field is left as it is.
type Values struct {
	// Repo is the fork's git URL, as Flux and Argo CD clone it.
	Repo string
	// Registry is the plugin's image repository, without scheme, tag or
	// digest: registry.acme.test:5443/platform/edge-headers.
	Registry string
	// Domain is the DNS suffix the environments' host names end in.
	Domain string
}

// scpLike matches git's scp-like syntax, user@host:path.
var scpLike = regexp.MustCompile(`^([A-Za-z0-9._-]+)@([A-Za-z0-9.-]+):([^/].*)$`)

// ParseRepo checks a git URL and returns it in the form Flux and Argo CD both
// accept. Flux's GitRepository takes http(s):// and ssh:// URLs only, so
// git@host:org/repo.git becomes ssh://git@host/org/repo.git.
func ParseRepo(s string) (string, error) {
	if m := scpLike.FindStringSubmatch(s); m != nil {
		s = "ssh://" + m[1] + "@" + m[2] + "/" + m[3]
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("REPO %q is not a git URL (want https://host/org/repo.git, ssh://git@host/org/repo.git or git@host:org/repo.git)", s)
	}
	switch u.Scheme {
	case "https", "http", "ssh":
	default:
		return "", fmt.Errorf("REPO %q: scheme %q is not one Flux clones (https, http or ssh)", s, u.Scheme)
	}
	if _, has := u.User.Password(); has {
		return "", fmt.Errorf("REPO %q carries a password: put credentials in a Secret (Flux secretRef, Argo CD repository Secret), never in the URL", redact(u))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("REPO %q: a git URL has no query or fragment", s)
	}
	if p := strings.Trim(u.Path, "/"); p == "" || strings.ContainsAny(p, " \t") {
		return "", fmt.Errorf("REPO %q names no repository path", s)
	}
	if len(validation.IsDNS1123Subdomain(strings.ToLower(u.Hostname()))) > 0 && u.Hostname() != "localhost" {
		return "", fmt.Errorf("REPO %q: host %q is not a DNS name", s, u.Hostname())
	}
	return s, nil
}

func redact(u *url.URL) string {
	c := *u
	c.User = url.UserPassword(u.User.Username(), "xxxxx")
	return c.String()
}

// ParseRegistry checks the plugin's image repository (an oci:// prefix is
// allowed and dropped) and refuses a tag, a digest, or a missing host.
func ParseRegistry(s string) (string, error) {
	r := strings.TrimPrefix(s, "oci://")
	if strings.Contains(r, "://") {
		return "", fmt.Errorf("REGISTRY %q: only the oci:// scheme is allowed", s)
	}
	if strings.Contains(r, "@") {
		return "", fmt.Errorf("REGISTRY %q carries a digest: give the repository only; make bump pins tags and digests per environment", s)
	}
	slash := strings.IndexByte(r, '/')
	if slash < 0 {
		return "", fmt.Errorf("REGISTRY %q has no host: give host[:port]/path/name, e.g. registry.acme.test:5443/platform/edge-headers", s)
	}
	if last := r[strings.LastIndexByte(r, '/')+1:]; strings.Contains(last, ":") {
		return "", fmt.Errorf("REGISTRY %q carries a tag (%s): give the repository only; make bump pins tags per environment", s, last[strings.IndexByte(last, ':'):])
	}
	host := r[:slash]
	if !strings.ContainsAny(host, ".:") && host != "localhost" {
		return "", fmt.Errorf("REGISTRY %q has no host: %q is not a registry host (host[:port] with a dot or a port, or localhost)", s, host)
	}
	repo, err := name.NewRepository(r, name.StrictValidation)
	if err != nil {
		return "", fmt.Errorf("REGISTRY %q: %v", s, err)
	}
	if repo.RegistryStr() != host {
		return "", fmt.Errorf("REGISTRY %q has no host", s)
	}
	return r, nil
}

// ParseDomain checks a DNS domain; a leading "*." is allowed and dropped.
func ParseDomain(s string) (string, error) {
	d := strings.TrimPrefix(s, "*.")
	if errs := validation.IsDNS1123Subdomain(d); len(errs) > 0 || !strings.Contains(d, ".") {
		return "", fmt.Errorf("DOMAIN %q is not a DNS name (lower-case labels of letters, digits and '-', separated by dots, e.g. apps.acme.test)", s)
	}
	return d, nil
}

// Parse checks every given value; at least one must be given.
func Parse(repo, registry, domain string) (Values, error) {
	var v Values
	var err error
	if repo == "" && registry == "" && domain == "" {
		return v, fmt.Errorf("give at least one of REPO=git-url, REGISTRY=host[:port]/path/name, DOMAIN=dns-suffix")
	}
	if repo != "" {
		if v.Repo, err = ParseRepo(repo); err != nil {
			return v, err
		}
	}
	if registry != "" {
		if v.Registry, err = ParseRegistry(registry); err != nil {
			return v, err
		}
	}
	if domain != "" {
		if v.Domain, err = ParseDomain(domain); err != nil {
			return v, err
		}
	}
	return v, nil
}
