package value

import "testing"

func TestAudioKind(t *testing.T) {
	if KindOf("AUDIO") != Audio || Audio.String() != "AUDIO" || !Audio.IsTensor() || Audio.IsScalar() {
		t.Fatalf("Audio kind: KindOf %v, String %q, IsTensor %v", KindOf("AUDIO"), Audio.String(), Audio.IsTensor())
	}
	s := AudioSpec(1, 2, 480, 48000)
	if s.String() != "AUDIO[1,2,480]@48000Hz" || s.Bytes() != 1*2*480*4 {
		t.Fatalf("spec %s, %d bytes", s, s.Bytes())
	}
	if s.SameShape(AudioSpec(1, 2, 480, 44100)) {
		t.Fatal("specs of different rates have the same shape")
	}
	v := New(s)
	if v.Kind != Audio || v.SampleRate() != 48000 || len(v.Tensor.Data) != 960 || v.String() != "AUDIO[1,2,480]@48000Hz" {
		t.Fatalf("New: %v (rate %d)", v, v.SampleRate())
	}
	if c := ConstSpec(v); !c.SameShape(s) {
		t.Fatalf("ConstSpec %s, want %s", c, s)
	}
	if OfFloat(3).SampleRate() != 0 {
		t.Fatal("a FLOAT has a sample rate")
	}
	if _, _, _, ok := AudioDims([]int{1, 480}); ok {
		t.Fatal("AudioDims accepts rank 2")
	}
}
