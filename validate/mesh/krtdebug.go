package mesh

import (
	"sync"
	"sync/atomic"

	"istio.io/istio/pkg/kube/krt"
)

// Every krt collection registers itself with the debug handler its options
// name (krt's maybeRegisterCollectionForDebugging appends it; nothing ever
// removes it), and the Istio code the validator runs names the process-wide
// krt.GlobalDebugHandler: every fake discovery server's collections
// (pilot/test/xds NewFakeDiscoveryServer, pilot/pkg/networking/core
// NewConfigGenTest) and every analysis's stores (pilot/pkg/config/aggregate
// MakeWriteableCache, pilot/pkg/config/memory MakeSkipValidation). istiod
// builds these once per process; the validator builds them once per target,
// so the handler keeps every target's istiod alive to the end of the run: at
// N = 100 environments, 240 of 290 MB of live heap that the garbage collector
// marks again on every cycle. Only istiod's debug endpoint reads the handler
// (DebugHandler.MarshalJSON), and the validator serves none, so RunIstio
// empties it every few runs, when no run is registering.
var istioRuns struct {
	mu sync.RWMutex
	n  atomic.Int64
}

// releaseEvery is how many runs of Istio code pass between two emptyings of
// krt.GlobalDebugHandler: each waits for the runs in flight to finish.
const releaseEvery = 32

// RunIstio runs f, which runs Istio code that creates krt collections (a
// fake discovery server, Istio's analyzers), and lets the collections of the
// runs that ended be collected: see istioRuns.
func RunIstio(f func()) {
	func() {
		istioRuns.mu.RLock()
		defer istioRuns.mu.RUnlock()
		f()
	}()
	if istioRuns.n.Add(1)%releaseEvery == 0 {
		istioRuns.mu.Lock()
		*krt.GlobalDebugHandler = krt.DebugHandler{}
		istioRuns.mu.Unlock()
	}
}
