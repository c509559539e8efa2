//go:build cgo

// Frame conversion between FFmpeg frames and packed RGB24 (swscale), with
// the checks that turn swscale's assertions into error codes.

#ifndef COMFYRT_AV_SCALE_H
#define COMFYRT_AV_SCALE_H

#include <stdint.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>

enum { CRT_EFMT = -1, CRT_ESIZE = -2, CRT_ESWS = -3, CRT_ECROP = -4 };

// crt_sws is a swscale context cached for one conversion (rebuilt when the
// sizes or formats change) with its slice-thread count, and a frame that
// wraps the caller's packed RGB24 buffer for the length of one call.
typedef struct {
	struct SwsContext *ctx;
	int sw, sh, sf, dw, dh, df, nt; // the context's conversion and thread count
	int threads; // 0: one per CPU
	AVFrame *rgb;
} crt_sws;

crt_sws *crt_sws_new(int threads);
void crt_sws_free(crt_sws **ps);
int crt_to_rgb(crt_sws *s, AVFrame *f, int cx, int cy, int cw, int ch, uint8_t *dst, int dw, int dh);
int crt_from_rgb(crt_sws *s, uint8_t *src, int bgr, int sw, int sh, AVFrame *dst);

#endif
