// Embeds Vocab/ and the default model (Model/default.safetensors) into the binary with .incbin. The assembler finds the files through the
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

    .section .note.GNU-stack,"",@progbits
