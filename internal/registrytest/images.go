package registrytest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math/rand/v2"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Layer is a layer of size random bytes drawn from seed: the same seed and size give the same
// layer. Its content is generated on each read, never held in memory; it is a fixture's payload,
// not a tar stream (no runtime unpacks it in the tests).
func Layer(seed uint64, size int64) v1.Layer {
	l := &randomLayer{seed: seed, size: size}
	h := sha256.New()
	_, _ = io.Copy(h, l.reader())
	l.digest = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
	out, _ := partial.CompressedToLayer(l)
	return out
}

type randomLayer struct {
	seed   uint64
	size   int64
	digest v1.Hash
}

func (l *randomLayer) reader() io.Reader {
	return io.LimitReader(&prng{r: rand.New(rand.NewPCG(l.seed, l.seed^0x9e3779b97f4a7c15))}, l.size)
}

func (l *randomLayer) Digest() (v1.Hash, error)           { return l.digest, nil }
func (l *randomLayer) Size() (int64, error)               { return l.size, nil }
func (l *randomLayer) Compressed() (io.ReadCloser, error) { return io.NopCloser(l.reader()), nil }
func (l *randomLayer) MediaType() (types.MediaType, error) {
	return types.OCILayer, nil
}

type prng struct{ r *rand.Rand }

func (p *prng) Read(b []byte) (int, error) {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], p.r.Uint64())
	}
	if i < len(b) {
		var tail [8]byte
		binary.LittleEndian.PutUint64(tail[:], p.r.Uint64())
		copy(b[i:], tail[:])
	}
	return len(b), nil
}

// Image is an OCI image of the layers for the platform os/arch.
func Image(platform v1.Platform, layers ...v1.Layer) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(img, layers...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = platform.OS, platform.Architecture, platform.Variant
	return mutate.ConfigFile(img, cf)
}

// ForPlatform is an image of an index and its platform.
type ForPlatform struct {
	Platform v1.Platform
	Image    v1.Image
}

// Index is an OCI index of the images, each with its platform.
func Index(images ...ForPlatform) v1.ImageIndex {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, fp := range images {
		p := fp.Platform
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: fp.Image, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return idx
}

// Push pushes an image or an index to ref with the login (user "" : anonymous).
func (r *Registry) Push(ref string, img any, user, password string) error {
	dst, err := name.ParseReference(ref)
	if err != nil {
		return err
	}
	opts := []remote.Option{remote.WithTransport(r.Client().Transport)}
	if r.CAPEM == nil {
		opts = []remote.Option{}
	}
	if user != "" {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: user, Password: password}))
	}
	switch v := img.(type) {
	case v1.ImageIndex:
		return remote.WriteIndex(dst, v, opts...)
	case v1.Image:
		return remote.Write(dst, v, opts...)
	}
	return nil
}
