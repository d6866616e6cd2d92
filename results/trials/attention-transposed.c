// The harness behind results/trials/attention-transposed.txt: do the products of the transposed attention
// layout (Sources/Autograd/Ops+Attention.swift) give the same floats as those of the row-major one?
//   1. the score product with its operands swapped: S^T = s K Q^T against the transpose of S = s Q K^T
//      (and dA^T = V dO^T against dA = dO V^T, the same call);
//   2. a product whose left operand is read transposed: C = X Y with X stored as X^T (transposeA) against
//      X stored as is (O = A V, dV = A^T dO, dQ = s dS K, dK = s dS^T Q), beta 0 and 1, alpha 1 and 1/4.
// T = 1...130 positions, dh = 8, 16, 32, 64; rows of Q, K, V 3 dh + 5 floats apart as in a packed qkv.
//   gcc -O2 results/trials/attention-transposed.c -o /tmp/at -lopenblas
//   for c in Haswell SkylakeX Zen Prescott; do OPENBLAS_CORETYPE=$c /tmp/at; done
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static float rnd(void) { return (float)rand() / RAND_MAX * 2 - 1; }
int main(void) {
  printf("OpenBLAS %s, core %s\n", OPENBLAS_VERSION, openblas_get_corename());
  int dhs[] = {8, 16, 32, 64};
  for (int di = 0; di < 4; di++) {
    int dh = dhs[di], swapBad = 0, flipBad = 0, flipTotal = 0; char swapList[2048] = "", flipList[2048] = "";
    for (int t = 1; t <= 130; t++) {
      int ld = 3 * dh + 5, tp = (t + 7) / 8 * 8;
      float *Q = malloc(sizeof(float) * t * ld), *K = malloc(sizeof(float) * t * ld), *S = malloc(sizeof(float) * t * tp), *St = malloc(sizeof(float) * t * tp);
      for (int i = 0; i < t * ld; i++) { Q[i] = rnd(); K[i] = rnd(); }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t, t, dh, 0.25f, Q, ld, K, ld, 0, S, tp);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t, t, dh, 0.25f, K, ld, Q, ld, 0, St, tp);
      int d = 0; for (int i = 0; i < t; i++) for (int j = 0; j < t; j++) if (memcmp(&S[i * tp + j], &St[j * tp + i], 4)) d++;
      if (d) { swapBad++; if (swapBad <= 12) sprintf(swapList + strlen(swapList), " %d", t); }
      float *X = malloc(sizeof(float) * t * tp), *Xt = malloc(sizeof(float) * t * tp), *C0 = malloc(sizeof(float) * t * ld), *C1 = malloc(sizeof(float) * t * ld);
      for (int i = 0; i < t * tp; i++) X[i] = rnd();
      for (int i = 0; i < t; i++) for (int j = 0; j < t; j++) Xt[j * tp + i] = X[i * tp + j];
      float betas[] = {0, 1}, alphas[] = {1, 0.25f}; int bad = 0;
      for (int b = 0; b < 2; b++) for (int a = 0; a < 2; a++) {
        for (int i = 0; i < t * ld; i++) C0[i] = C1[i] = rnd();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t, dh, t, alphas[a], X, tp, Q, ld, betas[b], C0, ld);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, t, dh, t, alphas[a], Xt, tp, Q, ld, betas[b], C1, ld);
        for (int i = 0; i < t; i++) for (int j = 0; j < dh; j++) if (memcmp(&C0[i * ld + j], &C1[i * ld + j], 4)) { bad = 1; }
      }
      flipTotal++; if (bad) { flipBad++; if (flipBad <= 12) sprintf(flipList + strlen(flipList), " %d", t); }
      free(Q); free(K); free(S); free(St); free(X); free(Xt); free(C0); free(C1);
    }
    printf("  dh %2d: swapped score product differs at %3d of 130 T%s%s; left operand transposed differs at %3d of 130 T%s%s\n",
           dh, swapBad, swapBad ? " (first:" : "", swapBad ? strcat(swapList, ")") : "", flipBad, flipBad ? " (first:" : "", flipBad ? strcat(flipList, ")") : "");
  }
}
