package check

import (
	"sort"
	"strings"

	"meshops.dev/meshops/validate/index"
)

// PlaintextSecret keeps credentials out of git.
var PlaintextSecret = catalogued("SEC001")

func init() { PlaintextSecret.Target = plaintextSecret }

func plaintextSecret(ix *index.Index, _ *Env) []Finding {
	c := PlaintextSecret
	var out []Finding
	for _, o := range ix.Kind("Secret") {
		if o.Group != "" || o.Content == nil {
			continue
		}
		sops := mapOf(o.Content, "sops")
		for _, field := range []string{"data", "stringData"} {
			plain := plaintextKeys(mapOf(o.Content, field))
			switch {
			case len(plain) == 0:
			case sops == nil:
				out = append(out, c.findingAt(ix, o, []string{field}, "holds %d plaintext %s key(s) in git: encrypt it with SOPS or use a SealedSecret or ExternalSecret", len(plain), field))
			default:
				out = append(out, c.findingAt(ix, o, []string{field}, "has sops metadata but %s key(s) %s are not encrypted (ENC[...]): encrypt the file with sops, with encrypted_regex covering %s", field, strings.Join(plain, ", "), field))
			}
		}
		if sops != nil && str(sops, "mac") == "" {
			out = append(out, c.findingAt(ix, o, []string{"sops"}, "has a sops key without a mac: it is no SOPS envelope, and Flux refuses to decrypt it; encrypt the file with sops"))
		}
	}
	return out
}

// plaintextKeys returns the keys of a Secret's data or stringData whose
// values are not SOPS ciphertext ("ENC[AES256_GCM,data:...,type:str]"),
// sorted.
func plaintextKeys(m map[string]any) []string {
	var out []string
	for k, v := range m {
		if s, _ := v.(string); !(strings.HasPrefix(s, "ENC[") && strings.HasSuffix(s, "]")) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
