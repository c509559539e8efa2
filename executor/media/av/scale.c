//go:build cgo

#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>

#include "scale.h"

// crt_check checks what swscale would otherwise assert on: a known,
// non-hardware pixel format swscale accepts, a sane size, and data.
static int crt_check(const AVFrame *f, int input) {
	if (f->format < 0) return CRT_EFMT;
	const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
	if (!d || (d->flags & (AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BITSTREAM))) return CRT_EFMT;
	if (input ? !sws_isSupportedInput(f->format) : !sws_isSupportedOutput(f->format)) return CRT_EFMT;
	if (f->width <= 0 || f->height <= 0 || f->width > 16384 || f->height > 16384) return CRT_ESIZE;
	if (!f->data[0] || f->linesize[0] == 0) return CRT_ESIZE;
	return 0;
}

void crt_sws_free(crt_sws **ps) {
	crt_sws *s = *ps;
	if (!s) return;
	sws_freeContext(s->ctx);
	av_frame_free(&s->rgb);
	av_freep(ps);
}

crt_sws *crt_sws_new(int threads) {
	crt_sws *s = av_mallocz(sizeof(*s));
	if (!s) return NULL;
	s->threads = threads < 0 ? 0 : threads;
	s->rgb = av_frame_alloc();
	if (!s->rgb) crt_sws_free(&s);
	return s;
}

// crt_sws_get returns the context for this conversion: bilinear, with nt
// slice threads. swscale splits the output rows between them and every
// thread reads the whole input, so for its general path the result does
// not depend on the count (TestScalerThreads); its BGR24 → 4:2:0 special
// converter is the exception (see crt_from_rgb).
static struct SwsContext *crt_sws_get(crt_sws *s, int sw, int sh, int sf, int dw, int dh, int df, int nt) {
	if (s->ctx && s->sw == sw && s->sh == sh && s->sf == sf && s->dw == dw && s->dh == dh && s->df == df && s->nt == nt)
		return s->ctx;
	sws_freeContext(s->ctx);
	s->ctx = sws_alloc_context();
	if (!s->ctx) return NULL;
	if (av_opt_set_int(s->ctx, "srcw", sw, 0) < 0 || av_opt_set_int(s->ctx, "srch", sh, 0) < 0 ||
		av_opt_set_int(s->ctx, "src_format", sf, 0) < 0 || av_opt_set_int(s->ctx, "dstw", dw, 0) < 0 ||
		av_opt_set_int(s->ctx, "dsth", dh, 0) < 0 || av_opt_set_int(s->ctx, "dst_format", df, 0) < 0 ||
		av_opt_set_int(s->ctx, "sws_flags", SWS_BILINEAR, 0) < 0 ||
		av_opt_set_int(s->ctx, "threads", nt, 0) < 0 ||
		sws_init_context(s->ctx, NULL, NULL) < 0) {
		sws_freeContext(s->ctx);
		s->ctx = NULL;
		return NULL;
	}
	s->sw = sw; s->sh = sh; s->sf = sf; s->dw = dw; s->dh = dh; s->df = df; s->nt = nt;
	return s->ctx;
}

static void crt_nofree(void *opaque, uint8_t *data) { (void)opaque; (void)data; }

// crt_sws_run converts src into dst with sws_scale_frame, which needs
// reference-counted frames. One of them is s->rgb wrapping the caller's
// buffer (Go memory, not owned): every reference to it is dropped before
// this returns, as cgo requires.
static int crt_sws_run(crt_sws *s, struct SwsContext *c, AVFrame *dst, const AVFrame *src) {
	int r = sws_scale_frame(c, dst, src);
	sws_frame_end(c);
	av_frame_unref(s->rgb);
	return r;
}

static int crt_wrap_rgb(AVFrame *w, uint8_t *data, int width, int height, int fmt) {
	av_frame_unref(w);
	w->buf[0] = av_buffer_create(data, (size_t)width * height * 3, crt_nofree, NULL, 0);
	if (!w->buf[0]) return AVERROR(ENOMEM);
	w->format = fmt;
	w->width = width;
	w->height = height;
	w->data[0] = data;
	w->linesize[0] = width * 3;
	return 0;
}

// crt_to_rgb crops f to (cx, cy, cw, ch) and scales that to dw×dh packed
// RGB24 at dst (dw*3 bytes a row). f is modified (cropped); unref it after.
int crt_to_rgb(crt_sws *s, AVFrame *f, int cx, int cy, int cw, int ch,
		uint8_t *dst, int dw, int dh) {
	int r = crt_check(f, 1);
	if (r < 0) return r;
	if (dw <= 0 || dh <= 0 || dw > 16384 || dh > 16384) return CRT_ESIZE;
	if (cx < 0 || cy < 0 || cw <= 0 || ch <= 0 || cx + cw > f->width || cy + ch > f->height) return CRT_ECROP;
	if (cw != f->width || ch != f->height) {
		f->crop_left = cx; f->crop_top = cy;
		f->crop_right = f->width - cx - cw; f->crop_bottom = f->height - cy - ch;
		r = av_frame_apply_cropping(f, AV_FRAME_CROP_UNALIGNED);
		if (r < 0) return r;
	}
	struct SwsContext *c = crt_sws_get(s, f->width, f->height, f->format, dw, dh, AV_PIX_FMT_RGB24, s->threads);
	if (!c) return CRT_ESWS;
	if (s->threads == 1) {
		uint8_t *dd[4] = {dst, NULL, NULL, NULL};
		int dl[4] = {dw * 3, 0, 0, 0};
		r = sws_scale(c, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dd, dl);
		return r == dh ? 0 : CRT_ESWS;
	}
	r = crt_wrap_rgb(s->rgb, dst, dw, dh, AV_PIX_FMT_RGB24);
	if (r < 0) return r;
	r = crt_sws_run(s, c, s->rgb, f);
	return r < 0 ? CRT_ESWS : 0;
}

// crt_from_rgb makes dst writable (the encoder may still hold its buffer)
// and scales the sw×sh packed picture at src (RGB24, or BGR24 when bgr is
// set) into it.
int crt_from_rgb(crt_sws *s, uint8_t *src, int bgr, int sw, int sh, AVFrame *dst) {
	int sf = bgr ? AV_PIX_FMT_BGR24 : AV_PIX_FMT_RGB24;
	if (sw <= 0 || sh <= 0 || sw > 16384 || sh > 16384) return CRT_ESIZE;
	int r = crt_check(dst, 0);
	if (r < 0) return r;
	r = av_frame_make_writable(dst);
	if (r < 0) return r;
	// The BGR24 → 4:2:0 converter is one fast pass; under swscale 5.1's
	// slice threads its bytes differ from one thread's (TestScalerThreads),
	// so it runs on this thread.
	int nt = bgr ? 1 : s->threads;
	struct SwsContext *c = crt_sws_get(s, sw, sh, sf, dst->width, dst->height, dst->format, nt);
	if (!c) return CRT_ESWS;
	if (nt == 1) {
		const uint8_t *sd[4] = {src, NULL, NULL, NULL};
		int sl[4] = {sw * 3, 0, 0, 0};
		r = sws_scale(c, sd, sl, 0, sh, dst->data, dst->linesize);
		return r == dst->height ? 0 : CRT_ESWS;
	}
	r = crt_wrap_rgb(s->rgb, src, sw, sh, sf);
	if (r < 0) return r;
	r = crt_sws_run(s, c, dst, s->rgb);
	return r < 0 ? CRT_ESWS : 0;
}
