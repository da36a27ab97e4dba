package ernie

// The build finds the header in the repository and libernie.so in the CMake
// build tree (build/lib), which is also recorded as the rpath.

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/../../build/lib -lernie -Wl,-rpath,${SRCDIR}/../../build/lib
*/
import "C"
