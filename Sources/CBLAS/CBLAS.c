// Picks OpenBLAS's kernel family for this CPU.
//
// Debian's OpenBLAS 0.3.21 (the one linked statically) does not know CPUs newer than its release,
// e.g. Sapphire Rapids, and falls back to its Prescott (SSE3) kernels: GEMM at a quarter of the
// speed. Its DYNAMIC_ARCH build chooses kernels once, in a constructor, honouring
// OPENBLAS_CORETYPE. Setting that variable from an earlier constructor is not an option: setenv
// can move `environ`, which the static Swift runtime uses to find argv. So attnchat re-runs the
// choice from main, before the first BLAS call: quit and init again with the variable set.
// A value the user or the environment set is left alone. Tests check both give the same results.
#include <stdlib.h>
#include "CBLAS.h"

void gotoblas_dynamic_init(void);
void gotoblas_dynamic_quit(void);

void attnchat_select_blas_core(void) {
    if (getenv("OPENBLAS_CORETYPE") != NULL) return;
    __builtin_cpu_init();
    const char *core = NULL;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
        core = "SkylakeX";
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        core = "Haswell";
    }
    if (core == NULL) return;
    setenv("OPENBLAS_CORETYPE", core, 0);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    // Child processes (tests, scripts) should see the environment they were given.
    unsetenv("OPENBLAS_CORETYPE");
}
