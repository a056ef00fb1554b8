// The files compiled into the binary (embedded.S), so that `attnchat` runs from a single file:
// the default tokenizer of Vocab/ and the default model of Model/. Each accessor returns the bytes and stores their count.
#ifndef ATTNCHAT_EMBEDDED_H
#define ATTNCHAT_EMBEDDED_H

const unsigned char *attnchat_embedded_vocab_json(long *count);
const unsigned char *attnchat_embedded_merges_txt(long *count);
/// The default chat model: an attnchat safetensors file (F16), see README's model card.
const unsigned char *attnchat_embedded_default_model(long *count);
/// The default English→Spanish translation model: an attnchat-seq2seq file (Q8), see README's model card,
/// and its own tokenizer's vocab.json and merges.txt.
const unsigned char *attnchat_embedded_translation_model(long *count);
const unsigned char *attnchat_embedded_translation_vocab_json(long *count);
const unsigned char *attnchat_embedded_translation_merges_txt(long *count);

#endif
