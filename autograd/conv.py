"""2-D convolution and pooling on NCHW arrays (``F.conv2d``, ``F.max_pool2d``,
``F.avg_pool2d``).

The file has two parts. First, pure numpy functions (arrays in, arrays out):
the forward pass and the backward pieces of each op. Last, a short section
that registers them as structural ops of the op table and wraps them for
Tensors.

How the convolution is computed (no Python loop over pixels)
------------------------------------------------------------
The input is copied once into a zero-padded buffer laid out channel-major,
``(C, N, Hp*Wp)`` (each padded image flattened). A kernel tap ``(i, j)``
then reads the buffer at a constant offset ``i*dh*Wp + j*dw`` from every
output position, so numpy's ``as_strided`` gives the im2col matrix
``cols[(c, i, j), (n, position)]`` as a view, and one copy makes it
contiguous. The convolution is one matrix product per group,
``weight (O, C*kh*kw) @ cols (C*kh*kw, N*positions)``, done for a chunk of
images at a time (:data:`CHUNK_BYTES` of ``cols``, one reused buffer).

With stride 1 the output positions are taken on the *wide* grid: row ``h``
of the output starts at ``h*Wp`` in the flattened image, so a whole image's
positions are one contiguous run of ``(Ho-1)*Wp + Wo`` elements; the
``Wp - Wo`` positions at the end of each row are computed and thrown away.
Contiguous runs make the im2col copy and the backward's scatter-add fast.
With a larger stride (or a wide grid that would waste too much) the
positions form an ``(Ho, Wo)`` grid with strides ``(sh*Wp, sw)``.

Backward: the weight gradient is ``g (O, N*pos) @ colsᵀ`` (``cols``
rebuilt chunk by chunk: cheaper than keeping it from the forward). The input
gradient of a stride-1 convolution is the convolution of ``g`` with the
weights flipped in space and transposed in channels (the classic identity);
otherwise it is built tap by tap, ``weight[:, :, i, j]ᵀ @ g`` added back
into the padded buffer at the tap's offset (``kh*kw`` products and strided
adds), then cropped.

The three pieces -- ``conv2d``, its input gradient and its weight gradient --
are each bilinear in their two array inputs, and the vector-Jacobian
product of each is one of the three again. So every derivative order is
exact and costs the same as the first.

Pooling reads the ``kh*kw`` strided slices of the padded input (one per
window tap) and combines them with ``np.maximum`` or ``+``; its backward adds
the gradient back into the same slices (max pooling: only where the tap held
the window's maximum, the first one in scan order on ties, as PyTorch).
"""
from __future__ import annotations

import numbers
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = ["conv2d", "max_pool2d", "avg_pool2d",
           "conv2d_forward", "conv2d_input_grad", "conv2d_weight_grad",
           "max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward",
           "avg_pool2d_backward"]


# ==========================================================================
# Part 1: numpy
# ==========================================================================
class Geometry(NamedTuple):
    """Where every window of a 2-D sliding op sits in the padded input."""

    N: int
    C: int
    H: int
    W: int
    kh: int
    kw: int
    sh: int
    sw: int
    dh: int
    dw: int
    pt: int      # padding: top, bottom, left, right
    pb: int
    pl: int
    pr: int
    Hp: int      # padded size
    Wp: int
    Ho: int      # output size
    Wo: int
    wide: bool   # positions on the wide grid (stride 1): one run per image
    P: int       # positions per image in the buffer's grid
    R: int       # row stride of the output grid (Wp when wide, else Wo)


@lru_cache(maxsize=512)
def geometry(N, C, H, W, kh, kw, stride, padding, dilation, ceil_mode=False) -> Geometry:
    """The geometry of a sliding-window op. ``padding`` is (top, bottom,
    left, right); with ``ceil_mode`` the last partial window is kept (extra
    padding is added at the bottom/right). Assumes valid arguments (the
    Tensor functions check them first)."""
    sh, sw = stride
    dh, dw = dilation
    pt, pb, pl, pr = padding
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1        # effective kernel size
    Ho = _out_size(H + pt + pb, eh, sh, ceil_mode, H + pt)
    Wo = _out_size(W + pl + pr, ew, sw, ceil_mode, W + pl)
    pb += max(0, (Ho - 1) * sh + eh - (H + pt + pb))     # ceil_mode's partial window
    pr += max(0, (Wo - 1) * sw + ew - (W + pl + pr))
    Hp, Wp = H + pt + pb, W + pl + pr
    wide = sh == 1 and sw == 1 and 2 * Wp <= 3 * Wo
    P = ((Ho - 1) * Wp + Wo) if wide else Ho * Wo
    return Geometry(N, C, H, W, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, Hp, Wp, Ho, Wo,
                    wide, P, Wp if wide else Wo)


