// The one C header the project uses: OpenBLAS's CBLAS interface.
// `pkgConfig: "openblas"` in Package.swift puts OpenBLAS's own include folder first,
// so this resolves to OpenBLAS's cblas.h (which also declares openblas_set_num_threads,
// openblas_get_corename, ...), not to whichever cblas.h the system alternative points at.
#include <cblas.h>
