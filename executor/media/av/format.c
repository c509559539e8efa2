//go:build cgo

#include <stdlib.h>
#include <libavcodec/avcodec.h>

#include "format.h"

int crt_dict_set(AVDictionary **d, const char *k, const char *v) {
	return av_dict_set(d, k, v, 0);
}

// crt_avio_open opens fc->pb for writing with protocol options (go-astiav
// v0.16.0's OpenIOContext takes none), honouring fc's interrupt callback.
int crt_avio_open(AVFormatContext *fc, const char *url, AVDictionary **opts) {
	return avio_open2(&fc->pb, url, AVIO_FLAG_WRITE, &fc->interrupt_callback, opts);
}

void crt_avio_close(AVFormatContext *fc) {
	if (fc->pb) avio_closep(&fc->pb);
}

// crt_query_codec reports whether fc's muxer can store codec id (1), cannot
// (0), or does not know (<0).
int crt_query_codec(AVFormatContext *fc, int id) {
	return avformat_query_codec(fc->oformat, id, FF_COMPLIANCE_NORMAL);
}

int crt_nb_streams(AVFormatContext *fc) { return (int)fc->nb_streams; }

// An interrupt flag in C memory, set and read atomically (go-astiav
// v0.16.0's interrupter is a plain Go int, a data race when another
// goroutine interrupts).
static int crt_interrupt_cb(void *p) { return __atomic_load_n((int *)p, __ATOMIC_SEQ_CST); }
int *crt_intr_new(AVFormatContext *fc) {
	int *p = calloc(1, sizeof(int));
	if (!p) return NULL;
	fc->interrupt_callback.callback = crt_interrupt_cb;
	fc->interrupt_callback.opaque = p;
	return p;
}
void crt_intr_set(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
