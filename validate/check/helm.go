package check

// The Helm releases' own findings, which the pipeline reports (it renders
// the releases; validate/render/helm): no check function.

// ChartNotCached reports a release whose chart is in no chart source: not
// checked, never silently.
var ChartNotCached = catalogued("HLM001")

// HelmRenderFailure reports a release whose chart does not render, or that
// names no chart the validator can find.
var HelmRenderFailure = catalogued("HLM002")

// OneIstio reports a release of one of Istio's charts at another release
// than the one whose istiod code the validator runs.
var OneIstio = catalogued("HLM003")

// HelmNotApplied reports a release option the validator does not apply.
var HelmNotApplied = catalogued("HLM004")

// PlatformIstioVersion reports a platform.yaml that names another Istio
// release than the validator's.
var PlatformIstioVersion = catalogued("HLM005")

// notOnCharts are the target checks that do not run on a chart's rendered
// objects (a FluxHelm or ArgoHelm target), each with the reason: they check
// how this repository's Kustomize overlays are written, which a chart's
// output is not. Every other check runs on charts as on any target. The
// repository-wide checks (GO003, GO004, GO006, ...) read Repo.Targets, which
// holds no chart output: a chart's objects are not an overlay to deploy
// (GO004) nor an entry point (GO003); Repo.Helm gives them to a check that
// wants them.
var notOnCharts = map[string]string{
	// IMG002: the overlay's images: list pins the base's images; a chart
	// sets its images from values, and has no overlay.
	"IMG002": "overlay images: pins",
	// IMG003: the plugin image this repository builds (plugin/) pinned by
	// digest in an overlay; a chart does not ship the team's plugin.
	"IMG003": "the team's plugin image",
	// GO007: a Kustomize edit (patch, images:, replicas:) that selects
	// nothing; a chart has no Kustomize edits.
	"GO007": "Kustomize edits",
	// IMG001: images pinned in an overlay's images: list; a chart pins its
	// images by the chart version (Istio's charts: hub and tag stamped at
	// release), and Istio's gateway chart declares image: auto, which
	// injection replaces.
	"IMG001": "images pinned by the chart's version",
	// IS003: istio.io/api's tables of the labels and annotations users set
	// on their resources; Istio's charts set control-plane ones
	// (istio.io/rev on webhooks and ConfigMaps, which istiod selects by;
	// install.operator.istio.io/owning-resource) the tables do not list.
	"IS003": "Istio's control-plane labels",
	// WL002, WL004: a gateway chart's pod gets its container, and the ports
	// its Service targets, from the injection template at admission
	// (image: auto); the rendered Deployment does not show them.
	"WL002": "ports of an injected gateway container",
	"WL004": "Service ports of Istio's charts",
	// Istio's analyzers (IST): each release is a target of its own, so the
	// gateway chart's Deployment (image: auto) would be analysed without the
	// injection webhook the istiod release installs beside it, and
	// IST0146 would report an injection the cluster does perform. The
	// derived platform (mesh.DerivePlatform) is where the releases are
	// judged together; the analyzers run on the targets that land on it.
	IstioPrefix: "Istio's control plane, analysed release by release",
}
