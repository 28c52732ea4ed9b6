//! End-to-end tests of the `yaoshi` binary: real processes, real RocksDB, real gRPC between nodes,
//! real HTTP with real signatures, and the official Python SDKs.

mod access;
mod aliases;
mod asymmetric;
mod bad_input;
mod byok;
mod certificates;
mod cluster;
mod compat;
mod datakeys;
mod forged;
mod https;
mod keyspecs;
mod lifecycle;
mod mac;
mod membership;
mod mtls;
mod paging;
mod regions;
mod restart;
mod scheduled;
mod secrets;
mod secrets_rds;
mod support;
mod tags;
mod trust;
mod versions;
