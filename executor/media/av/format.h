//go:build cgo

// Format-context helpers go-astiav v0.16.0 lacks: dictionaries, output
// I/O with protocol options, codec queries and an atomic interrupt flag.

#ifndef COMFYRT_AV_FORMAT_H
#define COMFYRT_AV_FORMAT_H

#include <libavformat/avformat.h>
#include <libavutil/dict.h>

int crt_dict_set(AVDictionary **d, const char *k, const char *v);
int crt_avio_open(AVFormatContext *fc, const char *url, AVDictionary **opts);
void crt_avio_close(AVFormatContext *fc);
int crt_query_codec(AVFormatContext *fc, int id);
int crt_nb_streams(AVFormatContext *fc);
int *crt_intr_new(AVFormatContext *fc);
void crt_intr_set(int *p, int v);

#endif
