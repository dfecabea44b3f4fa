package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"meshops.dev/meshops/plugin/config/configtest"
)

// vmTest runs f twice: against the plugin compiled by the Go toolchain, and
// against the TinyGo-built module named by PLUGIN_WASM, loaded through the
// same proxy-wasm ABI Envoy uses (wazero).
func vmTest(t *testing.T, f func(*testing.T, types.VMContext)) {
	t.Helper()
	t.Run("go", func(t *testing.T) { f(t, &vmContext{}) })
	t.Run("wasm", func(t *testing.T) {
		path := os.Getenv("PLUGIN_WASM")
		if path == "" {
			t.Skip("PLUGIN_WASM is not set: build plugin.wasm with TinyGo (make plugin) and set PLUGIN_WASM=path/to/plugin.wasm to run this test against the compiled module")
		}
		wasm, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("PLUGIN_WASM: %v", err)
		}
		vm, err := proxytest.NewWasmVMContext(wasm)
		if err != nil {
			t.Fatalf("load %s: %v (a TinyGo >= 0.35 module needs -buildmode=wasi-legacy)", path, err)
		}
		defer vm.Close()
		f(t, vm)
	})
}

// respond starts the plugin with pluginConfig, sends one response with the
// given upstream headers through it and returns the headers Envoy would send.
func respond(t *testing.T, vm types.VMContext, pluginConfig string, upstream [][2]string) [][2]string {
	t.Helper()
	opt := proxytest.NewEmulatorOption().WithVMContext(vm).WithPluginConfiguration([]byte(pluginConfig))
	host, reset := proxytest.NewHostEmulator(opt)
	defer reset()
	if status := host.StartPlugin(); status != types.OnPluginStartStatusOK {
		t.Fatalf("StartPlugin = %v, critical logs: %q", status, host.GetCriticalLogs())
	}
	id := host.InitializeHttpContext()
	if action := host.CallOnResponseHeaders(id, upstream, false); action != types.ActionContinue {
		t.Fatalf("OnHttpResponseHeaders = %v, want Continue", action)
	}
	if logs := host.GetErrorLogs(); len(logs) > 0 {
		t.Errorf("error logs: %q", logs)
	}
	return host.GetCurrentResponseHeaders(id)
}

// values returns every value of header name (lower-case, as the emulator
// stores names).
func values(headers [][2]string, name string) []string {
	var out []string
	for _, h := range headers {
		if h[0] == name {
			out = append(out, h[1])
		}
	}
	return out
}

func TestResponseHeaders(t *testing.T) {
	upstream := [][2]string{{":status", "200"}, {"content-type", "text/html"}}
	tests := []struct {
		name, config string
		want         map[string]string
	}{
		{"no pluginConfig", "", map[string]string{"hello": "world"}},
		{"empty object", "{}", map[string]string{"hello": "world"}},
		{"environment", configtest.Environment, map[string]string{"hello": "world", "x-environment": "dev"}},
		{"replaces the default", `{"responseHeaders":[{"name":"X-Team","value":"platform"}]}`, map[string]string{"x-team": "platform", "hello": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vmTest(t, func(t *testing.T, vm types.VMContext) {
				got := respond(t, vm, tt.config, upstream)
				for name, want := range tt.want {
					vs := values(got, name)
					switch {
					case want == "" && len(vs) != 0:
						t.Errorf("%s = %q, want absent", name, vs)
					case want != "" && (len(vs) != 1 || vs[0] != want):
						t.Errorf("%s = %q, want exactly [%q]", name, vs, want)
					}
				}
				if ct := values(got, "content-type"); len(ct) != 1 || ct[0] != "text/html" {
					t.Errorf("content-type = %q, upstream headers must pass through", ct)
				}
			})
		})
	}
}

func TestReplacesUpstreamHeader(t *testing.T) {
	vmTest(t, func(t *testing.T, vm types.VMContext) {
		upstream := [][2]string{{":status", "200"}, {"Hello", "upstream"}, {"x-environment", "stale"}}
		got := respond(t, vm, configtest.Environment, upstream)
		if vs := values(got, "hello"); len(vs) != 1 || vs[0] != "world" {
			t.Errorf("hello = %q, want exactly [world]", vs)
		}
		if vs := values(got, "x-environment"); len(vs) != 1 || vs[0] != "dev" {
			t.Errorf("x-environment = %q, want exactly [dev]", vs)
		}
	})
}

