//! Test machinery of Dawarich Doctor, kept out of the core library: throwaway PostgreSQL clusters
//! (`cluster`), comparing databases in tests (`compare`), Dawarich databases at any release with the real failure modes (`fixtures`), one
//! shared cluster per test binary (`shared`), a throwaway OpenSSH server (`sshd`), a throwaway
//! Secret Service (`keyring`) and a `docker` command double with real effects (`docker`). Used by
//! the tests, the benchmark and the sandbox.

pub mod cluster;
pub mod compare;
pub mod docker;
pub mod fixtures;
pub mod keyring;
pub mod shared;
pub mod sshd;
