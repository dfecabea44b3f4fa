// Package wasmimage packs a Wasm module into a single-layer OCI image, pushes
// it to a registry with go-containerregistry (the library Istio's own image
// fetcher uses), and pulls it back the way that fetcher does.
package wasmimage

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// FileName is the file Istio's fetcher looks for in the image's last layer.
const FileName = "plugin.wasm"

// WasmLayerMediaType marks the OCI artifact variant: the layer is the module itself.
const WasmLayerMediaType types.MediaType = "application/vnd.module.wasm.content.layer.v1+wasm"

var magic = []byte{0x00, 'a', 's', 'm'}

// CheckModule refuses bytes that are not a WebAssembly binary module.
func CheckModule(wasm []byte) error {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], magic) {
		return errors.New("not a WebAssembly module (it does not start with the \\0asm magic bytes)")
	}
	return nil
}

// Build packs wasm as a linux/amd64 OCI image with one
// application/vnd.oci.image.layer.v1.tar+gzip layer holding /plugin.wasm,
// the image docker build makes from the Dockerfile.
func Build(wasm []byte) (v1.Image, error) {
	if err := CheckModule(wasm); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{Name: FileName, Mode: 0o644, Size: int64(len(wasm)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(wasm); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.AppendLayers(img, layer)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	return mutate.ConfigFile(img, cfg)
}

// Push builds and pushes wasm to ref ("registry/repo:tag") and returns the
// manifest digest to pin. Credentials come from the Docker config, as with
// docker push; localhost registries are reached over plain HTTP.
func Push(ctx context.Context, ref string, wasm []byte) (v1.Hash, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image %q: %w", ref, err)
	}
	img, err := Build(wasm)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.Write(r, img, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return v1.Hash{}, fmt.Errorf("push %s: %w", ref, err)
	}
	return img.Digest()
}

// Pull fetches ref as Istio's image fetcher does: the linux/amd64 manifest,
// then either the Wasm layer (OCI artifact variant) or plugin.wasm inside the
// last tar layer (the Docker/compat variant). It returns the module and the
// manifest digest Istio compares with spec.sha256.
func Pull(ctx context.Context, ref string) ([]byte, v1.Hash, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, v1.Hash{}, fmt.Errorf("image %q: %w", ref, err)
	}
	img, err := remote.Image(r, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"}))
	if err != nil {
		return nil, v1.Hash{}, fmt.Errorf("pull %s: %w", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, v1.Hash{}, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, v1.Hash{}, err
	}
	if len(layers) == 0 {
		return nil, v1.Hash{}, fmt.Errorf("%s: image has no layers", ref)
	}
	last := layers[len(layers)-1]
	mt, err := last.MediaType()
	if err != nil {
		return nil, v1.Hash{}, err
	}
	var wasm []byte
	if mt == WasmLayerMediaType {
		rc, err := last.Compressed()
		if err != nil {
			return nil, v1.Hash{}, err
		}
		defer rc.Close()
		wasm, err = io.ReadAll(rc)
		if err != nil {
			return nil, v1.Hash{}, err
		}
	} else if wasm, err = fromTarLayer(last); err != nil {
		return nil, v1.Hash{}, fmt.Errorf("%s: %w", ref, err)
	}
	if err := CheckModule(wasm); err != nil {
		return nil, v1.Hash{}, fmt.Errorf("%s: %s: %w", ref, FileName, err)
	}
	return wasm, digest, nil
}

func fromTarLayer(layer v1.Layer) ([]byte, error) {
	rc, err := layer.Uncompressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("last layer holds no %s", FileName)
		}
		if err != nil {
			return nil, err
		}
		if hdr.Typeflag == tar.TypeReg && (hdr.Name == FileName || hdr.Name == "./"+FileName || hdr.Name == "/"+FileName) {
			return io.ReadAll(tr)
		}
	}
}
