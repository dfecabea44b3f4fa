package mesh

import (
	"encoding/json"
	"testing"

	"istio.io/istio/pilot/pkg/config/memory"
	"istio.io/istio/pkg/config/schema/collection"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/kube/krt"
)

// registered is how many krt collections krt.GlobalDebugHandler keeps.
func registered(t *testing.T) int {
	t.Helper()
	data, err := json.Marshal(krt.GlobalDebugHandler)
	if err != nil {
		t.Fatal(err)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatalf("krt.GlobalDebugHandler: %v: %s", err, data)
	}
	return len(list)
}

// An in-memory config store of one kind, as Istio's analyzers make for each
// analysis (IstiodAnalyzer's internal store), registers one collection.
func oneStore() {
	_ = memory.MakeSkipValidation(collection.SchemasFor(collections.VirtualService))
}

// Outside RunIstio, Istio keeps every store's collection for the life of
// the process: the leak RunIstio works around.
func TestGlobalDebugHandlerKeepsCollections(t *testing.T) {
	before := registered(t)
	for i := 0; i < 2*releaseEvery; i++ {
		oneStore()
	}
	if got, want := registered(t)-before, 2*releaseEvery; got != want {
		t.Fatalf("krt.GlobalDebugHandler gained %d collections from %d stores, want %d: if Istio no longer keeps them, RunIstio is not needed", got, want, want)
	}
}

// Through RunIstio, the handler is emptied every releaseEvery runs, so it
// never holds a collection of more than the last releaseEvery runs.
func TestRunIstioReleasesCollections(t *testing.T) {
	for i := 0; i < 2*releaseEvery; i++ {
		RunIstio(oneStore)
	}
	if got := registered(t); got >= releaseEvery {
		t.Fatalf("krt.GlobalDebugHandler holds %d collections after %d runs, want fewer than %d", got, 2*releaseEvery, releaseEvery)
	}
}