def _out_size(padded: int, eff: int, stride: int, ceil_mode: bool, last_start: int) -> int:
    span = padded - eff
    if span < 0:
        return 0
    if not ceil_mode:
        return span // stride + 1
    n = -(-span // stride) + 1
    if (n - 1) * stride >= last_start:    # PyTorch: the last window starts inside the input
        n -= 1                            # or its left padding
    return n


def _grid_strides(geo: Geometry, e: int) -> tuple:
    """Byte strides of the positions grid inside one flattened padded image."""
    if geo.wide:
        return (e,)
    return (geo.sh * geo.Wp * e, geo.sw * e)


def _grid_shape(geo: Geometry) -> tuple:
    return (geo.P,) if geo.wide else (geo.Ho, geo.Wo)


def _padded_cn(x: np.ndarray, geo: Geometry, dtype) -> np.ndarray:
    """``x`` (N, C, H, W) in a zero-padded channel-major buffer (C, N, Hp*Wp)."""
    N, C, H, W = x.shape
    xt = x.transpose(1, 0, 2, 3)
    if geo.Hp == H and geo.Wp == W and xt.flags.c_contiguous and x.dtype == dtype:
        return xt.reshape(C, N, H * W)        # already laid out: no copy
    buf = np.zeros((C, N, geo.Hp * geo.Wp), dtype)
    buf.reshape(C, N, geo.Hp, geo.Wp)[:, :, geo.pt:geo.pt + H, geo.pl:geo.pl + W] = xt
    return buf


#: Bytes of im2col matrix built at a time: the batch is processed in chunks
#: of images so the matrix stays in cache and one buffer is reused (fresh
#: memory costs a page fault per 4 KiB, very slow under some VMs).
CHUNK_BYTES = 1 << 21


def _chunks(geo: Geometry, itemsize: int):
    """(first image, last image + 1) of each batch chunk."""
    per = geo.C * geo.kh * geo.kw * geo.P * itemsize
    n = max(1, min(geo.N, CHUNK_BYTES // max(per, 1)))
    return [(a, min(a + n, geo.N)) for a in range(0, geo.N, n)] or [(0, 0)]  # empty batch


def _im2col_chunks(xp: np.ndarray, geo: Geometry):
    """For each batch chunk: its (first, last) image and its im2col matrix
    (C*kh*kw, images*P), written into one reused buffer."""
    e = xp.itemsize
    C = xp.shape[0]
    K = C * geo.kh * geo.kw
    parts = _chunks(geo, e)
    buf = np.empty(K * (parts[0][1] - parts[0][0]) * geo.P, xp.dtype)
    for a, b in parts:
        n = b - a
        cols = buf[:K * n * geo.P].reshape(K, n * geo.P)
        src = as_strided(xp[:, a:b], (C, geo.kh, geo.kw, n) + _grid_shape(geo),
                         (xp.strides[0], geo.dh * geo.Wp * e, geo.dw * e, xp.strides[1]) +
                         _grid_strides(geo, e), writeable=False)
        np.copyto(cols.reshape((C, geo.kh, geo.kw, n) + _grid_shape(geo)), src)
        yield a, b, cols


def _grid_view(buf: np.ndarray, geo: Geometry, N: int) -> np.ndarray:
    """The (N, O, Ho, Wo) output view of a (O, N*P) buffer."""
    e = buf.itemsize
    Co = buf.shape[0]
    return as_strided(buf, (N, Co, geo.Ho, geo.Wo),
                      (geo.P * e, N * geo.P * e, geo.R * e, e))


def _to_grid(g: np.ndarray, geo: Geometry, dtype) -> np.ndarray:
    """An (N, O, Ho, Wo) gradient as the (O, N*P) buffer the products use
    (zeros at the wide grid's thrown-away positions)."""
    N, Co = g.shape[:2]
    buf = (np.zeros if geo.wide else np.empty)((Co, N * geo.P), dtype)
    _grid_view(buf, geo, N)[...] = g
    return buf


def _by_group(a: np.ndarray, groups: int) -> np.ndarray:
    return a.reshape(groups, a.shape[0] // groups, a.shape[1])


def conv2d_forward(x, w, b=None, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1),
                   groups=1) -> np.ndarray:
    """Cross-correlation of ``x`` (N, C, H, W) with ``w`` (O, C/groups, kh,
    kw), plus ``b`` (O,) if given: (N, O, Ho, Wo). The result is a strided
    view of a channel-major buffer (numpy reads it like any array)."""
    dt = np.result_type(x, w) if b is None else np.result_type(x, w, b)
    N, C, H, W = x.shape
    Co, _, kh, kw = w.shape
    geo = geometry(N, C, H, W, kh, kw, stride, padding, dilation)
    wm = w.reshape(Co, -1).astype(dt, copy=False)
    out = np.empty((Co, N * geo.P), dt)
    for a, z, cols in _im2col_chunks(_padded_cn(x, geo, dt), geo):
        part = out[:, a * geo.P:z * geo.P]
        if groups == 1:
            np.matmul(wm, cols, out=part)
        else:
            np.matmul(_by_group(wm, groups), _by_group(cols, groups),
                      out=part.reshape(groups, Co // groups, -1))
    if b is not None:
        out += b.astype(dt, copy=False)[:, None]
    return _grid_view(out, geo, N)


def conv2d_input_grad(g, w, x_shape, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1),
                      groups=1) -> np.ndarray:
    """d(conv2d)/dx applied to the output gradient ``g`` (N, O, Ho, Wo): an
    array of ``x_shape`` (the transposed convolution of ``g`` with ``w``)."""
    dt = np.result_type(g, w)
    geo = geometry(*x_shape, *w.shape[2:], stride, padding, dilation)
    if _flip_applies(geo, w.shape[1]):
        return _flipped_correlation(g, w, geo, groups, dt)
    return _input_grad(_to_grid(g, geo, dt), w, geo, groups, dt)


def _flip_applies(geo: Geometry, cg: int) -> bool:
    """Stride 1, padding at most the kernel's reach, and more than one input
    channel per group (with one, the tap-by-tap products are faster)."""
    return geo.sh == geo.sw == 1 and cg > 1 and \
        max(geo.pt, geo.pb) <= geo.dh * (geo.kh - 1) and \
        max(geo.pl, geo.pr) <= geo.dw * (geo.kw - 1)


def _flipped_correlation(g, w, geo, groups, dt):
    """The input gradient of a stride-1 convolution is itself a convolution:
    of ``g``, padded by the kernel's reach minus the padding, with the
    weights flipped in space and with input and output channels swapped."""
    Co, Cg, kh, kw = w.shape
    G = groups
    wt = w.astype(dt, copy=False).reshape(G, Co // G, Cg, kh, kw).transpose(0, 2, 1, 3, 4)
    wt = wt[..., ::-1, ::-1].reshape(G * Cg, Co // G, kh, kw)
    rh, rw = geo.dh * (kh - 1), geo.dw * (kw - 1)
    return conv2d_forward(g.astype(dt, copy=False), wt, None, (1, 1),
                          (rh - geo.pt, rh - geo.pb, rw - geo.pl, rw - geo.pr),
                          (geo.dh, geo.dw), groups)


def conv2d_weight_grad(x, g, w_shape, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1),
                       groups=1) -> np.ndarray:
    """d(conv2d)/dw applied to the output gradient ``g``: an array of ``w_shape``."""
    dt = np.result_type(x, g)
    geo = geometry(*x.shape, *w_shape[2:], stride, padding, dilation)
    return _weight_grad(_padded_cn(x, geo, dt), _to_grid(g, geo, dt), geo, w_shape, groups)


def conv2d_backward(g, x, w, need=(True, True, True), stride=(1, 1), padding=(0, 0, 0, 0),
                    dilation=(1, 1), groups=1) -> tuple:
    """(dx, dw, db) of conv2d at once (None where ``need`` says no), the
    gradient laid out once for both products."""
    dt = np.result_type(g, x, w)
    geo = geometry(*x.shape, *w.shape[2:], stride, padding, dilation)
    flip = _flip_applies(geo, w.shape[1])
    gg = _to_grid(g, geo, dt) if need[1] or (need[0] and not flip) else None
    dx = None
    if need[0]:
        dx = _flipped_correlation(g, w, geo, groups, dt) if flip else \
            _input_grad(gg, w, geo, groups, dt)
    dw = _weight_grad(_padded_cn(x, geo, dt), gg, geo, w.shape, groups) if need[1] else None
    db = g.sum(axis=(0, 2, 3)) if need[2] else None
    return dx, dw, db


def _weight_grad(xp, gg, geo, w_shape, groups):
    """Σ over batch chunks of g · colsᵀ (the im2col matrix rebuilt chunk by
    chunk: cheaper than keeping it from the forward pass)."""
    Co, K = w_shape[0], xp.shape[0] * geo.kh * geo.kw
    dw = np.zeros((K, Co) if groups == 1 else (groups, Co // groups, K // groups), gg.dtype)
    for a, z, cols in _im2col_chunks(xp, geo):
        part = gg[:, a * geo.P:z * geo.P]
        if groups == 1:
            dw += cols @ part.T           # (K, Co): the faster orientation here
        else:
            dw += np.matmul(_by_group(part, groups), _by_group(cols, groups).transpose(0, 2, 1))
    return (dw.T if groups == 1 else dw).reshape(w_shape)


def _input_grad(gg, w, geo, groups, dt):
    """Chunk by chunk of images, tap by tap: ``w[:, :, i, j]ᵀ @ g`` (into one
    reused buffer) added into the padded buffer at the tap's offset; then
    cropped. (One big ``wᵀ @ g`` is no faster and allocates kh*kw times
    more; chunks keep the operands in cache.)"""
    N, C, H, W = geo.N, geo.C, geo.H, geo.W
    Co, Cg, kh, kw = w.shape
    G, P = groups, geo.P
    taps = w.astype(dt, copy=False).reshape(G, Co // G, Cg, kh, kw).transpose(3, 4, 0, 2, 1)
    taps = np.ascontiguousarray(taps)                 # (kh, kw, G, Cg, Co/G)
    dxp = np.zeros((C, N, geo.Hp * geo.Wp), dt)
    parts = _chunks(geo, dxp.itemsize)
    buf = np.empty(C * (parts[0][1] - parts[0][0]) * P, dt)
    for a, z in parts:
        n = z - a
        ggc = gg[:, a * P:z * P].reshape(G, Co // G, n * P)
        out = buf[:C * n * P].reshape(G, Cg, n * P)
        src = out.reshape((C, n) + _grid_shape(geo))
        part = dxp[:, a:z]
        for i in range(kh):      # kh*kw products and strided adds, never a loop over pixels
            for j in range(kw):
                np.matmul(taps[i, j], ggc, out=out)
                shift = i * geo.dh * geo.Wp + j * geo.dw
                if geo.wide:
                    part[:, :, shift:shift + P] += src
                else:
                    start = a * geo.Hp * geo.Wp + shift
                    view = as_strided(dxp.reshape(-1)[start:], (C, n, geo.Ho, geo.Wo),
                                      dxp.strides[:2] + _grid_strides(geo, dxp.itemsize))
                    view += src
    dx = dxp.reshape(C, N, geo.Hp, geo.Wp)[:, :, geo.pt:geo.pt + H, geo.pl:geo.pl + W]
    return dx.transpose(1, 0, 2, 3)


# --- pooling ---------------------------------------------------------------
def _taps(xp: np.ndarray, geo: Geometry):
    """The kh*kw strided slices of the padded input, one per window tap, in
    scan order; each has the output's shape."""
    hs, ws = (geo.Ho - 1) * geo.sh + 1, (geo.Wo - 1) * geo.sw + 1
    for i in range(geo.kh):
        for j in range(geo.kw):
            yield xp[:, :, i * geo.dh:i * geo.dh + hs:geo.sh, j * geo.dw:j * geo.dw + ws:geo.sw]


def _padded(x: np.ndarray, geo: Geometry, fill) -> np.ndarray:
    if geo.Hp == geo.H and geo.Wp == geo.W:
        return x
    buf = np.full(x.shape[:2] + (geo.Hp, geo.Wp), fill, x.dtype)
    buf[:, :, geo.pt:geo.pt + geo.H, geo.pl:geo.pl + geo.W] = x
    return buf


def _crop(dxp: np.ndarray, geo: Geometry) -> np.ndarray:
    return dxp[:, :, geo.pt:geo.pt + geo.H, geo.pl:geo.pl + geo.W]


def _pool_geometry(shape, kernel, stride, padding, dilation, ceil_mode) -> Geometry:
    N, C, H, W = shape
    return geometry(N, C, H, W, kernel[0], kernel[1], stride, padding, dilation, ceil_mode)


def max_pool2d_forward(x, kernel_size, stride, padding=(0, 0, 0, 0), dilation=(1, 1),
                       ceil_mode=False) -> np.ndarray:
    """The maximum of each window (padding counts as -inf; NaN propagates)."""
    geo = _pool_geometry(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    taps = _taps(_padded(x, geo, -np.inf), geo)
    out = next(taps).copy()
    for t in taps:
        np.maximum(out, t, out=out)
    return out


def _max_tap(x, out, geo) -> np.ndarray:
    """For each window, the tap (0 .. kh*kw-1, scan order) holding its
    maximum; the first one on ties (PyTorch's choice), a NaN if any.
    (uint8 arithmetic on the masks: much faster than np.where/putmask.)"""
    taps = list(_taps(_padded(x, geo, -np.inf), geo))
    it = np.uint8 if len(taps) < 256 else np.int32
    k = np.zeros(out.shape, it)
    free = np.ones(out.shape, it)            # 1 while the window has no tap yet
    nan = np.isnan(out)
    has_nan = bool(nan.any())
    for i, t in enumerate(taps):
        m = t == out
        if has_nan:
            m |= np.isnan(t) & nan
        m = m.astype(it) if it is not np.uint8 else m.view(np.uint8)
        m &= free
        free -= m
        if i:
            m *= it(i)
            k += m
    return k


def _window_index(k, geo, rows: int, cols: int, row0: int, col0: int) -> np.ndarray:
    """Flat index, in an image of ``rows`` x ``cols`` whose (0, 0) is the
    padded buffer's (row0, col0), of tap ``k`` of each window."""
    off = (np.arange(geo.kh)[:, None] * geo.dh - row0) * cols + \
        np.arange(geo.kw)[None, :] * geo.dw - col0
    it = np.int32 if k.shape[0] * k.shape[1] * rows * cols < 2 ** 31 else np.int64
    pos = (np.arange(geo.Ho, dtype=it)[:, None] * (geo.sh * cols) +
           np.arange(geo.Wo, dtype=it) * geo.sw)
    return off.ravel().astype(it)[k] + pos


def max_pool2d_backward(g, x, out, kernel_size, stride, padding=(0, 0, 0, 0),
                        dilation=(1, 1), ceil_mode=False) -> np.ndarray:
    """The output gradient ``g`` routed to each window's maximum (x.shape)."""
    geo = _pool_geometry(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    dt = np.result_type(g, x)
    N, C = x.shape[:2]
    k = _max_tap(x, out, geo)
    if geo.sh >= geo.dh * (geo.kh - 1) + 1 and geo.sw >= geo.dw * (geo.kw - 1) + 1:
        dxp = np.zeros((N, C, geo.Hp, geo.Wp), dt)   # windows do not overlap: each tap
        for i, t in enumerate(_taps(dxp, geo)):        # slice is written once
            np.multiply(g, k == i, out=t)
        return _crop(dxp, geo)
    plane = geo.Hp * geo.Wp                            # overlapping windows: accumulate
    flat = _window_index(k, geo, geo.Hp, geo.Wp, 0, 0)
    flat += (np.arange(N * C, dtype=flat.dtype) * plane).reshape(N, C, 1, 1)
    dxp = np.bincount(flat.ravel(), weights=g.ravel(), minlength=N * C * plane).astype(dt)
    return _crop(dxp.reshape(N, C, geo.Hp, geo.Wp), geo)


def max_pool2d_indices(x, out, kernel_size, stride, padding=(0, 0, 0, 0), dilation=(1, 1),
                       ceil_mode=False) -> np.ndarray:
    """For each output element, the flat index (into H*W of its image) of
    the input element holding the window's maximum (PyTorch's indices)."""
    geo = _pool_geometry(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    return _window_index(_max_tap(x, out, geo), geo, geo.H, geo.W, geo.pt,
                         geo.pl).astype(np.int64)


def _avg_scale(geo: Geometry, count_include_pad: bool, divisor_override, dtype):
    """1 / divisor: a number, or an (Ho, Wo) map when windows differ. PyTorch's
    rule: a window counts the padding when ``count_include_pad``, never the
    overhang ceil_mode adds past the padding."""
    if divisor_override is not None:
        return dtype.type(1.0 / divisor_override)
    overhang = geo.pb != geo.pt or geo.pr != geo.pl
    if not overhang and (count_include_pad or geo.pt == geo.pl == 0):
        return dtype.type(1.0 / (geo.kh * geo.kw))

    def counts(padded, pad, n, k, s, out):
        lo, hi = (0, n + 2 * pad) if count_include_pad else (pad, pad + n)
        cum = np.zeros(padded + 1)
        cum[lo + 1:hi + 1] = 1
        cum = np.cumsum(cum)
        starts = np.arange(out) * s
        return cum[starts + k] - cum[starts]

    ch = counts(geo.Hp, geo.pt, geo.H, geo.kh, geo.sh, geo.Ho)
    cw = counts(geo.Wp, geo.pl, geo.W, geo.kw, geo.sw, geo.Wo)
    return (1.0 / np.outer(ch, cw)).astype(dtype)


def avg_pool2d_forward(x, kernel_size, stride, padding=(0, 0, 0, 0), ceil_mode=False,
                       count_include_pad=True, divisor_override=None) -> np.ndarray:
    """The mean of each window (PyTorch's divisor rules)."""
    geo = _pool_geometry(x.shape, kernel_size, stride, padding, (1, 1), ceil_mode)
    taps = _taps(_padded(x, geo, 0), geo)
    out = next(taps).copy()
    for t in taps:
        out += t
    out *= _avg_scale(geo, count_include_pad, divisor_override, out.dtype)
    return out


def avg_pool2d_backward(g, x_shape, kernel_size, stride, padding=(0, 0, 0, 0),
                        ceil_mode=False, count_include_pad=True, divisor_override=None
                        ) -> np.ndarray:
    """The output gradient spread evenly over each window (shape ``x_shape``)."""
    geo = _pool_geometry(x_shape, kernel_size, stride, padding, (1, 1), ceil_mode)
    gs = g * _avg_scale(geo, count_include_pad, divisor_override, g.dtype)
    dxp = np.zeros(tuple(x_shape[:2]) + (geo.Hp, geo.Wp), g.dtype)
    for t in _taps(dxp, geo):
        t += gs
    return _crop(dxp, geo)


# ==========================================================================
# Argument checking (shared by the Tensor functions below)
# ==========================================================================
def _int(v, what: str, op: str, low: int) -> int:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{op}: {what} must be an int or a pair of ints, got {v!r}")
    if v < low:
        raise ValueError(f"{op}: {what} must be >= {low}, got {int(v)}")
    return int(v)


def _pair(v, what: str, op: str, low: int) -> tuple:
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{op}: {what} must be an int or a pair of ints, got {v!r}")
        return _int(v[0], what, op, low), _int(v[1], what, op, low)
    n = _int(v, what, op, low)
    return n, n


def _padding(v, op: str, kernel, dilation, stride) -> tuple:
    """(top, bottom, left, right) from an int, a pair, 'valid' or 'same'."""
    if isinstance(v, str):
        if v == "valid":
            return 0, 0, 0, 0
        if v == "same":
            if stride != (1, 1):
                raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
            out = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                out += [total // 2, total - total // 2]   # the extra one at the end (PyTorch)
            return tuple(out)
        raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', got {v!r}")
    ph, pw = _pair(v, "padding", op, 0)
    return ph, ph, pw, pw


def _check_input(x, op: str):
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W) or 3-D (C, H, W), got shape "
                         f"{x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating, got dtype {x.dtype}")


def _check_window(op: str, shape, kernel, dilation, padding):
    H, W = shape[-2:]
    ph, pw = H + padding[0] + padding[1], W + padding[2] + padding[3]
    eh, ew = dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1
    if eh > ph or ew > pw:
        dil = f" (with dilation {dilation}: {eh}x{ew})" if dilation != (1, 1) else ""
        raise ValueError(f"{op}: kernel {kernel[0]}x{kernel[1]}{dil} is larger than the padded "
                         f"input {ph}x{pw} (input shape {tuple(shape)}, padding "
                         f"{padding})")


def conv2d_params(x_shape, w_shape, b_shape, stride, padding, dilation, groups) -> dict:
    """Validated parameters of conv2d, or a clear error naming the shapes."""
    op = "conv2d"
    if len(w_shape) != 4:
        raise ValueError(f"{op}: weight must be 4-D (out_channels, in_channels/groups, kh, kw), "
                         f"got shape {tuple(w_shape)}")
    groups = _int(groups, "groups", op, 1)
    stride = _pair(stride, "stride", op, 1)
    dilation = _pair(dilation, "dilation", op, 1)
    kernel = tuple(w_shape[2:])
    pad = _padding(padding, op, kernel, dilation, stride)
    C, Co, Cg = x_shape[-3], w_shape[0], w_shape[1]
    if C % groups or Co % groups:
        raise ValueError(f"{op}: groups={groups} must divide both the input channels ({C}) "
                         f"and the output channels ({Co})")
    if Cg * groups != C:
        raise ValueError(f"{op}: input of shape {tuple(x_shape)} has {C} channels but weight "
                         f"of shape {tuple(w_shape)} expects {Cg} x groups {groups} = "
                         f"{Cg * groups}")
    if 0 in w_shape:
        raise ValueError(f"{op}: weight of shape {tuple(w_shape)} is empty")
    if b_shape is not None and tuple(b_shape) != (Co,):
        raise ValueError(f"{op}: bias must have shape ({Co},) for weight of shape "
                         f"{tuple(w_shape)}, got {tuple(b_shape)}")
    _check_window(op, x_shape, kernel, dilation, pad)
    return {"stride": stride, "padding": pad, "dilation": dilation, "groups": groups}


def pool_params(op: str, x_shape, kernel_size, stride, padding, dilation, ceil_mode) -> dict:
    kernel = _pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _pair(stride, "stride", op, 1)
    dilation = _pair(dilation, "dilation", op, 1)
    ph, pw = _pair(padding, "padding", op, 0)
    for p, k in ((ph, kernel[0]), (pw, kernel[1])):
        if 2 * p > k:
            raise ValueError(f"{op}: padding {(ph, pw)} must be at most half the kernel size "
                             f"{kernel} (PyTorch's rule: padding <= kernel // 2)")
    pad = (ph, ph, pw, pw)
    _check_window(op, x_shape, kernel, dilation, pad)
    return {"kernel_size": kernel, "stride": stride, "padding": pad, "dilation": dilation,
            "ceil_mode": bool(ceil_mode)}


# ==========================================================================
# Part 2: the op table's rows and the Tensor functions
# ==========================================================================
from .kernel import ARRAY, kernel  # noqa: E402
from .tensor import Tensor  # noqa: E402
from .tensor_ops import TA, _struct  # noqa: E402


def _rec(key: str, data, parents: tuple, **p):
    """A result of row ``key`` with constants ``p``, made by the parents' constructor."""
    return parents[0]._record(data, kernel(key, ARRAY, **p), parents)


def _t(x, like=None):
    if isinstance(x, Tensor):
        return x
    return Tensor(np.asarray(x, dtype=like.data.dtype) if like is not None else x)


def _tensor_conv(x, w, b, p):
    return _rec("conv2d", conv2d_forward(x.data, w.data, None if b is None else b.data, **p),
                (x, w) if b is None else (x, w, b), **p)


def _tensor_input_grad(g, w, x_shape, p):
    return _rec("conv2d_input_grad", conv2d_input_grad(g.data, w.data, x_shape, **p), (g, w),
                x_shape=x_shape, **p)


def _tensor_weight_grad(x, g, w_shape, p):
    return _rec("conv2d_weight_grad", conv2d_weight_grad(x.data, g.data, w_shape, **p), (x, g),
                w_shape=w_shape, **p)


# vjp rules: on arrays (M is TA) the numpy functions, on Tensors
# (create_graph=True) the same three ops recorded as nodes.
def _conv_vjp(M, g, out, x, w, *b, **p):
    if M is TA:
        dx = conv2d_input_grad(g, w, x.shape, **p)
        dw = conv2d_weight_grad(x, g, w.shape, **p)
    else:
        dx = _tensor_input_grad(g, w, x.shape, p)
        dw = _tensor_weight_grad(x, g, w.shape, p)
    return (dx, dw) + ((g.sum(axis=(0, 2, 3)),) if b else ())


def _b_conv2d(n, g):
    """The same rule on arrays, computing only the gradients a parent needs."""
    ps = n.parents
    need = tuple(p.requires_grad for p in ps) + (False,)
    grads = conv2d_backward(g, ps[0].data, ps[1].data, need[:3], **n._op.params)
    return grads[:len(ps)]


def _input_grad_vjp(M, h, out, g, w, x_shape, **p):
    if M is TA:
        return conv2d_forward(h, w, **p), conv2d_weight_grad(h, g, w.shape, **p)
    return _tensor_conv(h, w, None, p), _tensor_weight_grad(h, g, w.shape, p)


def _weight_grad_vjp(M, h, out, x, g, w_shape, **p):
    if M is TA:
        return conv2d_input_grad(g, h, x.shape, **p), conv2d_forward(x, h, **p)
    return _tensor_input_grad(g, h, x.shape, p), _tensor_conv(x, h, None, p)


def _max_pool_vjp(M, g, out, x, **p):
    if M is TA:
        return (max_pool2d_backward(g, x, out, **p),)
    # create_graph: the routing is constant, so scatter g with the table's index_add
    N, C, H, W = x.shape
    idx = max_pool2d_indices(x.data, out.data, **p).reshape(N * C, -1)
    rows = np.repeat(np.arange(N * C), idx.shape[1]).reshape(idx.shape)
    return (M.scatter(g.reshape(N * C, -1), (N * C, H * W), (rows, idx)).reshape(x.shape),)


def _avg_pool_vjp(M, g, out, x, **p):
    if M is TA:
        return (avg_pool2d_backward(g, x.shape, **p),)
    return (_tensor_avg_grad(g, x.shape, p),)


def _tensor_avg_grad(g, x_shape, p):
    return _rec("avg_pool2d_grad", avg_pool2d_backward(g.data, x_shape, **p), (g,),
                x_shape=x_shape, **p)


def _avg_grad_vjp(M, h, out, g, x_shape, **p):
    if M is TA:
        return (avg_pool2d_forward(h, **p),)
    return (_rec("avg_pool2d", avg_pool2d_forward(h.data, **p), (h,), **p),)


def max_pool2d_ties(x, kernel_size, stride, padding=(0, 0, 0, 0), dilation=(1, 1),
                    ceil_mode=False) -> tuple:
    """max_pool2d's kinks (the row's ``kink``): the elements tied with another
    for some window's maximum, where the gradient jumps from one to the other.
    Near-ties are found by gradcheck's one-sided slopes, which a predicate
    switches on."""
    geo = _pool_geometry(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    out = max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode)
    taps = list(_taps(_padded(x, geo, -np.inf), geo))
    tied = sum((t == out).astype(np.int32) for t in taps) > 1     # windows with two maxima
    flags = np.zeros(x.shape[:2] + (geo.Hp, geo.Wp), bool)
    for t, f in zip(taps, _taps(flags, geo)):                      # back to their elements
        f |= (t == out) & tied
    return (_crop(flags, geo),)


_struct("conv2d", "conv2d", -1, lambda M, x, w, *b, **p: conv2d_forward(x, w, *b, **p),
        _conv_vjp,
        ("d/dx = conv_transpose(G, w)", "d/dw = G ⋆ x (correlation)", "d/db = Σ G over N, H, W"),
        "2-D cross-correlation of x (N, C, H, W) with w (O, C/groups, kh, kw), plus b (O,)",
        "conv", fast=_b_conv2d)
_struct("conv2d_input_grad", "conv2d_input_grad", 2,
        lambda M, g, w, **p: conv2d_input_grad(g, w, **p), _input_grad_vjp,
        ("d/dg = conv2d(H, w)", "d/dw = H ⋆ g"),
        "the input gradient of conv2d: transposed convolution of g with w", "convᵀ")
_struct("conv2d_weight_grad", "conv2d_weight_grad", 2,
        lambda M, x, g, **p: conv2d_weight_grad(x, g, **p), _weight_grad_vjp,
        ("d/dx = conv_transpose(g, H)", "d/dg = conv2d(x, H)"),
        "the weight gradient of conv2d: correlation of x with g", "conv_w")
_struct("max_pool2d", "max_pool2d", 1, lambda M, x, **p: max_pool2d_forward(x, **p),
        _max_pool_vjp, ("d/dx = G routed to each window's max",),
        "maximum over each kh x kw window (padding is -inf; the first max takes the gradient)",
        "maxpool", kink=max_pool2d_ties)
_struct("avg_pool2d", "avg_pool2d", 1, lambda M, x, **p: avg_pool2d_forward(x, **p),
        _avg_pool_vjp, ("d/dx = G / window size, spread over the window",),
        "mean over each kh x kw window", "avgpool")
_struct("avg_pool2d_grad", "avg_pool2d_grad", 1,
        lambda M, g, **p: avg_pool2d_backward(g, **p), _avg_grad_vjp,
        ("d/dg = avg_pool2d(H)",), "the input gradient of avg_pool2d (its adjoint)", "avgpoolᵀ")


def _batched(x, op):
    """x as a 4-D Tensor, and whether it was an unbatched (C, H, W) input."""
    _check_input(x.data, op)
    if x.data.ndim == 3:
        return x.reshape(1, *x.data.shape), True
    return x, False


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D convolution (cross-correlation, as PyTorch) of ``input`` (N, C, H,
    W) or (C, H, W) with ``weight`` (O, C/groups, kh, kw), plus ``bias``
    (O,). ``stride``, ``dilation``: int or pair; ``padding``: int, pair,
    "valid" or "same" (zeros). One node with the inputs as parents."""
    x = _t(input)
    w = _t(weight, x)
    b = None if bias is None else _t(bias, x)
    _check_input(x.data, "conv2d")
    p = conv2d_params(x.data.shape, w.data.shape, None if b is None else b.data.shape,
                      stride, padding, dilation, groups)
    x4, unbatched = _batched(x, "conv2d")
    out = _tensor_conv(x4, w, b, p)
    return out.reshape(*out.data.shape[1:]) if unbatched else out


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over windows of ``input`` (N, C, H, W) or (C, H, W); ``stride``
    defaults to ``kernel_size``. With ``return_indices`` also the flat
    index (into H*W) of each maximum, as PyTorch."""
    x = _t(input)
    _check_input(x.data, "max_pool2d")
    p = pool_params("max_pool2d", x.data.shape, kernel_size, stride, padding, dilation,
                    ceil_mode)
    x4, unbatched = _batched(x, "max_pool2d")
    out = _rec("max_pool2d", max_pool2d_forward(x4.data, **p), (x4,), **p)
    res = out.reshape(*out.data.shape[1:]) if unbatched else out
    if return_indices:
        idx = max_pool2d_indices(x4.data, out.data, **p)
        return res, (idx[0] if unbatched else idx)
    return res


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> Tensor:
    """Mean over windows of ``input`` (N, C, H, W) or (C, H, W); ``stride``
    defaults to ``kernel_size``; PyTorch's ``count_include_pad`` and
    ``divisor_override``."""
    x = _t(input)
    _check_input(x.data, "avg_pool2d")
    p = pool_params("avg_pool2d", x.data.shape, kernel_size, stride, padding, 1, ceil_mode)
    del p["dilation"]
    p["count_include_pad"] = bool(count_include_pad)
    if divisor_override is not None:
        p["divisor_override"] = _int(divisor_override, "divisor_override", "avg_pool2d", 1)
    else:
        p["divisor_override"] = None
    x4, unbatched = _batched(x, "avg_pool2d")
    out = _rec("avg_pool2d", avg_pool2d_forward(x4.data, **p), (x4,), **p)
    return out.reshape(*out.data.shape[1:]) if unbatched else out
