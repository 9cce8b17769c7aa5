//! Compiles `protos/` with the pure-Rust `protox`, so no system `protoc` is needed.
use prost::Message as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read at run time, not with `env!`: the compiled build script is shared by every checkout
    // that uses the same target directory, and must read the protos of the one being built.
    let root = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../protos");
    let files = [
        "restaurant/v1/order.proto",
        "restaurant/v1/events.proto",
        "restaurant/v1/orders.proto",
        "restaurant/v1/users.proto",
    ];
    let descriptors = protox::compile(files, [&root])?;

    // `compile_fds` does not write the descriptor set; reflection needs it, so we do.
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("restaurant_descriptor.bin"), descriptors.encode_to_vec())?;

    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(descriptors)?;

    // Each file by name: a directory alone is not always rescanned for edits.
    for file in files {
        println!("cargo:rerun-if-changed={}", root.join(file).display());
    }
    println!("cargo:rerun-if-changed={}", root.display());
    Ok(())
}
