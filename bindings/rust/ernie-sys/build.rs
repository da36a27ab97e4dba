// Links libernie.so from the CMake build tree: ERNIE_LIB_DIR if set, else
// <repository>/build/lib. The directory is also handed to dependent crates
// (DEP_ERNIE_LIB_DIR) so their test binaries can carry it as an rpath.
use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=ERNIE_LIB_DIR");
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let dir = match env::var_os("ERNIE_LIB_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        // bindings/rust/ernie-sys -> <repository>/build/lib
        _ => manifest.join("../../../build/lib"),
    };
    let lib = dir.join("libernie.so");
    if !lib.exists() {
        panic!(
            "ernie-sys: {} not found. Build the C library first \
             (cmake -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2, \
             from the repository root) or set ERNIE_LIB_DIR to the directory holding libernie.so",
            lib.display()
        );
    }
    let dir = dir.canonicalize().expect("ernie-sys: cannot resolve the library directory");
    println!("cargo:rerun-if-changed={}", lib.display());
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=dylib=ernie");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    println!("cargo:lib_dir={}", dir.display());
}
