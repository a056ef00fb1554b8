// Picks OpenBLAS's kernel family for this CPU.
//
// Debian's OpenBLAS 0.3.21 (the one linked statically) does not know CPUs newer than its release,
// e.g. Sapphire Rapids, and falls back to its Prescott (SSE3) kernels: GEMM at a quarter of the
// speed. Its DYNAMIC_ARCH build chooses kernels once, in a constructor, honouring
// OPENBLAS_CORETYPE. Setting that variable from an earlier constructor is not an option: setenv
// can move `environ`, which the static Swift runtime uses to find argv. So attnchat re-runs the
// choice from main, before the first BLAS call: quit and init again with the variable set.
//
// The shipped binary keeps only two families' kernels (the Makefile's --defsym list points every
// other family at them): attnchat itself needs AVX2 + FMA, so SSE-era kernels can never run, and
// Zen's are Haswell's kernels with other block sizes (prefill measured the same, BENCHMARKS.md).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "CBLAS.h"

void gotoblas_dynamic_init(void);
void gotoblas_dynamic_quit(void);
// OpenBLAS's kernel tables: `gotoblas` points at the one in use.
extern void *gotoblas;
extern char gotoblas_HASWELL[], gotoblas_SKYLAKEX[];

static int cpu_has_avx512(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

// OPENBLAS_CORETYPE values whose kernels execute AVX-512 instructions whatever the CPU.
static int names_avx512_family(const char *core) {
    return strcasecmp(core, "SkylakeX") == 0 || strcasecmp(core, "Cooperlake") == 0 ||
           strcasecmp(core, "SapphireRapids") == 0;
}

void attnchat_select_blas_core(void) {
    __builtin_cpu_init();
    const char *requested = getenv("OPENBLAS_CORETYPE");
    if (requested != NULL && !(names_avx512_family(requested) && !cpu_has_avx512())) return;
    const char *core = NULL;
    // By measurement, not by feature list alone: on Intel the AVX-512 kernels prefill faster, on
    // AMD's Zen 4/5 the Haswell ones do (437 vs 385 tokens/s on 1 thread, 710 vs 610 on 2, GPT-2
    // small); see BENCHMARKS.md, "OpenBLAS kernel family".
    if (cpu_has_avx512() && !__builtin_cpu_is("amd")) {
        core = "SkylakeX";
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        core = "Haswell";
    }
    if (core == NULL) return;
    char *given = requested != NULL ? strdup(requested) : NULL;
    if (given != NULL) {
        // OpenBLAS would die of an illegal instruction on its first GEMM.
        fprintf(stderr, "attnchat: OPENBLAS_CORETYPE=%s needs AVX-512, which this CPU lacks; using %s kernels\n",
                given, core);
    }
    setenv("OPENBLAS_CORETYPE", core, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    // Child processes (tests, scripts) should see the environment they were given.
    if (given != NULL) {
        setenv("OPENBLAS_CORETYPE", given, 1);
        free(given);
    } else {
        unsetenv("OPENBLAS_CORETYPE");
    }
}

const char *attnchat_blas_core_name(void) {
    // openblas_get_corename() compares `gotoblas` with every family's table in turn, so with the
    // other families aliased to these two it would answer with the first alias ("Prescott").
    if (gotoblas == (void *)gotoblas_SKYLAKEX) return "SkylakeX";
    if (gotoblas == (void *)gotoblas_HASWELL) return "Haswell";
    return openblas_get_corename();
}
