package graph

import (
	"strings"
	"testing"

	"comfyrt/internal/jsonx"
)

// TestCorpusSubgraphs converts the corpus's subgraph fixtures and checks
// the flattened prompts: ids "instance:inner", inner links resolved,
// unconnected subgraph inputs absent, and (duplicate_links_slot_drift) the
// input's own link id deciding between two links to the same slot.
func TestCorpusSubgraphs(t *testing.T) {
	t.Parallel()
	schemas := corpusSchemas(t)
	tests := []struct {
		name, file string
		want       string
		// wantWarnings are substrings of warnings that must be present.
		wantWarnings []string
	}{
		{
			name: "basic-subgraph-zero-uuid",
			file: "ComfyUI_frontend/basic-subgraph-zero-uuid.json",
			want: `{"2:1":{"inputs":{"seed":0,"steps":20,"cfg":8,"sampler_name":"euler","scheduler":"simple","denoise":1},"class_type":"KSampler","_meta":{"title":"KSampler"}},"2:2":{"inputs":{},"class_type":"VAEEncode","_meta":{"title":"VAE Encode"}}}`,
		},
		{
			name:         "duplicate_links_slot_drift",
			file:         "ComfyUI_frontend/duplicate_links_slot_drift.json",
			want:         `{"2:120":{"inputs":{},"class_type":"ComfySwitchNode","_meta":{"title":"Switch (CFG)"}},"2:86":{"inputs":{"add_noise":false,"noise_seed":0,"steps":20,"cfg":["2:120",0],"sampler_name":"euler","scheduler":"normal","start_at_step":0,"end_at_step":10000,"return_with_leftover_noise":false},"class_type":"KSamplerAdvanced","_meta":{"title":"KSampler (Advanced)"}},"2:85":{"inputs":{"add_noise":false,"noise_seed":0,"steps":20,"cfg":["2:120",0],"sampler_name":"euler","scheduler":"normal","start_at_step":0,"end_at_step":10000,"return_with_leftover_noise":false},"class_type":"KSamplerAdvanced","_meta":{"title":"KSampler (Advanced)"}}}`,
			wantWarnings: []string{"link 257 goes to input 5 (cfg) of node 85, which references 276"},
		},
		{
			name: "group_node_v1.3.3",
			file: "ComfyUI_frontend/group_node_v1.3.3.json",
			want: `{"10:0":{"inputs":{"width":512,"height":512,"batch_size":1},"class_type":"EmptyLatentImage","_meta":{"title":"Empty Latent Image"}},"10:1":{"inputs":{"ckpt_name":"v1-5-pruned-emaonly.ckpt"},"class_type":"CheckpointLoaderSimple","_meta":{"title":"Load Checkpoint"}},"10:2":{"inputs":{"text":"beautiful scenery nature glass bottle landscape, , purple galaxy bottle,","clip":["10:1",1]},"class_type":"CLIPTextEncode","_meta":{"title":"CLIP Text Encode (Prompt)"}},"10:3":{"inputs":{"text":"text, watermark","clip":["10:1",1]},"class_type":"CLIPTextEncode","_meta":{"title":"CLIP Text Encode (Prompt)"}},"10:4":{"inputs":{"seed":156680208700286,"steps":20,"cfg":8,"sampler_name":"euler","scheduler":"normal","denoise":1,"model":["10:1",0],"positive":["10:2",0],"negative":["10:3",0],"latent_image":["10:0",0]},"class_type":"KSampler","_meta":{"title":"KSampler"}},"10:5":{"inputs":{"samples":["10:4",0],"vae":["10:1",2]},"class_type":"VAEDecode","_meta":{"title":"VAE Decode"}},"10:6":{"inputs":{"filename_prefix":"ComfyUI","images":["10:5",0]},"class_type":"SaveImage","_meta":{"title":"Save Image"}}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ui, ds := ParseUI(readCorpus(t, tc.file))
			p, cds := Convert(ui, ConvertOptions{Schemas: schemas})
			ds = append(ds, cds...)
			got, err := jsonx.Marshal(p.JSON(), "")
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		next:
			for _, w := range tc.wantWarnings {
				for _, d := range ds {
					if strings.Contains(d.Error(), w) {
						continue next
					}
				}
				t.Errorf("no diagnostic containing %q in %v", w, ds)
			}
		})
	}
}

// TestCorpusSubgraphBundle parses litegraph's testSubgraphs.json, a bundle
// whose values are schema-1 graphs that are themselves subgraph
// definitions (links keyed by id, links to the output node -20, nested
// definitions), and converts each.
func TestCorpusSubgraphBundle(t *testing.T) {
	t.Parallel()
	tree := readCorpus(t, "litegraph.js/testSubgraphs.json")
	bundle, ok := tree.(jsonx.Object)
	if !ok {
		t.Fatal("bundle is not an object")
	}
	wantNodes := map[string]int{"simpleSubgraph": 1, "complexSubgraph": 4, "nestedSubgraphLevel1": 0, "emptySubgraph": 0, "maxIOSubgraph": 0}
	wantSubgraphs := map[string]int{"nestedSubgraphLevel1": 1}
	for _, m := range bundle {
		t.Run(m.Key, func(t *testing.T) {
			ui, ds := ParseUI(m.Value)
			if ui == nil {
				t.Fatalf("ParseUI: %v", ds)
			}
			if ui.Schema != 1 {
				t.Errorf("schema %d, want 1", ui.Schema)
			}
			for _, d := range ds {
				t.Errorf("unexpected diagnostic: %v", d)
			}
			if got := len(ui.Graph.Nodes); got != wantNodes[m.Key] {
				t.Errorf("%d nodes, want %d", got, wantNodes[m.Key])
			}
			if got := len(ui.Subgraphs); got != wantSubgraphs[m.Key] {
				t.Errorf("%d subgraph definitions, want %d", got, wantSubgraphs[m.Key])
			}
			p, _ := Convert(ui, ConvertOptions{})
			if len(p.Nodes) != wantNodes[m.Key] {
				t.Errorf("converted %d nodes, want %d", len(p.Nodes), wantNodes[m.Key])
			}
			if m.Key == "complexSubgraph" {
				// math/add's input a is linked from math/multiply.
				if in := p.Node("2").Input("a"); in == nil || in.Link == nil || in.Link.From != "1" {
					t.Errorf("node 2 input a = %v, want link from 1", in)
				}
			}
		})
	}
}
