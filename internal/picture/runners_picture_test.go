package picture

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/nodes/value"
)

func TestWriteRead(t *testing.T) {
	dir := t.TempDir()
	img := value.NewTensor(1, 1, 2, 3)
	copy(img.Data, []float32{0, 0.5, 1, 1, 0.25, 0})
	name := filepath.Join(dir, "a.png")
	if err := Write(name, value.OfTensor(value.Image, img)); err != nil {
		t.Fatal(err)
	}
	got, mask, err := Read(name, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(mask.Shape) != 0 || value.ShapeString(got.Shape) != value.ShapeString(img.Shape) {
		t.Fatalf("read %v (mask %v), want %v and no mask", got.Shape, mask.Shape, img.Shape)
	}
	for i, v := range img.Data {
		if math.Abs(float64(got.Data[i]-v)) > 1.0/255+1e-6 {
			t.Fatalf("element %d: %v, wrote %v", i, got.Data[i], v)
		}
	}
	// A MASK is written as grey.
	m := value.OfTensor(value.Mask, value.Tensor{Shape: []int{1, 1, 2}, Data: []float32{0, 1}})
	if err := Write(filepath.Join(dir, "m.jpg"), m); err != nil {
		t.Fatal(err)
	}
	g, _, err := Read(filepath.Join(dir, "m.jpg"), 0)
	if err != nil || g.Shape[2] != 2 || g.Data[3] < 0.9 || g.Data[0] > 0.1 {
		t.Fatalf("grey JPEG: %v %v", g.Data, err)
	}
}

func TestReadWriteErrors(t *testing.T) {
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, "x.png"), value.OfTensor(value.Image, value.NewTensor(1, 2, 2, 5))); err == nil {
		t.Error("5-channel IMAGE written")
	}
	big := value.NewTensor(1, 4, 4, 3)
	name := filepath.Join(dir, "big.png")
	if err := Write(name, value.OfTensor(value.Image, big)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Read(name, 8); err == nil {
		t.Error("a 16-pixel picture read with a limit of 8 pixels")
	}
	if _, _, err := Read(dir, 0); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a folder: %v", err)
	}
}
