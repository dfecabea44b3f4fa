package check

import (
	"meshops.dev/meshops/validate/index"
)

// PlaintextSecret keeps credentials out of git.
var PlaintextSecret = &Check{
	Code:     "SEC001",
	Name:     "plaintext-secret",
	Severity: Error,
	Summary:  "no Secret with plaintext data or stringData is committed (SOPS-encrypted Secrets are allowed)",
	Rationale: "Anything in the repository is readable by everyone who can clone it, forever. Commit SOPS-encrypted Secrets " +
		"(Flux decrypts them), SealedSecrets, or ExternalSecret references instead.",
}

func init() { PlaintextSecret.Target = plaintextSecret }

func plaintextSecret(ix *index.Index, _ *Env) []Finding {
	c := PlaintextSecret
	var out []Finding
	for _, o := range ix.Kind("Secret") {
		if o.Group != "" || o.Content == nil || o.Content["sops"] != nil {
			continue
		}
		for _, field := range []string{"data", "stringData"} {
			if m := mapOf(o.Content, field); len(m) > 0 {
				out = append(out, c.finding(ix, o, "holds %d plaintext %s key(s) in git: encrypt it with SOPS or use a SealedSecret or ExternalSecret", len(m), field))
			}
		}
	}
	return out
}
