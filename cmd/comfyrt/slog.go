package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
)

// logOpts are the --log-format and --log-level flags of the commands
// that log (serve, run): their diagnostics go to stderr through one
// *slog.Logger, passed down to the server and the live runner.
type logOpts struct {
	format, level string
}

func addLogFlags(fs *flag.FlagSet) *logOpts {
	o := &logOpts{}
	fs.StringVar(&o.format, "log-format", "text", "log `format` on stderr: text or json")
	fs.StringVar(&o.level, "log-level", "info", "least log `level` shown: debug, info, warn or error")
	return o
}

// check says what is wrong with the flags' values.
func (o *logOpts) check() error {
	if o.format != "text" && o.format != "json" {
		return fmt.Errorf("--log-format must be text or json, not %q", o.format)
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(o.level)); err != nil {
		return fmt.Errorf("--log-level must be debug, info, warn or error, not %q", o.level)
	}
	return nil
}

// logger is the logger the flags describe, writing to w (checked flags).
func (o *logOpts) logger(w io.Writer) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(o.level))
	ho := &slog.HandlerOptions{Level: l}
	if o.format == "json" {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	return slog.New(slog.NewTextHandler(w, ho))
}
