//go:build cgo

#include <libavutil/mem.h>
#include <libavutil/samplefmt.h>

#include "resample.h"

void crt_ar_free(crt_ar **pr) {
	crt_ar *r = *pr;
	if (!r) return;
	swr_free(&r->swr);
	if (r->fifo) av_audio_fifo_free(r->fifo);
	if (r->buf) av_freep(&r->buf[0]);
	av_freep(&r->buf);
	av_channel_layout_uninit(&r->out_layout);
	av_channel_layout_uninit(&r->in_layout);
	av_freep(pr);
}

crt_ar *crt_ar_new(int fmt, int rate, int channels) {
	if (fmt < 0 || rate <= 0 || channels <= 0 || channels > 64) return NULL;
	crt_ar *r = av_mallocz(sizeof(*r));
	if (!r) return NULL;
	r->out_fmt = fmt;
	r->out_rate = rate;
	av_channel_layout_default(&r->out_layout, channels);
	r->in_fmt = AV_SAMPLE_FMT_NONE;
	r->fifo = av_audio_fifo_alloc(fmt, channels, 4096);
	if (!r->fifo) crt_ar_free(&r);
	return r;
}

// crt_ar_convert runs swr on n input samples (in NULL: drain its delay)
// into the FIFO.
static int crt_ar_convert(crt_ar *r, const uint8_t **in, int n) {
	if (!r->swr) return 0;
	int out = swr_get_out_samples(r->swr, n);
	if (out < 0) return out;
	if (out == 0) return 0;
	if (out > r->cap) {
		if (r->buf) av_freep(&r->buf[0]);
		av_freep(&r->buf);
		r->cap = 0;
		int ret = av_samples_alloc_array_and_samples(&r->buf, NULL, r->out_layout.nb_channels, out, r->out_fmt, 0);
		if (ret < 0) return ret;
		r->cap = out;
	}
	int got = swr_convert(r->swr, r->buf, out, in, n);
	if (got < 0) return got;
	if (got > 0 && av_audio_fifo_write(r->fifo, (void **)r->buf, got) < got) return AVERROR(ENOMEM);
	return 0;
}

// crt_ar_push converts frame f into the FIFO; f NULL flushes the resampler.
int crt_ar_push(crt_ar *r, const AVFrame *f) {
	if (!f) return crt_ar_convert(r, NULL, 0);
	if (f->nb_samples <= 0) return 0;
	if (f->format < 0 || f->sample_rate <= 0 || f->ch_layout.nb_channels <= 0) return AVERROR(EINVAL);
	AVChannelLayout in = {0}; // zeroed: av_channel_layout_copy uninits its destination first
	int ret;
	if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
		av_channel_layout_default(&in, f->ch_layout.nb_channels);
	} else if ((ret = av_channel_layout_copy(&in, &f->ch_layout)) < 0) {
		return ret;
	}
	if (!r->swr || f->format != r->in_fmt || f->sample_rate != r->in_rate ||
			av_channel_layout_compare(&in, &r->in_layout) != 0) {
		if ((ret = crt_ar_convert(r, NULL, 0)) < 0) goto end; // keep what the old one held
		swr_free(&r->swr);
		ret = swr_alloc_set_opts2(&r->swr, &r->out_layout, r->out_fmt, r->out_rate,
			&in, f->format, f->sample_rate, 0, NULL);
		if (ret >= 0) ret = swr_init(r->swr);
		if (ret < 0) {
			swr_free(&r->swr);
			goto end;
		}
		r->in_fmt = f->format;
		r->in_rate = f->sample_rate;
		av_channel_layout_uninit(&r->in_layout);
		if ((ret = av_channel_layout_copy(&r->in_layout, &in)) < 0) goto end;
	}
	ret = crt_ar_convert(r, (const uint8_t **)f->extended_data, f->nb_samples);
end:
	av_channel_layout_uninit(&in);
	return ret;
}

int crt_ar_size(crt_ar *r) { return av_audio_fifo_size(r->fifo); }

// crt_ar_read moves n samples from the FIFO into out, a fresh buffer in the
// output format (the encoder may still hold out's previous one).
int crt_ar_read(crt_ar *r, AVFrame *out, int n) {
	if (n <= 0 || n > av_audio_fifo_size(r->fifo)) return AVERROR(EINVAL);
	av_frame_unref(out);
	out->format = r->out_fmt;
	out->sample_rate = r->out_rate;
	out->nb_samples = n;
	int ret = av_channel_layout_copy(&out->ch_layout, &r->out_layout);
	if (ret < 0) return ret;
	if ((ret = av_frame_get_buffer(out, 0)) < 0) return ret;
	if (av_audio_fifo_read(r->fifo, (void **)out->data, n) < n) return AVERROR_BUG;
	return 0;
}