func TestEveryResponseOfAPlugin(t *testing.T) {
	vmTest(t, func(t *testing.T, vm types.VMContext) {
		opt := proxytest.NewEmulatorOption().WithVMContext(vm)
		host, reset := proxytest.NewHostEmulator(opt)
		defer reset()
		if status := host.StartPlugin(); status != types.OnPluginStartStatusOK {
			t.Fatalf("StartPlugin = %v", status)
		}
		for i := 0; i < 3; i++ {
			id := host.InitializeHttpContext()
			host.CallOnResponseHeaders(id, [][2]string{{":status", "404"}}, true)
			if vs := values(host.GetCurrentResponseHeaders(id), "hello"); len(vs) != 1 || vs[0] != "world" {
				t.Errorf("response %d: hello = %q", i, vs)
			}
			host.CompleteHttpContext(id)
		}
	})
}

// TestLargeConfigs starts the plugin with configurations at every documented
// limit (a 4,000-byte value, 32 headers, a document of exactly 64 KiB, ...)
// and checks that each configured header reaches the response intact. Under
// wazero v1.7.2 the TinyGo build trapped on the 4,000-byte value.
func TestLargeConfigs(t *testing.T) {
	for _, tt := range configtest.Valid {
		t.Run(tt.Name, func(t *testing.T) {
			vmTest(t, func(t *testing.T, vm types.VMContext) {
				got := respond(t, vm, tt.In, [][2]string{{":status", "200"}})
				for _, h := range tt.Want {
					// The emulator stores header names in lower case.
					vs := values(got, strings.ToLower(h.Name))
					if len(vs) != 1 || vs[0] != h.Value {
						t.Errorf("%s: got %d values, want exactly one of %d bytes", h.Name, len(vs), len(h.Value))
					} else if len(vs[0]) != len(h.Value) {
						t.Errorf("%s: value is %d bytes, want %d", h.Name, len(vs[0]), len(h.Value))
					}
				}
				if len(got) != len(tt.Want)+1 {
					t.Errorf("response has %d headers, want the %d configured ones and :status", len(got), len(tt.Want))
				}
			})
		})
	}
}

func TestRejectsBadConfig(t *testing.T) {
	for _, tt := range configtest.Invalid {
		t.Run(tt.Name, func(t *testing.T) {
			vmTest(t, func(t *testing.T, vm types.VMContext) {
				opt := proxytest.NewEmulatorOption().WithVMContext(vm).WithPluginConfiguration([]byte(tt.In))
				host, reset := proxytest.NewHostEmulator(opt)
				defer reset()
				if status := host.StartPlugin(); status != types.OnPluginStartStatusFailed {
					t.Fatalf("StartPlugin = %v, want Failed", status)
				}
				logs := host.GetCriticalLogs()
				if len(logs) != 1 {
					t.Fatalf("critical logs = %q, want exactly one line", logs)
				}
				if !strings.HasPrefix(logs[0], "meshops plugin: invalid pluginConfig: ") || !strings.Contains(logs[0], tt.Want) {
					t.Errorf("critical log %q does not contain %q", logs[0], tt.Want)
				}
			})
		})
	}
}

// TestBadPluginWasmFails: a PLUGIN_WASM that names a missing or invalid file
// fails the wasm half, never skips it. It reruns this test binary on one test
// with such a PLUGIN_WASM.
func TestBadPluginWasmFails(t *testing.T) {
	if os.Getenv("PLUGIN_WASM_CHILD") != "" {
		t.Skip("inside the child run")
	}
	invalid := filepath.Join(t.TempDir(), "plugin.wasm")
	if err := os.WriteFile(invalid, []byte("not wasm"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, wasm := range []string{filepath.Join(t.TempDir(), "missing.wasm"), invalid} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestReplacesUpstreamHeader$", "-test.v")
		cmd.Env = append(os.Environ(), "PLUGIN_WASM="+wasm, "PLUGIN_WASM_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("PLUGIN_WASM=%s: the tests passed:\n%s", wasm, out)
		}
		if !strings.Contains(string(out), "--- FAIL: TestReplacesUpstreamHeader/wasm") || strings.Contains(string(out), "--- SKIP") {
			t.Errorf("PLUGIN_WASM=%s: want the wasm half to fail, not skip:\n%s", wasm, out)
		}
	}
}
