//go:build cgo

#include <string.h>

#include <libavutil/channel_layout.h>
#include <libavutil/samplefmt.h>

#include "audioio.h"

// crt_ar_read_packed moves n samples of a packed output format from the
// FIFO into dst (n × channels values).
int crt_ar_read_packed(crt_ar *r, void *dst, int n) {
	if (av_sample_fmt_is_planar(r->out_fmt) || n <= 0 || n > av_audio_fifo_size(r->fifo)) return AVERROR(EINVAL);
	void *planes[1] = {dst};
	return av_audio_fifo_read(r->fifo, planes, n);
}

// crt_frame_flt makes f a fresh frame of n packed float samples of
// channels channels at rate, copied from src (n × channels values).
int crt_frame_flt(AVFrame *f, const float *src, int n, int channels, int rate) {
	if (n <= 0 || channels <= 0 || channels > 64 || rate <= 0) return AVERROR(EINVAL);
	av_frame_unref(f);
	f->format = AV_SAMPLE_FMT_FLT;
	f->sample_rate = rate;
	f->nb_samples = n;
	av_channel_layout_default(&f->ch_layout, channels);
	int ret = av_frame_get_buffer(f, 0);
	if (ret < 0) return ret;
	memcpy(f->data[0], src, (size_t)n * channels * sizeof(float));
	return 0;
}
