//! Compiles proto/raft.proto, proto/worker.proto, proto/admin.proto and
//! proto/access.proto into tonic clients and servers.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_prost_build::configure().compile_protos(
        &[
            "../../proto/raft.proto",
            "../../proto/worker.proto",
            "../../proto/admin.proto",
            "../../proto/access.proto",
        ],
        &["../../proto"],
    )?;
    Ok(())
}
