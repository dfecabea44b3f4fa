package check

import (
	"fmt"

	"meshops.dev/meshops/validate/index"
)

// InternalError is a check that crashed: the validator's own bug, reported
// as a finding so that one bad input never hides the other findings.
var InternalError = &Check{
	Code:     "VAL001",
	Name:     "internal-error",
	Severity: Error,
	Summary:  "every check completes: a check that crashes on an input is reported, naming the check and the resource",
	Rationale: "A crash would hide every other finding and print a stack trace instead of a place to look. The run goes on " +
		"without that check's findings, so its verdict on the resource is unknown: the run fails until the validator is fixed.",
}

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
