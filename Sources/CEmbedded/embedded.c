#include "CEmbedded.h"

// Symbols defined by embedded.S around each .incbin.
extern const unsigned char attnchat_vocab_json_start[], attnchat_vocab_json_end[];
extern const unsigned char attnchat_merges_txt_start[], attnchat_merges_txt_end[];
extern const unsigned char attnchat_default_model_start[], attnchat_default_model_end[];
extern const unsigned char attnchat_translation_model_start[], attnchat_translation_model_end[];
extern const unsigned char attnchat_translation_vocab_start[], attnchat_translation_vocab_end[];
extern const unsigned char attnchat_translation_merges_start[], attnchat_translation_merges_end[];

const unsigned char *attnchat_embedded_vocab_json(long *count) {
    *count = attnchat_vocab_json_end - attnchat_vocab_json_start;
    return attnchat_vocab_json_start;
}

const unsigned char *attnchat_embedded_merges_txt(long *count) {
    *count = attnchat_merges_txt_end - attnchat_merges_txt_start;
    return attnchat_merges_txt_start;
}

const unsigned char *attnchat_embedded_default_model(long *count) {
    *count = attnchat_default_model_end - attnchat_default_model_start;
    return attnchat_default_model_start;
}

const unsigned char *attnchat_embedded_translation_model(long *count) {
    *count = attnchat_translation_model_end - attnchat_translation_model_start;
    return attnchat_translation_model_start;
}

const unsigned char *attnchat_embedded_translation_vocab_json(long *count) {
    *count = attnchat_translation_vocab_end - attnchat_translation_vocab_start;
    return attnchat_translation_vocab_start;
}

const unsigned char *attnchat_embedded_translation_merges_txt(long *count) {
    *count = attnchat_translation_merges_end - attnchat_translation_merges_start;
    return attnchat_translation_merges_start;
}
