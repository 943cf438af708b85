//! The directory destination: a Conduit connector that writes each record's payload to a file
//! named by the record key, inside one configured directory.
//!
//! [`fs`] is the file-system core: key validation, atomic writes, planted-entry safety and
//! durability options.

#![deny(missing_docs)]

mod destination;
pub mod fs;

pub use destination::{DirectoryConfig, DirectoryDestination, Sync, specification};
