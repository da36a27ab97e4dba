// ernie-sys links libernie.so; this gives the crate's own test and example
// binaries an rpath to it (ernie-sys's rpath applies to its targets only), and
// tells the tests where the library was found (the ernie CLI sits beside it).
fn main() {
    let dir = std::env::var("DEP_ERNIE_LIB_DIR").expect("ernie-sys did not report its library directory");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    println!("cargo:rustc-env=ERNIE_LIB_DIR_FOUND={dir}");
}
