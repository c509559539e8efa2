package builtin

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"comfyrt/nodes/schema"
)

// imageExts are the file types ComfyUI's LoadImage lists from its input
// folder (it filters the folder by content type "image").
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".webp": true, ".bmp": true, ".gif": true, ".tif": true, ".tiff": true}

// FolderLists fills the built-in combos whose choices ComfyUI lists from a
// folder (LoadImage's image files): from inputDir when given. The ones it
// cannot list are returned (class → inputs; the form of validate.Options.Unlisted), so their values are
// not checked. Classes an --object-info file redefined keep that file's
// choices.
func FolderLists(s *schema.Set, inputDir string) (map[string][]string, error) {
	unlisted := map[string][]string{}
	var images []any
	if inputDir != "" {
		ents, err := os.ReadDir(inputDir)
		if err != nil {
			return nil, fmt.Errorf("input folder: %w", err)
		}
		for _, e := range ents {
			if imageExts[strings.ToLower(filepath.Ext(e.Name()))] && isRegularFile(filepath.Join(inputDir, e.Name())) {
				images = append(images, e.Name())
			}
		}
	}
	for _, fi := range FolderInputs() {
		n := s.Lookup(fi.Class)
		if n == nil || n.Source != Source {
			continue
		}
		if fi.Folder == "input" && inputDir != "" {
			filled, err := n.WithChoices(fi.Input, images)
			if err != nil {
				return nil, err
			}
			s.Add(filled)
			continue
		}
		unlisted[fi.Class] = append(unlisted[fi.Class], fi.Input)
	}
	return unlisted, nil
}

// isRegularFile reports whether p is a regular file, following links, as
// ComfyUI lists its input folder (os.path.isfile): FIFOs, devices, folders
// and broken links are not offered.
func isRegularFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
