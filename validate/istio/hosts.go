package istio

import (
	"fmt"
	"slices"

	networking "istio.io/api/networking/v1alpha3"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/config/validation/agent"
	netutil "istio.io/istio/pkg/util/net"
)

// GatewayHostError is istiod's webhook verdict on one hosts entry of a
// Gateway server: validateServer (pkg/config/validation) checks each with
// agent.ValidateNamespaceSlashWildcardHostname(host, true, false) for a
// networking.istio.io Gateway. nil when istiod accepts it.
func GatewayHostError(host string) error {
	return agent.ValidateNamespaceSlashWildcardHostname(host, true, false)
}

// VirtualServiceHostError is istiod's webhook verdict on one hosts entry of
// a VirtualService, as ValidateVirtualService judges it: bound to a gateway
// other than mesh, ValidateWildcardDomainForVirtualServiceBoundToGateway
// (SNI-style names allowed when a TLS route matches sniHosts), else
// ValidateWildcardDomain, and "*" refused on the mesh gateway; an IP
// address is accepted. nil when istiod accepts it.
func VirtualServiceHostError(vs *networking.VirtualService, host string) error {
	appliesToGateway := len(vs.GetGateways()) > 0 && !slices.Contains(vs.GetGateways(), constants.IstioMeshGateway)
	var err error
	if appliesToGateway {
		err = agent.ValidateWildcardDomainForVirtualServiceBoundToGateway(sniHost(vs), host)
	} else {
		err = agent.ValidateWildcardDomain(host)
	}
	switch {
	case err != nil && netutil.IsValidIPAddress(host):
		return nil
	case err != nil:
		return err
	case !appliesToGateway && host == "*":
		return fmt.Errorf("wildcard host * is not allowed for virtual services bound to the mesh gateway")
	}
	return nil
}

// sniHost is validation's isSniHost: a TLS route matches sniHosts.
func sniHost(vs *networking.VirtualService) bool {
	for _, tls := range vs.GetTls() {
		for _, m := range tls.GetMatch() {
			if len(m.GetSniHosts()) > 0 {
				return true
			}
		}
	}
	return false
}
