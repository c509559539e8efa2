// Package value holds the runtime values passed between kernels and the
// compile-time descriptions of them:
//
//   - Tensor: a shape over a plain []float32. IMAGE is NHWC [B,H,W,C] with
//     C = 3 (ComfyUI's own layout, values 0..1), or 4 (RGBA, straight
//     alpha) where a node makes one (JoinImageWithAlpha); MASK is [B,H,W];
//     LATENT is NCHW [B,C,H,W] (the "samples" of ComfyUI's latent dict);
//     AUDIO is [B,C,N] (channels, samples) with its sample rate beside it
//     (see Audio).
//   - Value: one input or output of a kernel at run time, a struct (not an
//     interface) holding a Kind plus a tensor, a scalar, a string or an
//     opaque handle, so that passing values per frame never boxes.
//   - Spec: what is known when the plan is built: the kind, the tensor
//     shape and, for values fixed at that time (literal widgets, static
//     scalar results), the value itself (Spec.Const). Kernels infer their
//     output specs from their input specs; New allocates a buffer for a
//     spec once, and kernels fill it per frame.
//   - ToRGB8 and FromRGB8: the 8-bit conversions ComfyUI uses at its edges
//     (load: x/255; save: clip(255·x) truncated).
//
// # Why plain slices rather than gorgonia.org/tensor
//
// DESIGN.md names gorgonia.org/tensor dense tensors. This package uses a
// plain []float32 with a shape instead, a documented deviation, because the
// library does not pay for itself here: kernels work on the backing slice
// directly anyway (the hot loops are hand-written convolutions, resamplers
// and blends, none of which the library provides in a form that avoids
// allocation); its elementwise operations measured no faster than a plain Go
// loop (SETUP.md); every operation that returns a new tensor allocates, and
// the per-frame path must not allocate at all; and on Go 1.26 it panics at
// start unless an indirect dependency is pinned by hand, with go vet
// findings inside the library. Buffers are allocated once per plan from
// Specs, which is the pooling the design asked for. A Tensor can be wrapped
// into a gorgonia tensor without copying (tensor.WithBacking) by any
// package that wants its operations later.
//
// Package value imports nothing from the project.
package value
