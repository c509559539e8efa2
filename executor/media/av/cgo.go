//go:build cgo

package av

/*
#cgo pkg-config: libavformat libavcodec libavutil libswscale libswresample
#include <stdlib.h>
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
#include <libavutil/dict.h>
#include <libswscale/swscale.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>

enum { CRT_EFMT = -1, CRT_ESIZE = -2, CRT_ESWS = -3, CRT_ECROP = -4 };

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

// crt_sws is a swscale context cached for one conversion (rebuilt when the
// sizes or formats change) with its slice-thread count, and a frame that
// wraps the caller's packed RGB24 buffer for the length of one call.
typedef struct {
	struct SwsContext *ctx;
	int sw, sh, sf, dw, dh, df, nt; // the context's conversion and thread count
	int threads; // 0: one per CPU
	AVFrame *rgb;
} crt_sws;

static void crt_sws_free(crt_sws **ps) {
	crt_sws *s = *ps;
	if (!s) return;
	sws_freeContext(s->ctx);
	av_frame_free(&s->rgb);
	av_freep(ps);
}

static crt_sws *crt_sws_new(int threads) {
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
static int crt_to_rgb(crt_sws *s, AVFrame *f, int cx, int cy, int cw, int ch,
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
static int crt_from_rgb(crt_sws *s, uint8_t *src, int bgr, int sw, int sh, AVFrame *dst) {
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

static void crt_ar_free(crt_ar **pr) {
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

static crt_ar *crt_ar_new(int fmt, int rate, int channels) {
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
static int crt_ar_push(crt_ar *r, const AVFrame *f) {
	if (!f) return crt_ar_convert(r, NULL, 0);
	if (f->nb_samples <= 0) return 0;
	if (f->format < 0 || f->sample_rate <= 0 || f->ch_layout.nb_channels <= 0) return AVERROR(EINVAL);
	AVChannelLayout in;
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

static int crt_ar_size(crt_ar *r) { return av_audio_fifo_size(r->fifo); }

// crt_ar_read moves n samples from the FIFO into out, a fresh buffer in the
// output format (the encoder may still hold out's previous one).
static int crt_ar_read(crt_ar *r, AVFrame *out, int n) {
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

static int crt_dict_set(AVDictionary **d, const char *k, const char *v) {
	return av_dict_set(d, k, v, 0);
}

// crt_avio_open opens fc->pb for writing with protocol options (go-astiav
// v0.16.0's OpenIOContext takes none), honouring fc's interrupt callback.
static int crt_avio_open(AVFormatContext *fc, const char *url, AVDictionary **opts) {
	return avio_open2(&fc->pb, url, AVIO_FLAG_WRITE, &fc->interrupt_callback, opts);
}

static void crt_avio_close(AVFormatContext *fc) {
	if (fc->pb) avio_closep(&fc->pb);
}

// crt_query_codec reports whether fc's muxer can store codec id (1), cannot
// (0), or does not know (<0).
static int crt_query_codec(AVFormatContext *fc, int id) {
	return avformat_query_codec(fc->oformat, id, FF_COMPLIANCE_NORMAL);
}

static int crt_nb_streams(AVFormatContext *fc) { return (int)fc->nb_streams; }

// An interrupt flag in C memory, set and read atomically (go-astiav
// v0.16.0's interrupter is a plain Go int, a data race when another
// goroutine interrupts).
static int crt_interrupt_cb(void *p) { return __atomic_load_n((int *)p, __ATOMIC_SEQ_CST); }
static int *crt_intr_new(AVFormatContext *fc) {
	int *p = calloc(1, sizeof(int));
	if (!p) return NULL;
	fc->interrupt_callback.callback = crt_interrupt_cb;
	fc->interrupt_callback.opaque = p;
	return p;
}
static void crt_intr_set(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/asticode/go-astiav"

	"comfyrt/nodes/value"
)

// errNoPixelFormat and friends are the conversion errors the helper turns
// swscale's assertions into.
var (
	errPixelFormat = errors.New("frame has no usable pixel format (for example an mp4 with its index at the end read from a pipe)")
	errFrameSize   = errors.New("frame has an invalid size")
	errScale       = errors.New("swscale failed")
	errCrop        = errors.New("invalid crop rectangle")
)

func helperErr(r C.int) error {
	switch r {
	case 0:
		return nil
	case C.CRT_EFMT:
		return errPixelFormat
	case C.CRT_ESIZE:
		return errFrameSize
	case C.CRT_ESWS:
		return errScale
	case C.CRT_ECROP:
		return errCrop
	}
	return astiav.Error(r)
}

func cFrame(f *astiav.Frame) *C.AVFrame { return (*C.AVFrame)(f.UnsafePointer()) }

// scaler owns a cached swscale context. threads is its slice-thread count
// (0: one per CPU, as the ffmpeg CLI's filters); set it before first use.
type scaler struct {
	s       *C.crt_sws
	threads int
	bgr     []byte // fromRGB's BGR24 copy
}

func (s *scaler) free() { C.crt_sws_free(&s.s) }

func (s *scaler) ctx() (*C.crt_sws, error) {
	if s.s == nil {
		if s.s = C.crt_sws_new(C.int(s.threads)); s.s == nil {
			return nil, errors.New("av: out of memory")
		}
	}
	return s.s, nil
}

// toRGB converts src (cropped to the rectangle) into dst, a dw×dh RGB24
// buffer. src is modified; the caller unrefs it.
func (s *scaler) toRGB(src *astiav.Frame, cx, cy, cw, ch int, dst []byte, dw, dh int) error {
	if len(dst) < dw*dh*3 || dw <= 0 || dh <= 0 {
		return errFrameSize
	}
	c, err := s.ctx()
	if err != nil {
		return err
	}
	return helperErr(C.crt_to_rgb(c, cFrame(src), C.int(cx), C.int(cy), C.int(cw), C.int(ch),
		(*C.uint8_t)(unsafe.Pointer(&dst[0])), C.int(dw), C.int(dh)))
}

// fromRGB converts the sw×sh RGB24 picture src into dst (allocated, with
// format and size set).
//
// swscale (FFmpeg 5.1) converts BGR24, not RGB24, to 4:2:0 YUV of the same
// even size with a special-cased converter (box-filtered chroma, the same
// BT.601 matrix) that costs about half the general path at 720p; for those
// conversions the picture is first swapped to BGR in s.bgr.
func (s *scaler) fromRGB(src []byte, sw, sh int, dst *astiav.Frame) error {
	return s.fromPacked(src, sw, sh, dst, true)
}

// fromPacked is fromRGB, taking the BGR24 path only when fast is set.
func (s *scaler) fromPacked(src []byte, sw, sh int, dst *astiav.Frame, fast bool) error {
	if sw <= 0 || sh <= 0 || len(src) < sw*sh*3 {
		return errFrameSize
	}
	c, err := s.ctx()
	if err != nil {
		return err
	}
	bgr := 0
	if pf := dst.PixelFormat(); fast && (pf == astiav.PixelFormatYuv420P || pf == astiav.PixelFormatYuvj420P) &&
		dst.Width() == sw && dst.Height() == sh && sw%2 == 0 && sh%2 == 0 {
		n := sw * sh * 3
		if cap(s.bgr) < n {
			s.bgr = make([]byte, n)
		}
		s.bgr = s.bgr[:n]
		value.SwapRB(s.bgr, src[:n])
		src, bgr = s.bgr, 1
	}
	return helperErr(C.crt_from_rgb(c, (*C.uint8_t)(unsafe.Pointer(&src[0])), C.int(bgr), C.int(sw), C.int(sh), cFrame(dst)))
}

// cDict is a C AVDictionary built from Go strings.
type cDict struct{ d *C.AVDictionary }

func newCDict(m map[string]string) (*cDict, error) {
	d := &cDict{}
	for k, v := range m {
		ck, cv := C.CString(k), C.CString(v)
		r := C.crt_dict_set(&d.d, ck, cv)
		C.free(unsafe.Pointer(ck))
		C.free(unsafe.Pointer(cv))
		if r < 0 {
			d.free()
			return nil, fmt.Errorf("option %s=%s: %w", k, v, astiav.Error(r))
		}
	}
	return d, nil
}

func (d *cDict) free() { C.av_dict_free(&d.d) }

// leftovers lists the options nobody consumed.
func (d *cDict) leftovers() []string {
	var out []string
	var e *C.AVDictionaryEntry
	empty := C.CString("")
	defer C.free(unsafe.Pointer(empty))
	for {
		e = C.av_dict_get(d.d, empty, e, C.AV_DICT_IGNORE_SUFFIX)
		if e == nil {
			return out
		}
		out = append(out, C.GoString(e.key))
	}
}

// fcPtr returns the AVFormatContext behind a go-astiav FormatContext.
// go-astiav v0.16.0 (pinned in go.mod) declares FormatContext as
// struct{ c *C.struct_AVFormatContext } and exports no accessor; fcPtr reads
// that field and checks it against the public NbStreams.
func fcPtr(fc *astiav.FormatContext) (*C.AVFormatContext, error) {
	p := *(**C.AVFormatContext)(unsafe.Pointer(fc))
	if p == nil || int(C.crt_nb_streams(p)) != fc.NbStreams() {
		return nil, errors.New("av: go-astiav FormatContext layout changed (expected v0.16.0)")
	}
	return p, nil
}

func avioOpen(fc *astiav.FormatContext, url string, opts *cDict) error {
	p, err := fcPtr(fc)
	if err != nil {
		return err
	}
	cu := C.CString(url)
	defer C.free(unsafe.Pointer(cu))
	if r := C.crt_avio_open(p, cu, &opts.d); r < 0 {
		return astiav.Error(r)
	}
	return nil
}

func avioClose(fc *astiav.FormatContext) {
	if p, err := fcPtr(fc); err == nil {
		C.crt_avio_close(p)
	}
}

// canHold reports whether the output format can store the codec (true when
// FFmpeg does not know).
func canHold(fc *astiav.FormatContext, id astiav.CodecID) bool {
	p, err := fcPtr(fc)
	if err != nil {
		return true
	}
	return C.crt_query_codec(p, C.int(id)) != 0
}

// resampler converts decoded audio to the AAC encoder's format and cuts it
// into frames of the encoder's size.
type resampler struct{ r *C.crt_ar }

func newResampler(f astiav.SampleFormat, rate, channels int) (*resampler, error) {
	r := C.crt_ar_new(C.int(f), C.int(rate), C.int(channels))
	if r == nil {
		return nil, fmt.Errorf("cannot set up audio conversion to %s %d Hz %d channels", f, rate, channels)
	}
	return &resampler{r: r}, nil
}

// push converts f into the buffer; nil flushes the resampler's delay.
func (r *resampler) push(f *astiav.Frame) error {
	var p *C.AVFrame
	if f != nil {
		p = cFrame(f)
	}
	if ret := C.crt_ar_push(r.r, p); ret < 0 {
		return astiav.Error(ret)
	}
	return nil
}

// buffered is how many converted samples wait.
func (r *resampler) buffered() int { return int(C.crt_ar_size(r.r)) }

// read puts the next n buffered samples into out (replacing its buffer).
func (r *resampler) read(out *astiav.Frame, n int) error {
	if ret := C.crt_ar_read(r.r, cFrame(out), C.int(n)); ret < 0 {
		return astiav.Error(ret)
	}
	return nil
}

func (r *resampler) free() { C.crt_ar_free(&r.r) }

// SetLogLevel sets FFmpeg's process-wide log level: "quiet", "panic",
// "fatal", "error", "warning", "info", "verbose" or "debug" (FFmpeg's default
// is info, on stderr). Unknown names leave it unchanged.
func SetLogLevel(level string) {
	l, ok := map[string]astiav.LogLevel{
		"quiet": astiav.LogLevelQuiet, "panic": astiav.LogLevelPanic, "fatal": astiav.LogLevelFatal,
		"error": astiav.LogLevelError, "warning": astiav.LogLevelWarning, "info": astiav.LogLevelInfo,
		"verbose": astiav.LogLevelVerbose, "debug": astiav.LogLevelDebug,
	}[level]
	if ok {
		astiav.SetLogLevel(l)
	}
}

// interrupter is FFmpeg's interrupt flag for one format context; safe to
// set from any goroutine.
type interrupter struct{ p *C.int }

func newInterrupter(fc *astiav.FormatContext) (*interrupter, error) {
	p, err := fcPtr(fc)
	if err != nil {
		return nil, err
	}
	i := C.crt_intr_new(p)
	if i == nil {
		return nil, errors.New("av: out of memory")
	}
	return &interrupter{p: i}, nil
}

func (i *interrupter) Interrupt() { C.crt_intr_set(i.p, 1) }
func (i *interrupter) Resume()    { C.crt_intr_set(i.p, 0) }

// free releases the flag; only after the format context is gone.
func (i *interrupter) free() {
	C.free(unsafe.Pointer(i.p))
	i.p = nil
}

const available = true
