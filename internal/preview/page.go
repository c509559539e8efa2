package preview

import (
	"embed"
	"io/fs"
	"net/http"
)

// web holds the page: plain HTML, JavaScript and CSS, no build step, no
// external resources.
//
//go:embed web
var web embed.FS

func pageHandler() http.Handler {
	sub, err := fs.Sub(web, "web")
	if err != nil {
		panic(err) // the embedded folder is part of the build
	}
	return http.FileServerFS(sub)
}
