// The few CBLAS and OpenBLAS entry points attnchat calls, declared here rather than through
// <cblas.h> so the build does not depend on where Debian's alternatives put that header.
// Prototypes follow the reference CBLAS interface (netlib) and OpenBLAS's extensions.
#ifndef ATTNCHAT_CBLAS_H
#define ATTNCHAT_CBLAS_H

enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112 };

/// C = alpha * op(A) * op(B) + beta * C
void cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB,
                 int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc);

/// y = alpha * op(A) * x + beta * y
void cblas_sgemv(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, int M, int N, float alpha,
                 const float *A, int lda, const float *x, int incX, float beta, float *y, int incY);

void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
/// The kernel family OpenBLAS chose at start-up (e.g. "Haswell", "SkylakeX"); honours OPENBLAS_CORETYPE.
char *openblas_get_corename(void);
char *openblas_get_config(void);

/// Re-chooses OpenBLAS's kernels for this CPU unless OPENBLAS_CORETYPE is set to a family this
/// CPU can run (see CBLAS.c). Call once, before the first BLAS call.
void attnchat_select_blas_core(void);
/// The kernel family in use, "Haswell" or "SkylakeX" (the two the shipped binary keeps), else
/// OpenBLAS's own name for it.
const char *attnchat_blas_core_name(void);

#endif
