package check

import (
	"fmt"

	"meshops.dev/meshops/validate/index"
)

// InternalError is a check that crashed: the validator's own bug, reported
// as a finding so that one bad input never hides the other findings.
var InternalError = catalogued("VAL001")

// internalError turns c's panic on ix into a finding. It names the resource
// by running c again with each object alone among the objects of its kind:
// the first one c still panics on is the one it cannot handle.
func (c *Check) internalError(ix *index.Index, env *Env, panicked any) Finding {
	ic := InternalError
	f := Finding{Code: ic.Code, Severity: ic.Severity, Target: ix.Target.Dir, File: ix.Target.Dir,
		Message: oneLine(fmt.Sprintf("check %s (%s) crashed: %v; its findings for this target are missing; please report it with the input", c.Code, c.Name, panicked))}
	for _, o := range ix.Objects {
		if _, again := c.runTarget(ix.Narrow(o), env); again != nil {
			f.File, f.Line, f.Resource = o.Source, ix.Line(o.Source, o), o.String()
			f.object = o
			break
		}
	}
	return f
}
