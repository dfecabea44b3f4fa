package helm

import (
	"crypto/sha256"
	"fmt"
)

// shortenReleaseName is helm-controller v1.6.3's release.ShortenName
// (internal/release/name.go), which it applies to every release name.
func shortenReleaseName(name string) string {
	if len(name) <= 53 {
		return name
	}
	const maxLength = 53
	const shortHashLength = 12
	sum := fmt.Sprintf("%x", sha256.Sum256([]byte(name)))
	shortName := name[:maxLength-(shortHashLength+1)] + "-"
	return shortName + sum[:shortHashLength]
}
