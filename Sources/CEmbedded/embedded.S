// Embeds Vocab/, the default model (Model/default.safetensors) and the default translation model with its
// tokenizer (Model/en-es/) into the binary with .incbin. The assembler finds the files through the
// package root, which Package.swift passes as an include directory (-Wa,-I).
// After changing one of those files, touch this file so SwiftPM reassembles it.
    .section .rodata
    .balign 16
    .global attnchat_vocab_json_start
    .global attnchat_vocab_json_end
attnchat_vocab_json_start:
    .incbin "Vocab/vocab.json"
attnchat_vocab_json_end:
    .byte 0

    .balign 16
    .global attnchat_merges_txt_start
    .global attnchat_merges_txt_end
attnchat_merges_txt_start:
    .incbin "Vocab/merges.txt"
attnchat_merges_txt_end:
    .byte 0

    .balign 64
    .global attnchat_default_model_start
    .global attnchat_default_model_end
attnchat_default_model_start:
    .incbin "Model/default.safetensors"
attnchat_default_model_end:
    .byte 0

    .balign 64
    .global attnchat_translation_model_start
    .global attnchat_translation_model_end
attnchat_translation_model_start:
    .incbin "Model/en-es/model.safetensors"
attnchat_translation_model_end:
    .byte 0

    .balign 16
    .global attnchat_translation_vocab_start
    .global attnchat_translation_vocab_end
attnchat_translation_vocab_start:
    .incbin "Model/en-es/vocab.json"
attnchat_translation_vocab_end:
    .byte 0

    .balign 16
    .global attnchat_translation_merges_start
    .global attnchat_translation_merges_end
attnchat_translation_merges_start:
    .incbin "Model/en-es/merges.txt"
attnchat_translation_merges_end:
    .byte 0

    .section .note.GNU-stack,"",@progbits
