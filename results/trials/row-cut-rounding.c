#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
// Does cutting the rows of C change OpenBLAS's floats? C = bias + A op(B), once whole and once in blocks of
// `blk` rows (each its own sgemm, beta 1), counting the elements that differ.
//   gcc -O2 row-cut-rounding.c -o row-cut-rounding -lopenblas
//   OPENBLAS_NUM_THREADS=1 ./row-cut-rounding M N K BLK TRANSPOSE_B   (e.g. 4096 256 64 512 1)
// On the AMD EPYC VM with OPENBLAS_CORETYPE=Haswell: 4096 256 64 512 1 -> 31401 differ; 2048 256 64 512 1 -> 12411.
int main(int argc, char** argv){
  int m=atoi(argv[1]), n=atoi(argv[2]), k=atoi(argv[3]), blk=atoi(argv[4]), tb=atoi(argv[5]);
  float *a=malloc(sizeof(float)*m*k), *b=malloc(sizeof(float)*n*k), *c1=malloc(sizeof(float)*m*n), *c2=malloc(sizeof(float)*m*n), *bias=malloc(4*n);
  srand(1); for(int i=0;i<m*k;i++) a[i]=rand()/(float)RAND_MAX-0.5f; for(int i=0;i<n*k;i++) b[i]=rand()/(float)RAND_MAX-0.5f; for(int i=0;i<n;i++) bias[i]=rand()/(float)RAND_MAX-0.5f;
  for(int r=0;r<m;r++) memcpy(c1+r*n,bias,4*n);
  memcpy(c2,c1,4*m*n);
  CBLAS_TRANSPOSE t = tb? CblasTrans: CblasNoTrans; int ldb = tb? k: n;
  cblas_sgemm(CblasRowMajor,CblasNoTrans,t,m,n,k,1,a,k,b,ldb,1,c1,n);
  for(int r0=0;r0<m;r0+=blk){int mm = r0+blk>m? m-r0: blk; cblas_sgemm(CblasRowMajor,CblasNoTrans,t,mm,n,k,1,a+r0*k,k,b,ldb,1,c2+r0*n,n);}
  int d=0; for(int i=0;i<m*n;i++) if(c1[i]!=c2[i]) d++;
  printf("m=%d n=%d k=%d blk=%d %s: %d differ\n",m,n,k,blk,tb?"NT":"NN",d);
}
