// Trial: does a product cut into two blocks of columns of C give the same bits as the whole product?
// Row-major C[m, n] = 0.5 A[m, k] B[k, n], cut at column r; prints the columns and rows where the two differ.
//   from the repository root: gcc -O2 results/trials/split-rounding.c -o .build/split-rounding -lopenblas
//   OPENBLAS_CORETYPE=Haswell .build/split-rounding 40 200 150 96
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char** argv) {
  int m = atoi(argv[1]), n = atoi(argv[2]), k = atoi(argv[3]), r = atoi(argv[4]);
  openblas_set_num_threads(1);
  float *a = malloc(4*m*k), *b = malloc(4*k*n), *c1 = calloc(m*n,4), *c2 = calloc(m*n,4);
  srand(1); for (int i=0;i<m*k;i++) a[i]=rand()/(float)RAND_MAX-0.5f; for (int i=0;i<k*n;i++) b[i]=rand()/(float)RAND_MAX-0.5f;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 0.5f, a, k, b, n, 0, c1, n);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, r, k, 0.5f, a, k, b, n, 0, c2, n);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n-r, k, 0.5f, a, k, b + r, n, 0, c2 + r, n);
  int rows[4096] = {0}, cols[4096] = {0};
  for (int i=0;i<m;i++) for (int j=0;j<n;j++) if (c1[i*n+j]!=c2[i*n+j]) { rows[i]++; cols[j]++; }
  printf("differing columns:"); for (int j=0;j<n;j++) if (cols[j]) printf(" %d", j); printf("\n");
  printf("differing rows:"); for (int i=0;i<m;i++) if (rows[i]) printf(" %d", i); printf("\n");
}
