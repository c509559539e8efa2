//go:build cgo

// Plain float32 samples in and out of FFmpeg frames and the audio FIFO, for
// the audio path of plans (audioio_cgo.go).

#ifndef COMFYRT_AV_AUDIOIO_H
#define COMFYRT_AV_AUDIOIO_H

#include <libavutil/frame.h>

#include "resample.h"

int crt_ar_read_packed(crt_ar *r, void *dst, int n);
int crt_frame_flt(AVFrame *f, const float *src, int n, int channels, int rate);

#endif
