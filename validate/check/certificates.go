package check

import (
	"sort"
	"strconv"
	"strings"

	"meshops.dev/meshops/validate/index"
)

// CertificateNamespace catches a Gateway credentialName whose cert-manager
// Certificate writes its Secret into another namespace than the gateway's.
//
// istiod serves a Gateway server's credentialName over SDS from the gateway
// proxy's own namespace (pilot/pkg/xds/sds.go passes
// proxy.VerifiedIdentity.Namespace to credentials.ParseResourceName, which
// reads kubernetes://<name> there), and cert-manager writes a Certificate's
// spec.secretName into the Certificate's namespace
// (cert-manager pkg/controller/certificates/issuing: the Secret is created
// in crt.Namespace). A Certificate beside the Gateway object, in the app's
// namespace, leaves the listener without a certificate: TLS handshakes fail
// and istiod logs "failed to fetch key and certificate".
var CertificateNamespace = catalogued("CRT001")

func init() { CertificateNamespace.Target = certificateNamespace }

// gatewayNamespaces returns the namespaces of the gateway pods a Gateway's
// selector matches: declared ingress gateways and rendered workloads.
func gatewayNamespaces(ix *index.Index, env *Env, selector map[string]string) []string {
	set := map[string]bool{}
	if env.Mesh != nil {
		for _, g := range env.Mesh.PlatformFor(ix).GatewaysSelected(selector) {
			set[g.Namespace] = true
		}
	}
	if len(selector) > 0 {
		for _, w := range ix.Workloads("") {
			if subset(selector, w.Template.Labels) {
				set[w.Namespace] = true
			}
		}
	}
	var out []string
	for ns := range set {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// secretWriters returns the objects that put a Secret called name into
// namespace ns: the Secret itself, a SealedSecret (bitnami's controller
// writes the Secret under the SealedSecret's name), an ExternalSecret
// (its target name, else its own), or a cert-manager Certificate.
func secretWriters(ix *index.Index, ns, name string) bool {
	if ix.Get("Secret", ns, name) != nil {
		return true
	}
	for _, o := range ix.Kind("SealedSecret") {
		if o.Namespace == ns && o.Name == name {
			return true
		}
	}
	for _, o := range ix.Kind("ExternalSecret") {
		target := str(mapOf(o.Spec(), "target"), "name")
		if target == "" {
			target = o.Name
		}
		if o.Namespace == ns && target == name {
			return true
		}
	}
	for _, o := range ix.GroupKind("cert-manager.io", "Certificate") {
		if o.Namespace == ns && str(o.Spec(), "secretName") == name {
			return true
		}
	}
	return false
}

func certificateNamespace(ix *index.Index, env *Env) []Finding {
	c := CertificateNamespace
	certs := ix.GroupKind("cert-manager.io", "Certificate")
	if len(certs) == 0 {
		return nil
	}
	var out []Finding
	for _, gw := range ix.Gateways() {
		namespaces := gatewayNamespaces(ix, env, gw.Spec.GetSelector())
		if len(namespaces) == 0 {
			continue // RT010 reports a selector that matches no gateway
		}
		for i, srv := range gw.Spec.GetServers() {
			names := srv.GetTls().GetCredentialNames()
			field := "credentialNames"
			if cn := srv.GetTls().GetCredentialName(); cn != "" {
				names, field = []string{cn}, "credentialName"
			}
			for _, cn := range names {
				if strings.Contains(cn, "/") {
					continue // a namespace/name reference
				}
				for _, ns := range namespaces {
					if secretWriters(ix, ns, cn) {
						continue
					}
					for _, crt := range certs {
						if str(crt.Spec(), "secretName") != cn || crt.Namespace == ns {
							continue
						}
						out = append(out, c.findingAt(ix, gw.Object, []string{"spec", "servers", strconv.Itoa(i), "tls", field},
							"credentialName %q is written by Certificate %s/%s (%s:%d) into namespace %s, but the gateway pods this Gateway selects run in %s, where istiod looks the Secret up: the listener has no certificate; create the Certificate in %s",
							cn, crt.Namespace, crt.Name, crt.Source, ix.Line(crt.Source, crt), crt.Namespace, ns, ns))
						break
					}
				}
			}
		}
	}
	return out
}
