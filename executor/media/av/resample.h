//go:build cgo

// Audio conversion to the encoder's format and frame size (swresample and
// an audio FIFO).

#ifndef COMFYRT_AV_RESAMPLE_H
#define COMFYRT_AV_RESAMPLE_H

#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/frame.h>
#include <libswresample/swresample.h>

// crt_ar converts decoded audio frames of any sample format, layout and
// rate to one output format (swresample, reconfigured whenever the input
// changes) and buffers the result in a FIFO, from which the encoder takes
// frames of exactly its frame size. go-astiav v0.16.0 wraps neither.
typedef struct {
	SwrContext *swr;
	AVAudioFifo *fifo;
	enum AVSampleFormat out_fmt;
	int out_rate;
	AVChannelLayout out_layout;
	enum AVSampleFormat in_fmt;
	int in_rate;
	AVChannelLayout in_layout;
	uint8_t **buf; // converted samples before they enter the FIFO
	int cap;       // samples buf holds
} crt_ar;

crt_ar *crt_ar_new(int fmt, int rate, int channels);
void crt_ar_free(crt_ar **pr);
int crt_ar_push(crt_ar *r, const AVFrame *f);
int crt_ar_size(crt_ar *r);
int crt_ar_read(crt_ar *r, AVFrame *out, int n);

#endif
